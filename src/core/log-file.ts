/**
 * `log.filePath`: the application log in a file, rotated as Traefik's lumberjack writer rotates it
 * (cmd/traefik/logger.go getLogWriter; gopkg.in/natefinch/lumberjack.v2):
 *
 * - the file is opened for appending, its folder made first (mode 0755);
 * - once a line would take it past `maxSize` megabytes (0: lumberjack's 100), it is renamed
 *   `<name>-<UTC time, 2006-01-02T15-04-05.000><ext>` beside itself and a new file is started;
 * - rotated files are gzipped (Traefik sets `Compress: true` whatever `log.compress` says), and
 *   those beyond the `maxBackups` newest or older than `maxAge` days are removed (0: no limit).
 *
 * Lines are written synchronously, whole, with O_APPEND, like the stderr logger's. Several
 * processes may write one file (data-plane workers): only the owner rotates, and every writer
 * looks at most once a second whether the path still names its file (renamed by the owner, or by
 * logrotate) and reopens it if not.
 */
import {
  closeSync,
  createReadStream,
  createWriteStream,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

export interface LogFileOptions {
  readonly path: string;
  /** Megabytes; 0 = lumberjack's default, 100. */
  readonly maxSizeMb: number;
  /** Rotated files kept; 0 = all. */
  readonly maxBackups: number;
  /** Days a rotated file is kept; 0 = no limit. */
  readonly maxAgeDays: number;
  /** Whether this process rotates (the control plane, or the only process). */
  readonly owner: boolean;
  /** Where a failure of rotation or compression is told (never thrown into a log call). */
  readonly onError?: (message: string) => void;
  readonly now?: () => number;
}

const MB = 1024 * 1024;
const CHECK_EVERY_MS = 1000;

export class LogFile {
  readonly #o: LogFileOptions;
  readonly #max: number;
  readonly #now: () => number;
  #fd: number;
  #ino: number;
  #size: number;
  #checkedAt: number;

  constructor(o: LogFileOptions) {
    this.#o = o;
    this.#max = (o.maxSizeMb > 0 ? o.maxSizeMb : 100) * MB;
    this.#now = o.now ?? Date.now;
    mkdirSync(dirname(o.path), { recursive: true, mode: 0o755 });
    this.#fd = openSync(o.path, 'a', 0o644);
    const st = fstatSync(this.#fd);
    this.#ino = st.ino;
    this.#size = st.size;
    this.#checkedAt = this.#now();
  }

  /** Writes one line (with its newline), rotating or reopening first when due. */
  write = (line: string): void => {
    const now = this.#now();
    if (now - this.#checkedAt >= CHECK_EVERY_MS) this.#check(now);
    const bytes = Buffer.byteLength(line);
    if (this.#o.owner && this.#size > 0 && this.#size + bytes > this.#max) this.#rotate(now);
    try {
      writeSync(this.#fd, line);
      this.#size += bytes;
    } catch (e) {
      this.#o.onError?.(`log file ${this.#o.path}: ${(e as Error).message}`);
    }
  };

  close(): void {
    closeSync(this.#fd);
  }

  /** Does the path still name our file? Also picks up what other writers added to its size. */
  #check(now: number): void {
    this.#checkedAt = now;
    let ino = -1;
    try {
      ino = statSync(this.#o.path).ino;
    } catch {
      // Gone (moved away by logrotate, or by the owner in between): start it again.
    }
    if (ino !== this.#ino) {
      this.#reopen();
      return;
    }
    this.#size = fstatSync(this.#fd).size;
  }

  #reopen(): void {
    try {
      const fd = openSync(this.#o.path, 'a', 0o644);
      closeSync(this.#fd);
      this.#fd = fd;
      const st = fstatSync(fd);
      this.#ino = st.ino;
      this.#size = st.size;
    } catch (e) {
      // Keep writing to the old file rather than lose lines.
      this.#o.onError?.(`log file ${this.#o.path}: cannot reopen: ${(e as Error).message}`);
    }
  }

  #rotate(now: number): void {
    const backup = backupName(this.#o.path, now);
    try {
      renameSync(this.#o.path, backup);
    } catch (e) {
      this.#o.onError?.(`log file ${this.#o.path}: cannot rotate: ${(e as Error).message}`);
      return;
    }
    this.#reopen();
    void this.#compressAndPrune(backup, now);
  }

  async #compressAndPrune(backup: string, now: number): Promise<void> {
    try {
      // Loaded at the first rotation: a proxy that never rotates its log never loads zlib for it.
      const [{ pipeline }, { createGzip }] = await Promise.all([
        import('node:stream/promises'),
        import('node:zlib'),
      ]);
      await pipeline(
        createReadStream(backup),
        createGzip(),
        createWriteStream(`${backup}.gz`, { mode: 0o644 }),
      );
      unlinkSync(backup);
    } catch (e) {
      this.#o.onError?.(`log file ${backup}: cannot compress: ${(e as Error).message}`);
    }
    try {
      for (const old of prunable(this.#o.path, this.#o.maxBackups, this.#o.maxAgeDays, now)) unlinkSync(old);
    } catch (e) {
      this.#o.onError?.(`log file ${this.#o.path}: cannot remove old files: ${(e as Error).message}`);
    }
  }
}

/** lumberjack's backupName: `<name>-2006-01-02T15-04-05.000<ext>`, UTC. */
export function backupName(path: string, now: number): string {
  const ext = extname(path);
  const stem = basename(path, ext);
  const t = new Date(now).toISOString().replace(/:/g, '-').replace('Z', '');
  return join(dirname(path), `${stem}-${t}${ext}`);
}

/** The rotated files of `path` to remove: beyond the `maxBackups` newest, or older than `maxAgeDays`. */
export function prunable(path: string, maxBackups: number, maxAgeDays: number, now: number): string[] {
  const ext = extname(path);
  const stem = basename(path, ext);
  const dir = dirname(path);
  const stamp = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})$/;
  const backups: { file: string; time: number }[] = [];
  for (const f of readdirSync(dir)) {
    const rest = f.endsWith(`${ext}.gz`)
      ? f.slice(0, -`${ext}.gz`.length)
      : f.endsWith(ext)
        ? f.slice(0, -ext.length)
        : null;
    if (rest === null || !rest.startsWith(`${stem}-`)) continue;
    const m = stamp.exec(rest.slice(stem.length + 1));
    if (m === null) continue;
    const [, y, mo, d, h, mi, s, ms] = m.map(Number) as number[];
    backups.push({ file: join(dir, f), time: Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms!) });
  }
  backups.sort((a, b) => b.time - a.time);
  const out: string[] = [];
  backups.forEach((b, i) => {
    const tooMany = maxBackups > 0 && i >= maxBackups;
    const tooOld = maxAgeDays > 0 && now - b.time > maxAgeDays * 86_400_000;
    if (tooMany || tooOld) out.push(b.file);
  });
  return out;
}
