import type { ConfigIssue } from './issues.ts';
import { runWorkerSync, type SyncReplyChannel } from './sync-worker.ts';

/** What the worker sends back: what parseYaml found, without the locator (a function). */
export interface OffloadedParse {
  readonly data: unknown;
  readonly issues: ConfigIssue[];
}

export interface OffloadRequest extends SyncReplyChannel {
  readonly text: string;
  readonly file: string;
}

const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './yaml-worker.ts' : './yaml-worker.js',
  import.meta.url,
);

/**
 * Parses `text` on a worker thread and waits for it: synchronous, as the parse it replaces (the
 * callers are synchronous, and the main thread would be as busy parsing). Undefined when the
 * worker could not do it; the caller then parses here.
 */
export function parseYamlOffThread(text: string, file: string): OffloadedParse | undefined {
  // A small young generation: the parse allocates fast, and V8 would otherwise grow it to 64 MB.
  // (On a worker thread, a plugin's or this module's own, undefined: the caller parses there.)
  return runWorkerSync<OffloadedParse>(WORKER_URL, { text, file }, { maxYoungGenerationSizeMb: 16 });
}
