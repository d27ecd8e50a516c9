/**
 * Concurrency limit per key (Traefik `inFlightReq`: client address or header value) with a
 * bounded FIFO queue in front of it and a queue timeout. Traefik rejects at once when the limit
 * is reached; `queueSize: 0` reproduces that, a positive size absorbs short bursts instead.
 *
 * Memory is bounded: a key counts only while it has requests in flight or waiting, and at most
 * `maxKeys` keys are tracked at once (a new key beyond that is rejected, because evicting a
 * busy key would forget its in-flight count and let it exceed the limit).
 *
 * A key that goes idle keeps its entry until `IDLE_KEYS_KEPT` idle keys pile up (or room is
 * needed for a new key), then every idle one is dropped in one pass. Deleting it at once made
 * a client with one request at a time add and delete a map entry per request, and a long-lived
 * Map rebuilds its hash table every few dozen deletions, in the old generation: garbage for the
 * mark-compacts behind the latency tail (docs/performance.md, "Old-space garbage from
 * hash-table churn").
 */
export const IDLE_KEYS_KEPT = 1024;

export interface QueueWaiter {
  onAdmitted(): void;
  onQueueTimeout(): void;
  /** Set by the queue: when this waiter times out (0 = never). Read-only for everyone else. */
  queueDeadline: number;
}

export interface AdmissionQueueOptions {
  /** Requests in flight per key; at least 1. */
  limit: number;
  /** Waiters per key; 0 rejects at once when the limit is reached. */
  queueSize: number;
  /** How long a waiter may wait; 0 = until admitted or cancelled. */
  queueTimeoutMs: number;
  /** Keys tracked at once (default 65536). */
  maxKeys?: number;
}

export type AdmissionResult = 'admitted' | 'queued' | 'rejected';

class KeyState {
  readonly key: string;
  /** No request in flight nor waiting: counted in the queue's idle keys. */
  idle = false;
  inFlight = 0;
  queued = 0;
  head: QueueNode | null = null;
  tail: QueueNode | null = null;
  constructor(key: string) {
    this.key = key;
  }
}

/** A waiter is on two lists: its key's FIFO, and the global one ordered by deadline. */
class QueueNode {
  readonly waiter: QueueWaiter;
  readonly state: KeyState;
  /** Kept here too, so that a caller writing `queueDeadline` cannot unsort the global list. */
  readonly deadline: number;
  prev: QueueNode | null = null;
  next: QueueNode | null = null;
  olderTimed: QueueNode | null = null;
  newerTimed: QueueNode | null = null;
  constructor(waiter: QueueWaiter, state: KeyState, deadline: number) {
    this.waiter = waiter;
    this.state = state;
    this.deadline = deadline;
  }
}

export class AdmissionQueue {
  readonly #limit: number;
  readonly #queueSize: number;
  readonly #queueTimeoutMs: number;
  readonly #maxKeys: number;
  readonly #keys = new Map<string, KeyState>();
  /** Entries of #keys that are idle (kept to avoid churn, dropped together). */
  #idleKeys = 0;
  readonly #nodes = new Map<QueueWaiter, QueueNode>();
  // Every waiter gets the same timeout, so enqueue order is deadline order and the global list
  // stays sorted by appending: expiry and nextDeadline are O(1) per waiter, no heap needed.
  #oldestTimed: QueueNode | null = null;
  #newestTimed: QueueNode | null = null;

  constructor(opts: AdmissionQueueOptions) {
    if (!(opts.limit >= 1)) throw new RangeError(`in-flight limit must be >= 1, got ${opts.limit}`);
    this.#limit = Math.floor(opts.limit);
    this.#queueSize = Math.max(0, Math.floor(opts.queueSize));
    this.#queueTimeoutMs = Math.max(0, opts.queueTimeoutMs);
    this.#maxKeys = Math.max(1, Math.floor(opts.maxKeys ?? 65536));
  }

  /** Keys with requests in flight or waiting. */
  get size(): number {
    return this.#keys.size - this.#idleKeys;
  }

  inFlight(key: string): number {
    return this.#keys.get(key)?.inFlight ?? 0;
  }

  queued(key: string): number {
    return this.#keys.get(key)?.queued ?? 0;
  }

  /** The earliest queue deadline, for arming one timer; 0 when nobody waits with a deadline. */
  nextDeadline(): number {
    return this.#oldestTimed === null ? 0 : this.#oldestTimed.deadline;
  }

  /**
   * 'admitted': the caller proceeds and must call `leave(key)` when done. 'queued': the caller
   * waits for `onAdmitted` or `onQueueTimeout`, or calls `cancel`. 'rejected': nothing to undo.
   */
  enter(key: string, waiter: QueueWaiter, now: number): AdmissionResult {
    let state = this.#keys.get(key);
    if (state === undefined) {
      if (this.#keys.size >= this.#maxKeys) {
        this.#dropIdleKeys();
        if (this.#keys.size >= this.#maxKeys) return 'rejected';
      }
      state = new KeyState(key);
      this.#keys.set(key, state);
    } else if (state.idle) {
      state.idle = false;
      this.#idleKeys--;
    }
    // Waiters present means the key is at its limit (leave hands slots to waiters first); a new
    // arrival never overtakes them.
    if (state.inFlight < this.#limit && state.head === null) {
      state.inFlight++;
      return 'admitted';
    }
    if (state.queued >= this.#queueSize) return 'rejected';
    if (this.#nodes.has(waiter)) throw new Error('waiter is already queued');
    const deadline = this.#queueTimeoutMs > 0 ? now + this.#queueTimeoutMs : 0;
    const node = new QueueNode(waiter, state, deadline);
    this.#nodes.set(waiter, node);
    waiter.queueDeadline = deadline;
    node.prev = state.tail;
    if (state.tail === null) state.head = node;
    else state.tail.next = node;
    state.tail = node;
    state.queued++;
    if (deadline !== 0) {
      node.olderTimed = this.#newestTimed;
      if (this.#newestTimed === null) this.#oldestTimed = node;
      else this.#newestTimed.newerTimed = node;
      this.#newestTimed = node;
    }
    return 'queued';
  }

  /** A request admitted under `key` finished: its slot passes to the key's oldest waiter. */
  leave(key: string): void {
    const state = this.#keys.get(key);
    if (state === undefined || state.inFlight === 0) return;
    const node = state.head;
    if (node === null) {
      state.inFlight--;
      if (state.inFlight === 0) this.#markIdle(state);
      return;
    }
    // The slot moves to the waiter without going free, so no newcomer can take it in between.
    this.#unlink(node);
    // State is consistent before the callback, which may re-enter (leave at once on an error).
    node.waiter.onAdmitted();
  }

  /** A queued client went away. Does nothing if the waiter is not queued (already admitted or timed out). */
  cancel(key: string, waiter: QueueWaiter): void {
    const node = this.#nodes.get(waiter);
    if (node === undefined || node.state.key !== key) return;
    this.#unlink(node);
    this.#dropIfIdle(node.state);
  }

  /** Times out every waiter whose deadline is at or before `now`, oldest first. */
  expire(now: number): void {
    let node = this.#oldestTimed;
    while (node !== null && node.deadline <= now) {
      this.#unlink(node);
      this.#dropIfIdle(node.state);
      node.waiter.onQueueTimeout();
      // Re-read: the callback may have cancelled or queued others.
      node = this.#oldestTimed;
    }
  }

  #unlink(node: QueueNode): void {
    const state = node.state;
    if (node.prev === null) state.head = node.next;
    else node.prev.next = node.next;
    if (node.next === null) state.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = null;
    node.next = null;
    state.queued--;
    if (node.deadline !== 0) {
      if (node.olderTimed === null) this.#oldestTimed = node.newerTimed;
      else node.olderTimed.newerTimed = node.newerTimed;
      if (node.newerTimed === null) this.#newestTimed = node.olderTimed;
      else node.newerTimed.olderTimed = node.olderTimed;
      node.olderTimed = null;
      node.newerTimed = null;
    }
    this.#nodes.delete(node.waiter);
    node.waiter.queueDeadline = 0;
  }

  #dropIfIdle(state: KeyState): void {
    if (state.inFlight === 0 && state.head === null && this.#keys.get(state.key) === state) {
      this.#markIdle(state);
    }
  }

  #markIdle(state: KeyState): void {
    if (state.idle) return;
    state.idle = true;
    if (++this.#idleKeys > IDLE_KEYS_KEPT) this.#dropIdleKeys();
  }

  #dropIdleKeys(): void {
    if (this.#idleKeys === 0) return;
    for (const [key, state] of this.#keys) if (state.idle) this.#keys.delete(key);
    this.#idleKeys = 0;
  }
}
