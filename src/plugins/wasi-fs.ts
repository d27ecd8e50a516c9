import {
  type BigIntStats,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  rmdirSync,
  type Stats,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

/*
 * Traefik's `settings.mounts` (pkg/plugins/types.go Settings.Mounts): host directories a
 * WebAssembly guest sees as WASI preopens, as middlewarewasm.go buildMiddleware gives them to
 * wazero (FSConfig WithDirMount / WithReadOnlyDirMount). Here on node:fs, confined: a guest path
 * never leads outside its mount, neither by `..` nor by a symbolic link.
 */

/** One mount: the host directory (its real path), the guest's name for it, read-only or not. */
export interface Mount {
  readonly host: string;
  readonly guest: string;
  readonly readOnly: boolean;
}

/**
 * Traefik's entry format (middlewarewasm.go buildMiddleware): `host[:guest][:ro]`; a `:ro` suffix
 * makes it read-only, one part mounts the host path under the same guest path, more than two is
 * "invalid directory". A relative host path is the process's working directory's, as wazero's
 * DirFS opens it. Entries with the same guest path (wazero's StripPrefixesAndTrailingSlash): the
 * later replaces the earlier in its place (fsConfig.withMount). The host directory must exist.
 */
export function parseMounts(entries: readonly string[], cwd = process.cwd()): Mount[] | string {
  const out: Mount[] = [];
  const index = new Map<string, number>();
  for (const entry of entries) {
    const readOnly = entry.endsWith(':ro');
    const parts = (readOnly ? entry.slice(0, -3) : entry).split(':');
    if (parts.length > 2) return `invalid directory ${JSON.stringify(entry)}`;
    const host = parts[0]!;
    const guest = parts[1] ?? host;
    let real: string;
    try {
      real = realpathSync(resolve(cwd, host));
      if (!statSync(real).isDirectory()) return `mount ${JSON.stringify(entry)}: ${host} is not a directory`;
    } catch (e) {
      return `mount ${JSON.stringify(entry)}: ${(e as Error).message}`;
    }
    const m: Mount = { host: real, guest, readOnly };
    const key = guest.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, '');
    const at = index.get(key);
    if (at === undefined) {
      index.set(key, out.length);
      out.push(m);
    } else out[at] = m;
  }
  return out;
}

// WASI preview1 errno values (wasi_snapshot_preview1.witx).
export const E = {
  SUCCESS: 0,
  ACCES: 2,
  BADF: 8,
  EXIST: 20,
  INVAL: 28,
  IO: 29,
  ISDIR: 31,
  LOOP: 32,
  NAMETOOLONG: 37,
  NOENT: 44,
  NOSPC: 51,
  NOTDIR: 54,
  NOTEMPTY: 55,
  NOTSUP: 58,
  PERM: 63,
  ROFS: 69,
  NOTCAPABLE: 76,
} as const;

const NODE_ERRNO: Record<string, number> = {
  EACCES: E.ACCES,
  EBADF: E.BADF,
  EEXIST: E.EXIST,
  EINVAL: E.INVAL,
  EISDIR: E.ISDIR,
  ELOOP: E.LOOP,
  ENAMETOOLONG: E.NAMETOOLONG,
  ENOENT: E.NOENT,
  ENOSPC: E.NOSPC,
  ENOTDIR: E.NOTDIR,
  ENOTEMPTY: E.NOTEMPTY,
  EPERM: E.PERM,
  EROFS: E.ROFS,
};

/** A node:fs error as a WASI errno. */
export function errnoOf(e: unknown): number {
  const code = (e as NodeJS.ErrnoException)?.code;
  return (code !== undefined && NODE_ERRNO[code]) || E.IO;
}

/** A WASI error carried out of the resolution. */
class WasiError extends Error {
  readonly errno: number;
  constructor(errno: number) {
    super(`errno ${errno}`);
    this.errno = errno;
  }
}

const fail = (errno: number): never => {
  throw new WasiError(errno);
};

/** `p` (a real path) is `root` or under it. */
function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The host path of `path` relative to the directory `dir` (a host path inside `root`, the
 * mount's real path): absolute paths and `..` leaving the mount are ENOTCAPABLE, as are symbolic
 * links leading outside it (every link on the way is followed and checked; the last one only
 * when `follow`). What is returned is a real path inside the mount, or (the last component
 * missing, or a link not followed) a real parent inside the mount joined with a plain name.
 */
export function confine(root: string, dir: string, path: string, follow: boolean): string {
  if (path.includes('\0')) fail(E.INVAL);
  if (path.startsWith('/') || isAbsolute(path)) fail(E.NOTCAPABLE);
  // Lexically first: where the guest path leads from dir, never above the mount's root.
  const rel = dir === root ? [] : dir.slice(root.length + 1).split(sep);
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (rel.length === 0) fail(E.NOTCAPABLE);
      rel.pop();
    } else rel.push(seg);
  }
  if (rel.length === 0) return root;
  // Then the real path of the parent (links followed) must still be in the mount.
  const base = rel.pop()!;
  let parent: string;
  try {
    parent = realpathSync(join(root, ...rel));
  } catch (e) {
    return fail(errnoOf(e));
  }
  if (!inside(root, parent)) fail(E.NOTCAPABLE);
  const full = join(parent, base);
  let st: Stats;
  try {
    st = lstatSync(full);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return full;
    return fail(errnoOf(e));
  }
  if (!st.isSymbolicLink() || !follow) return full;
  let real: string;
  try {
    real = realpathSync(full);
  } catch (e) {
    // A dangling link: creating through it could create outside the mount.
    return fail((e as NodeJS.ErrnoException).code === 'ENOENT' ? E.NOENT : errnoOf(e));
  }
  if (!inside(root, real)) fail(E.NOTCAPABLE);
  return real;
}

const FILETYPE_DIRECTORY = 3;
const FILETYPE_REGULAR = 4;
const FILETYPE_SYMLINK = 7;
const FILETYPE_UNKNOWN = 0;

function filetype(st: { isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }): number {
  if (st.isDirectory()) return FILETYPE_DIRECTORY;
  if (st.isFile()) return FILETYPE_REGULAR;
  if (st.isSymbolicLink()) return FILETYPE_SYMLINK;
  return FILETYPE_UNKNOWN;
}

// path_open's oflags and fdflags, and the right that asks for writing.
const O_CREAT = 1;
const O_DIRECTORY = 2;
const O_EXCL = 4;
const O_TRUNC = 8;
const FDFLAG_APPEND = 1;
const RIGHT_FD_WRITE = 1n << 6n;
const LOOKUP_SYMLINK_FOLLOW = 1;
/** Every right (wazero grants all of them; rights are not enforced by preview1 runtimes). */
const ALL_RIGHTS = (1n << 30n) - 1n;

interface OpenDir {
  readonly kind: 'dir';
  readonly mount: Mount;
  readonly path: string;
  readonly preopen: boolean;
}
interface OpenFile {
  readonly kind: 'file';
  readonly mount: Mount;
  readonly path: string;
  readonly fd: number;
  readonly write: boolean;
  readonly read: boolean;
  readonly append: boolean;
  pos: number;
}
type Open = OpenDir | OpenFile;

/** The file descriptors of one guest instance: its preopens from 3, then what it opens. */
export class WasiFs {
  readonly #fds = new Map<number, Open>();
  readonly #names = new Map<number, Buffer>();
  #next: number;

  constructor(mounts: readonly Mount[]) {
    let fd = 3;
    for (const m of mounts) {
      this.#fds.set(fd, { kind: 'dir', mount: m, path: m.host, preopen: true });
      this.#names.set(fd, Buffer.from(m.guest));
      fd++;
    }
    this.#next = fd;
  }

  /** The guest name of a preopen, or null when `fd` is not one. */
  prestat(fd: number): Buffer | null {
    return this.#names.get(fd) ?? null;
  }

  get(fd: number): Open | undefined {
    return this.#fds.get(fd);
  }

  /** path_open: the new fd, or an errno (negative). */
  open(dirFd: number, lookup: number, path: string, oflags: number, rights: bigint, fdflags: number): number {
    const d = this.#fds.get(dirFd);
    if (d === undefined) return -E.BADF;
    if (d.kind !== 'dir') return -E.NOTDIR;
    const { mount } = d;
    const write = (rights & RIGHT_FD_WRITE) !== 0n || (oflags & (O_CREAT | O_TRUNC)) !== 0;
    const append = (fdflags & FDFLAG_APPEND) !== 0;
    // wazero's read-only mount (sysfs.NewReadFS): anything that writes is EROFS.
    if (mount.readOnly && (write || append)) return -E.ROFS;
    let full: string;
    try {
      full = confine(mount.host, d.path, path, (lookup & LOOKUP_SYMLINK_FOLLOW) !== 0);
    } catch (e) {
      return -(e instanceof WasiError ? e.errno : errnoOf(e));
    }
    let st: Stats | undefined;
    try {
      st = statSync(full);
    } catch {
      st = undefined;
    }
    if (st?.isDirectory()) {
      if (write || append) return -E.ISDIR;
      if ((oflags & O_CREAT) !== 0 && (oflags & O_EXCL) !== 0) return -E.EXIST;
      return this.#add({ kind: 'dir', mount, path: full, preopen: false });
    }
    if ((oflags & O_DIRECTORY) !== 0) return -(st === undefined ? E.NOENT : E.NOTDIR);
    const read = !write || (rights & 2n) !== 0n; // FD_READ
    let flags = constants.O_NOFOLLOW;
    flags |= write ? (read ? constants.O_RDWR : constants.O_WRONLY) : constants.O_RDONLY;
    if ((oflags & O_CREAT) !== 0) flags |= constants.O_CREAT;
    if ((oflags & O_EXCL) !== 0) flags |= constants.O_EXCL;
    if ((oflags & O_TRUNC) !== 0) flags |= constants.O_TRUNC;
    if (append) flags |= constants.O_APPEND;
    let fd: number;
    try {
      fd = openSync(full, flags, 0o666);
    } catch (e) {
      return -errnoOf(e);
    }
    return this.#add({ kind: 'file', mount, path: full, fd, write, read, append, pos: 0 });
  }

  #add(o: Open): number {
    const fd = this.#next++;
    this.#fds.set(fd, o);
    return fd;
  }

  close(fd: number): number {
    const o = this.#fds.get(fd);
    if (o === undefined) return E.BADF;
    // wazero's FSContext.CloseFile: a preopen is not closed.
    if (o.kind === 'dir' && o.preopen) return E.NOTSUP;
    this.#fds.delete(fd);
    if (o.kind === 'file') closeSync(o.fd);
    return E.SUCCESS;
  }

  /** Closes every file (the guest instance is dropped). */
  closeAll(): void {
    for (const o of this.#fds.values()) {
      if (o.kind === 'file') {
        try {
          closeSync(o.fd);
        } catch {
          // already gone
        }
      }
    }
    this.#fds.clear();
  }

  read(f: OpenFile, into: Buffer): number {
    if (!f.read) return -E.BADF;
    try {
      const n = readSync(f.fd, into, 0, into.length, f.pos);
      f.pos += n;
      return n;
    } catch (e) {
      return -errnoOf(e);
    }
  }

  write(f: OpenFile, from: Buffer): number {
    if (!f.write) return -E.BADF;
    try {
      const n = writeSync(f.fd, from, 0, from.length, f.append ? null : f.pos);
      f.pos = f.append ? fstatSync(f.fd).size : f.pos + n;
      return n;
    } catch (e) {
      return -errnoOf(e);
    }
  }

  /** fd_seek: the new offset, or an errno (negative). */
  seek(f: OpenFile, offset: bigint, whence: number): number {
    let base: number;
    if (whence === 0) base = 0;
    else if (whence === 1) base = f.pos;
    else if (whence === 2) base = fstatSync(f.fd).size;
    else return -E.INVAL;
    const to = base + Number(offset);
    if (!Number.isSafeInteger(to) || to < 0) return -E.INVAL;
    f.pos = to;
    return to;
  }

  /** The stat of an open fd (nanosecond times). */
  stat(o: Open): BigIntStats {
    return o.kind === 'file' ? fstatSync(o.fd, { bigint: true }) : statSync(o.path, { bigint: true });
  }

  /** path_filestat_get: the stat, or an errno. */
  pathStat(dirFd: number, lookup: number, path: string): BigIntStats | number {
    const d = this.#fds.get(dirFd);
    if (d === undefined) return E.BADF;
    if (d.kind !== 'dir') return E.NOTDIR;
    try {
      const follow = (lookup & LOOKUP_SYMLINK_FOLLOW) !== 0;
      const full = confine(d.mount.host, d.path, path, follow);
      return follow ? statSync(full, { bigint: true }) : lstatSync(full, { bigint: true });
    } catch (e) {
      return e instanceof WasiError ? e.errno : errnoOf(e);
    }
  }

  /** path_create_directory, path_unlink_file, path_remove_directory on a writable mount. */
  change(dirFd: number, path: string, op: 'mkdir' | 'unlink' | 'rmdir'): number {
    const d = this.#fds.get(dirFd);
    if (d === undefined) return E.BADF;
    if (d.kind !== 'dir') return E.NOTDIR;
    if (d.mount.readOnly) return E.ROFS;
    try {
      const full = confine(d.mount.host, d.path, path, false);
      if (full === d.mount.host) return op === 'mkdir' ? E.EXIST : E.NOTCAPABLE;
      if (op === 'mkdir') mkdirSync(full);
      else if (op === 'unlink') unlinkSync(full);
      else rmdirSync(full);
      return E.SUCCESS;
    } catch (e) {
      return e instanceof WasiError ? e.errno : errnoOf(e);
    }
  }

  /** fd_readdir's entries of a directory: ".", ".." then its own, as wazero lists them. */
  entries(d: OpenDir): { name: Buffer; ino: bigint; type: number }[] {
    const self = statSync(d.path, { bigint: true });
    const out = [
      { name: Buffer.from('.'), ino: self.ino, type: FILETYPE_DIRECTORY },
      { name: Buffer.from('..'), ino: 0n, type: FILETYPE_DIRECTORY },
    ];
    for (const e of readdirSync(d.path, { withFileTypes: true })) {
      let ino = 0n;
      try {
        ino = lstatSync(join(d.path, e.name), { bigint: true }).ino;
      } catch {
        // removed meanwhile
      }
      out.push({ name: Buffer.from(e.name), ino, type: filetype(e) });
    }
    return out;
  }
}

/** WASI's fdstat of an open fd: filetype, flags, and every right. */
export function fdstatOf(o: Open): { type: number; flags: number; rights: bigint } {
  return {
    type: o.kind === 'dir' ? FILETYPE_DIRECTORY : FILETYPE_REGULAR,
    flags: o.kind === 'file' && o.append ? FDFLAG_APPEND : 0,
    rights: ALL_RIGHTS,
  };
}

export { filetype, type Open, type OpenDir, type OpenFile };
