import {
  isMainThread,
  MessageChannel,
  type MessagePort,
  type ResourceLimits,
  receiveMessageOnPort,
  Worker,
} from 'node:worker_threads';

/*
 * A configuration reader's work done on a worker thread while the caller waits for it: the
 * readers are synchronous (a YAML parse, yaml-offload.ts; a template render that looks names up
 * or nests deeper than this thread's stack, template/render-offload.ts). The worker gets the
 * request with a shared flag and a port; it posts its one reply, then sets the flag.
 */

/** What the worker finds in its `workerData` besides the request's own fields. */
export interface SyncReplyChannel {
  /** Set to 1 (and notified) once the reply is on the port. */
  readonly done: Int32Array;
  readonly port: MessagePort;
}

/** A worker that never answers (it died) is given up on after this long. */
const GIVE_UP_MS = 5 * 60_000;

/**
 * Runs the worker module at `url` with `request` and waits for its reply. Undefined on a worker
 * thread (a plugin's, or such a worker itself: the caller does the work where it is), when no
 * worker could be started, or when none answered in time.
 */
export function runWorkerSync<R>(url: URL, request: object, resourceLimits: ResourceLimits): R | undefined {
  if (!isMainThread) return undefined;
  const done = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  let worker: Worker;
  try {
    const channel: SyncReplyChannel = { done, port: port2 };
    worker = new Worker(url, {
      workerData: { ...request, ...channel },
      transferList: [port2],
      resourceLimits,
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
    return reply === undefined ? undefined : (reply.message as R);
  } finally {
    port1.close();
    void worker.terminate();
  }
}

/** In the worker: posts `reply` (none when `work` threw), then wakes the waiting caller. */
export async function replySync(channel: SyncReplyChannel, work: () => unknown): Promise<void> {
  try {
    channel.port.postMessage(await work());
  } finally {
    Atomics.store(channel.done, 0, 1);
    Atomics.notify(channel.done, 0);
    channel.port.close();
  }
}
