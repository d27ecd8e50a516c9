import { createHash } from 'node:crypto';
import { type FSWatcher, watch as fsWatch, statSync } from 'node:fs';
import { loadModule } from '../../core/lazy-module.ts';
import type { Logger } from '../../core/logger.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { Coalescer } from './coalescer.ts';
import {
  type FileSources,
  type FileValidation,
  type LoadedUpdate,
  type ReadResult,
  readSources,
  watchTargets,
} from './read-sources.ts';

/**
 * Parses and validates what was read. The proxy does it in the configuration process
 * (config-process/client.ts `validateFilesInChild`), so that it never loads `zod` and `yaml`;
 * without one, it is done here (validate-sources.ts, loaded on first use).
 */
export type FileValidator = (
  read: ReadResult,
  validation: FileValidation,
) => LoadedUpdate | Promise<LoadedUpdate>;

const validateHere: FileValidator = (read, validation) =>
  loadModule<typeof import('./validate-sources.ts')>(import.meta.url, './validate-sources.ts').updateFrom(
    read,
    validation,
  );

export interface FileProviderOptions extends FileSources, FileValidation {
  readonly watch: boolean;
  /**
   * How long after a file event the files are read again: editors write in several steps.
   * Further events do not postpone it (see Coalescer).
   */
  readonly debounceMs?: number;
  /** How often to retry watching a folder that does not exist (yet). */
  readonly retryMs?: number;
  /** Called after every re-read, with whether it produced an update (debug logs, tests). */
  readonly onScan?: (changed: boolean) => void;
  /** Where the files are parsed and validated (FileValidator); absent = in this process. */
  readonly validate?: FileValidator;
  /** For `debugLogGeneratedTemplate`'s debug lines. */
  readonly logger?: Logger;
}

/** Wakes the watch loop; notifications while it is busy coalesce into one. */
class Wake {
  #pending = false;
  #resolve: (() => void) | undefined;

  notify(): void {
    const resolve = this.#resolve;
    this.#resolve = undefined;
    if (resolve) resolve();
    else this.#pending = true;
  }

  wait(): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }
}

/**
 * Traefik's file provider: one file, or every `*.yml`/`*.yaml`/`*.toml` of a folder and its
 * subfolders (in name order); the static file only when it is one of those, and then its dynamic
 * sections only. The folder holding each file is watched, not the file, so that an atomic rename
 * over the file (what editors and `mv` do) is seen.
 */
export class FileProvider implements Provider {
  readonly name = 'file';
  readonly #opts: FileProviderOptions;

  constructor(opts: FileProviderOptions) {
    this.#opts = opts;
  }

  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate> {
    return this.#run(signal);
  }

  async *#run(signal: AbortSignal): AsyncGenerator<ProviderUpdate, void, undefined> {
    if (signal.aborted) return;
    const opts = this.#opts;
    let lastInput: string | undefined;
    let lastOutput: string | undefined;
    const validate = opts.validate ?? validateHere;
    /**
     * The update for the files as they are now, or undefined when nothing changed. Never two at
     * once: the watch loop awaits each, and the events of a change during one wake it once more.
     */
    const load = async (): Promise<ProviderUpdate | undefined> => {
      try {
        return await reload();
      } catch (e) {
        // A bug in reading or checking must not end the watch loop: hot reload would stop for
        // good. Report it like any rejected update; the next change is read again. A
        // configuration process that timed out (config-process/client.ts) is asked again only
        // when the files change: the same input would hang another child for as long.
        const timedOut = (e as { code?: unknown } | null)?.code === 'CONFIG_PROCESS_TIMEOUT';
        if (!timedOut) lastInput = undefined;
        lastOutput = undefined;
        const why = e instanceof Error ? e.message : String(e);
        const message = `cannot load the configuration (${timedOut ? why : `internal error: ${why}`})`;
        return { config: undefined, issues: [{ severity: 'error', message, path: [] }] };
      }
    };
    /** The last read was torn (ScannedSources.torn): read again soon, whatever the events say. */
    let tornRead = false;
    const reload = async (): Promise<ProviderUpdate | undefined> => {
      const read = readSources(opts);
      // A folder changing under the read is not one view of it: applied, it would serve a state
      // nobody wrote, and keep serving it if the folder itself goes next (a deploy replacing the
      // folder: a file removed, then the folder). Watching, read again once the change is over.
      if (read.torn && opts.watch) {
        tornRead = true;
        return undefined;
      }
      const input = digest([read.texts, read.issues]);
      if (input === lastInput) return undefined;
      lastInput = input;
      const { rendered, ...update } = await validate({ texts: read.texts, issues: read.issues }, opts);
      // Traefik's file provider with debugLogGeneratedTemplate (CreateConfiguration): each file's
      // text and what its template rendered, at debug level, every time the files are read.
      if (rendered !== undefined && opts.logger !== undefined) logRendered(opts.logger, read.texts, rendered);
      const output = digest(update);
      if (output === lastOutput) return undefined;
      lastOutput = output;
      return update;
    };

    const first = await load();
    if (first) yield first;
    if (!opts.watch || signal.aborted) return;

    const wake = new Wake();
    const debounceMs = opts.debounceMs ?? 100;
    const retryMs = opts.retryMs ?? 1000;
    const targets = watchTargets(opts);
    const watchers = new Map<string, FSWatcher>();
    const inodes = new Map<string, number | undefined>();
    let retry: NodeJS.Timeout | undefined;
    const coalescer = new Coalescer(debounceMs, () => wake.notify());
    // Runs on abort even while the consumer holds us suspended at a `yield` and never calls
    // next() again: open watchers would otherwise keep the process alive.
    const stop = (): void => {
      coalescer.cancel();
      if (retry) clearTimeout(retry);
      retry = undefined;
      for (const w of watchers.values()) w.close();
      watchers.clear();
      wake.notify();
    };
    signal.addEventListener('abort', stop, { once: true });
    const schedule = (): void => {
      if (!signal.aborted) coalescer.notify();
    };
    const ensureWatchers = (): void => {
      let missing = false;
      for (const dir of targets.keys()) {
        if (watchers.has(dir)) continue;
        try {
          // Every event in the folder triggers a rescan, not only those naming our files: a
          // symlink swap (Kubernetes ConfigMap volumes rename `..data`) or the folder's own
          // removal name something else. The content hash drops rescans that change nothing.
          const w = fsWatch(dir, { persistent: true }, () => schedule());
          inodes.set(dir, inodeOf(dir));
          // The folder itself went away (or another watch error): watch it again once it is back.
          w.on('error', () => {
            w.close();
            watchers.delete(dir);
            schedule();
          });
          watchers.set(dir, w);
        } catch {
          missing = true;
        }
      }
      if (missing && retry === undefined) {
        retry = setTimeout(() => {
          retry = undefined;
          wake.notify();
        }, retryMs);
      }
    };

    try {
      ensureWatchers();
      // A change between the first read and the watch start would otherwise go unseen.
      schedule();
      while (!signal.aborted) {
        await wake.wait();
        if (signal.aborted) break;
        // A folder removed (and maybe re-created) leaves its watcher silent for good: drop
        // watchers whose folder is gone or is another folder now, and watch again.
        for (const [dir, w] of watchers) {
          if (inodeOf(dir) !== inodes.get(dir)) {
            w.close();
            watchers.delete(dir);
          }
        }
        ensureWatchers();
        const update = await load();
        opts.onScan?.(update !== undefined);
        if (tornRead) {
          tornRead = false;
          schedule();
        }
        if (update) yield update;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      stop();
    }
  }
}

function logRendered(
  logger: Logger,
  texts: readonly { readonly file: string; readonly text: string }[],
  rendered: readonly { readonly file: string; readonly text: string }[],
): void {
  for (const r of rendered) {
    const content = texts.find((t) => t.file === r.file)?.text;
    logger.debug('Template content', { providerName: 'file', file: r.file, content: content ?? '' });
    logger.debug('Rendering results', { providerName: 'file', file: r.file, content: r.text });
  }
}

function inodeOf(dir: string): number | undefined {
  try {
    return statSync(dir).ino;
  } catch {
    return undefined;
  }
}

function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
