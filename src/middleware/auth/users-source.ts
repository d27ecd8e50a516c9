import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../../core/logger.ts';

/** Splits a user line into its lookup key and its secret; an error message when malformed. */
export type UserParser = (line: string) => readonly [key: string, secret: string] | string;

/**
 * The users of basicAuth and digestAuth: the lines of `usersFile` (trimmed; blank lines and `#`
 * comments skipped), then `users`, a later line winning for the same name (Traefik's getUsers).
 * Built once per configuration (a shared object, kept across reloads that keep the settings);
 * once live, the file is watched and re-read when it changes. A file that no longer reads or
 * parses keeps the previous users (and says why in the log).
 */
export class UsersSource {
  users: ReadonlyMap<string, string>;
  /** Set when the first read failed: the middleware is not built. */
  readonly error: string | undefined;
  /** Times the file was read again after a change (for tests and the log). */
  reloads = 0;
  readonly #file: string | undefined;
  readonly #inline: readonly string[];
  readonly #parse: UserParser;
  readonly #logger: Logger;
  readonly #name: string;
  readonly #onReload: (() => void) | undefined;
  #watcher: FSWatcher | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    file: string | undefined,
    inline: readonly string[],
    parse: UserParser,
    logger: Logger,
    name: string,
    onReload?: () => void,
  ) {
    this.#file = file;
    this.#inline = inline;
    this.#parse = parse;
    this.#logger = logger;
    this.#name = name;
    this.#onReload = onReload;
    const r = this.#load();
    this.users = typeof r === 'string' ? new Map() : r;
    this.error = typeof r === 'string' ? r : undefined;
  }

  #load(): Map<string, string> | string {
    const lines: string[] = [];
    if (this.#file !== undefined) {
      let text: string;
      try {
        text = readFileSync(this.#file, 'utf8');
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        return `cannot read usersFile ${JSON.stringify(this.#file)}: ${typeof code === 'string' ? code : String(e)}`;
      }
      for (const raw of text.split('\n')) {
        const line = raw.trim();
        if (line !== '' && !line.startsWith('#')) lines.push(line);
      }
    }
    lines.push(...this.#inline);
    const users = new Map<string, string>();
    for (const line of lines) {
      const r = this.#parse(line);
      if (typeof r === 'string') return r;
      users.set(r[0], r[1]);
    }
    return users;
  }

  /** Called after each swap that uses this object: starts watching the file (once). */
  start(): void {
    const file = this.#file;
    if (file === undefined || this.#watcher !== null) return;
    const name = basename(file);
    try {
      // The folder, not the file: editors and config tools replace files by renaming over them,
      // which ends a watch on the file itself.
      this.#watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name) this.#schedule();
      });
      this.#watcher.on('error', () => this.#stopWatching());
    } catch (e) {
      this.#logger.warn('cannot watch usersFile', { middleware: this.#name, file, error: String(e) });
    }
  }

  #schedule(): void {
    if (this.#timer !== null) return;
    // One re-read per burst of events (a write often comes as several).
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.reload();
    }, 50);
    this.#timer.unref();
  }

  /** Reads the file again; keeps the current users when it fails. */
  reload(): void {
    const r = this.#load();
    if (typeof r === 'string') {
      this.#logger.error('usersFile not reloaded', { middleware: this.#name, error: r });
      return;
    }
    this.users = r;
    this.reloads++;
    this.#logger.info('usersFile reloaded', { middleware: this.#name, users: r.size });
    this.#onReload?.();
  }

  #stopWatching(): void {
    this.#watcher?.close();
    this.#watcher = null;
  }

  close(): void {
    this.#stopWatching();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
