/**
 * A directory shared by the instances (NFS, a cluster file system, a volume mounted by every
 * container): one file per key (`<dir>/<prefix>/<key>`), mode 0600 in 0700 folders (they hold
 * private keys). Writes go to a temporary file first and are renamed into place, so a reader
 * never sees half a value.
 *
 * Lock files: "create only when absent" is link(2) of a complete temporary file, which fails
 * when the name exists, atomically, on local file systems and NFS alike (the classic lock-file
 * technique). Replacing or deleting a given value renames the file aside first (only one
 * instance's rename can succeed), checks what it took, and puts it back when it was not the
 * value expected. This is as safe as the file system's rename and link; a directory store is for
 * a few instances on one shared volume, a real KV store for more.
 */
import { randomBytes } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { SharedStore } from '../tls/acme/shared-store.ts';
import { StoreError } from './store-error.ts';

export class DirKv implements SharedStore {
  readonly description: string;
  readonly prefix: string;
  readonly #root: string;

  constructor(dir: string, prefix = '') {
    this.#root = dir;
    this.prefix = prefix;
    this.description = `dir:${dir}`;
  }

  async get(key: string): Promise<string | undefined> {
    return this.#read(this.#path(key));
  }

  async list(prefix: string): Promise<ReadonlyMap<string, string>> {
    const out = new Map<string, string>();
    const base = this.#path(prefix.replace(/\/+$/, ''));
    const walk = (dir: string): void => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw new StoreError(`${this.description}: ${(e as Error).message}`, { cause: e });
      }
      for (const e of entries) {
        if (e.name.startsWith('.')) continue; // temporary and set-aside files
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else {
          const v = this.#read(p);
          if (v !== undefined) out.set(relative(this.#root, p).split(sep).join('/'), v);
        }
      }
    };
    walk(base);
    return out;
  }

  async put(key: string, value: string): Promise<void> {
    const p = this.#path(key);
    const tmp = this.#temp(p, value);
    this.#try(() => renameSync(tmp, p));
  }

  async delete(key: string): Promise<void> {
    try {
      unlinkSync(this.#path(key));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new StoreError(`${this.description}: ${(e as Error).message}`, { cause: e });
    }
  }

  async compareAndSwap(key: string, expected: string | undefined, value: string): Promise<boolean> {
    const p = this.#path(key);
    if (expected !== undefined && !this.#takeIf(p, expected)) return false;
    const tmp = this.#temp(p, value);
    try {
      linkSync(tmp, p);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new StoreError(`${this.description}: ${(e as Error).message}`, { cause: e });
    } finally {
      unlinkSync(tmp);
    }
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    return this.#takeIf(this.#path(key), expected);
  }

  close(): void {}

  /** Moves the file aside when it holds `expected` (then it is gone); else leaves it. */
  #takeIf(p: string, expected: string): boolean {
    const aside = join(dirname(p), `.${randomBytes(6).toString('hex')}.taken`);
    try {
      renameSync(p, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new StoreError(`${this.description}: ${(e as Error).message}`, { cause: e });
    }
    const took = this.#read(aside);
    if (took !== expected) {
      // Someone else's value: put it back, unless a third instance has written one meanwhile.
      try {
        linkSync(aside, p);
      } catch {
        // that newer value stays
      }
      unlinkSync(aside);
      return false;
    }
    unlinkSync(aside);
    return true;
  }

  #path(key: string): string {
    const parts = key.split('/');
    if (parts.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.')))
      throw new StoreError(`${this.description}: key \`${key}\` cannot be a path in the directory`);
    return join(this.#root, ...parts);
  }

  #temp(p: string, value: string): string {
    const dir = dirname(p);
    const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
    this.#try(() => {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(tmp, value, { mode: 0o600, flag: 'wx', flush: true });
    });
    return tmp;
  }

  #read(p: string): string | undefined {
    try {
      return readFileSync(p, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') return undefined;
      throw new StoreError(`${this.description}: ${(e as Error).message}`, { cause: e });
    }
  }

  #try(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      throw new StoreError(`${this.description}: ${(e as Error).message}`, { cause: e });
    }
  }
}
