import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DynamicConfig } from '../config/dynamic/schema.ts';
import type { Logger } from '../core/logger.ts';

export interface CertFileWatchOptions {
  /** Quiet time after a folder event before the files are compared. */
  readonly delayMs?: number;
  /** After each comparison, with whether a certificate or key changed (tests wait on it). */
  readonly onScan?: (changed: boolean) => void;
}

/**
 * Certificate and key files named by the dynamic configuration are watched: a certificate
 * replaced on disk (renewed by certbot, rotated by a secret manager) is read again and served to
 * new handshakes without a restart; the configuration file itself does not change. The folders
 * are watched (renames replace files), and a rebuild is asked for only when one of the named
 * files' contents changed: the configuration files often live in the same folder, and their
 * own changes are applied by the file provider, once.
 */
export class CertFileWatch {
  readonly #onChange: () => void;
  readonly #logger: Logger;
  readonly #delayMs: number;
  readonly #onScan: ((changed: boolean) => void) | undefined;
  readonly #watchers = new Map<string, FSWatcher>();
  /** Each watched file's content digest ('' when it cannot be read). */
  #digests = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(onChange: () => void, logger: Logger, opts: CertFileWatchOptions = {}) {
    this.#onChange = onChange;
    this.#logger = logger;
    this.#delayMs = opts.delayMs ?? 100;
    this.#onScan = opts.onScan;
  }

  /** Watches the files `config` names (inline PEM is not a file), and no others. */
  follow(config: DynamicConfig): void {
    const files = new Set<string>();
    const add = (f: string | undefined) => {
      if (f !== undefined && !f.includes('-----BEGIN ')) files.add(resolve(f));
    };
    for (const c of config.tls.certificates) {
      add(c.certFile);
      add(c.keyFile);
    }
    const d = config.tls.stores['default']?.defaultCertificate;
    add(d?.certFile);
    add(d?.keyFile);
    const digests = new Map<string, string>();
    for (const f of files) digests.set(f, this.#digests.get(f) ?? digestOf(f));
    this.#digests = digests;
    const dirs = new Set([...files].map((f) => dirname(f)));
    for (const [dir, w] of this.#watchers) {
      if (!dirs.has(dir)) {
        w.close();
        this.#watchers.delete(dir);
      }
    }
    for (const dir of dirs) {
      if (this.#watchers.has(dir)) continue;
      try {
        const w = watch(dir, () => this.#event());
        w.on('error', () => {});
        this.#watchers.set(dir, w);
      } catch (e) {
        this.#logger.warn('cannot watch certificate folder', { folder: dir, error: String(e) });
      }
    }
  }

  #event(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#compare(), this.#delayMs);
    this.#timer.unref();
  }

  #compare(): void {
    let changed = false;
    for (const [f, before] of this.#digests) {
      const now = digestOf(f);
      if (now === before) continue;
      this.#digests.set(f, now);
      changed = true;
    }
    if (changed) this.#onChange();
    this.#onScan?.(changed);
  }

  close(): void {
    clearTimeout(this.#timer);
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }
}

function digestOf(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return '';
  }
}
