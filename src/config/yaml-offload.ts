import {
  isMainThread,
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  Worker,
} from 'node:worker_threads';
import type { ConfigIssue } from './issues.ts';

/** What the worker sends back: what parseYaml found, without the locator (a function). */
export interface OffloadedParse {
  readonly data: unknown;
  readonly issues: ConfigIssue[];
}

export interface OffloadRequest {
  readonly text: string;
  readonly file: string;
  /** Set to 1 (and notified) once the reply is on the port. */
  readonly done: Int32Array;
  readonly port: MessagePort;
}

const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './yaml-worker.ts' : './yaml-worker.js',
  import.meta.url,
);

/** A parse that never answers (the worker died): given up on, and done on this thread instead. */
const GIVE_UP_MS = 5 * 60_000;

/**
 * Parses `text` on a worker thread and waits for it: synchronous, as the parse it replaces (the
 * callers are synchronous, and the main thread would be as busy parsing). Undefined when the
 * worker could not do it; the caller then parses here.
 */
export function parseYamlOffThread(text: string, file: string): OffloadedParse | undefined {
  // A worker (a plugin's, or this module's own) parses where it is.
  if (!isMainThread) return undefined;
  const done = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  let worker: Worker;
  try {
    const request: OffloadRequest = { text, file, done, port: port2 };
    // A small young generation: the parse allocates fast, and V8 would otherwise grow it to 64 MB.
    worker = new Worker(WORKER_URL, {
      workerData: request,
      transferList: [port2],
      resourceLimits: { maxYoungGenerationSizeMb: 16 },
      stdout: false,
      stderr: false,
    });
  } catch {
    port1.close();
    return undefined;
  }
  worker.unref();
  try {
    Atomics.wait(done, 0, 0, GIVE_UP_MS);
    const reply = receiveMessageOnPort(port1);
    return reply === undefined ? undefined : (reply.message as OffloadedParse);
  } finally {
    port1.close();
    void worker.terminate();
  }
}
