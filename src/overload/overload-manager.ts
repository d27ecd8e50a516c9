import type { Logger } from '../core/logger.ts';

/** Bits of `shedding`: which pressure signal is over its limit. */
export const SHED_EVENT_LOOP = 1;
export const SHED_HEAP = 2;

/** What the process-wide limits are (static `overload` section). 0 turns a limit off. */
export interface OverloadSettings {
  /** Shed new requests while the event loop lags more than this (ms). */
  readonly maxEventLoopDelayMs: number;
  /** Shed new requests while the V8 heap in use is above this share of V8's heap limit. */
  readonly maxHeapUsedRatio: number;
  /** Request-body bytes all requests in flight may hold at once; a body over it gets 503. */
  readonly maxRequestBodyBytes: number;
  /** `Retry-After` on the 503s of shedding, in whole seconds. */
  readonly retryAfterSeconds: number;
}

/** Every limit off: nothing is shed (tests, and tools that build an entry point context). */
export const NO_OVERLOAD_LIMITS: OverloadSettings = {
  maxEventLoopDelayMs: 0,
  maxHeapUsedRatio: 0,
  maxRequestBodyBytes: 0,
  retryAfterSeconds: 1,
};

/** One reading of the pressure signals (overload/process-signals.ts takes them from the process). */
export interface PressureSample {
  /** The longest event-loop delay since the previous sample, in ms. */
  readonly eventLoopDelayMs: number;
  /** Share of the window the loop was running callbacks rather than waiting for I/O (0–1). */
  readonly eventLoopUtilization: number;
  /**
   * Share of the window the loop's thread ran on a CPU (its user + system time; 0–1). Unlike the
   * utilization it does not count time the thread was runnable but not running.
   */
  readonly cpuShare: number;
  readonly heapUsedBytes: number;
  /** V8's heap size limit (`--max-old-space-size` and the young generation). */
  readonly heapLimitBytes: number;
}

/**
 * Samples in a row under a limit before shedding stops: a signal that dips below its limit for
 * a moment (a lull between two long loop turns) must not let a burst in that the next turn
 * could not take. With a 250 ms sample interval, one second of calm.
 */
export const CALM_SAMPLES = 4;

/**
 * A loop delay is our overload only when the loop was busy for at least this share of the window.
 * A delay with an idle loop is the host's doing: the process was not scheduled (CPU starved by
 * neighbours, stopped, a VM paused) while it waited for I/O, and shedding would only fail
 * requests that cost the process nothing (node's event-loop utilization counts time blocked in
 * epoll as idle even when the process was not running).
 */
export const BUSY_LOOP = 0.5;

/**
 * ...and only when the loop's thread actually ran at least this share of the window. Utilization
 * alone reads busy when the process was stopped or starved outside epoll (runnable, not running,
 * in the middle of a turn): a SIGSTOP there, or a host with many times more runnable threads than
 * cores, made a handful of requests look like overload (seen on a shared 2-core machine at load
 * 25). Measured there: an idle proxy runs 0.5–3 % of a window, a stopped one ~0; a proxy relaying
 * more than it can, 2–50 % (whatever the host gave it). The price: a host that gives a saturated
 * process less than this share of a core does not shed on the delay (the heap and body limits
 * still hold).
 */
export const MIN_CPU_SHARE = 0.1;

/**
 * Samples in a row with a busy, late loop before shedding starts: overload is sustained. A single
 * long turn (a large response body parsed, a major GC) or a single pause that caught the process
 * outside epoll (so that its utilization reads busy) is one late sample; shedding after it would
 * fail requests the loop can take again.
 */
export const LATE_SAMPLES = 2;

/**
 * The request-body memory budget, as bodies see it (proxy/request-body.ts, body-recorder.ts): a
 * body reserves what it can hold at once when its request is admitted, and a copy kept for a
 * retry or a mirror counts each byte it keeps.
 */
export interface BodyBudget {
  /** Takes `n` bytes; false (nothing taken) when they do not fit. */
  takeBody(n: number): boolean;
  /** Takes `n` bytes whatever the budget says (requests that are never shed). */
  forceBody(n: number): void;
  giveBody(n: number): void;
  /** A copy for a retry or a mirror was given up because the budget was spent (counted). */
  recordingDropped(): void;
  /** A body the `buffering` middleware reads went to its file because the budget was spent (counted). */
  bodySpilled(): void;
}

/** Where the per-entry-point state lives; the manager tells each of them what to shed. */
export interface SheddingListener {
  shedding: number;
}

/**
 * The overload manager (Envoy's idea; Traefik has none): the process-wide pressure state and the
 * request-body memory budget. It is told each sample of the signals (`observe`, driven by a
 * timer in production and by tests directly) and turns them into one number, `shedding`, which
 * it copies into every entry point's gate: the hot path reads that field and nothing else.
 *
 * The heap goes over when its sample is above its limit; the loop delay when LATE_SAMPLES samples
 * in a row are over it with a busy loop that ran (BUSY_LOOP, MIN_CPU_SHARE). Each goes back to normal only after
 * CALM_SAMPLES samples in a row under its limit (hysteresis: no flapping at the threshold).
 */
export class OverloadManager implements BodyBudget {
  readonly settings: OverloadSettings;
  readonly #logger: Logger;
  readonly #listeners: SheddingListener[] = [];
  /** SHED_* bits of the signals over their limit now; 0 = admit everything. */
  shedding = 0;
  #calmLoop = 0;
  #calmHeap = 0;
  /** The latest sample, for the gauges. */
  last: PressureSample = {
    eventLoopDelayMs: 0,
    eventLoopUtilization: 0,
    cpuShare: 0,
    heapUsedBytes: 0,
    heapLimitBytes: 0,
  };
  /** Times each signal went over its limit (a shedding episode began). */
  readonly episodes = { eventLoop: 0, heap: 0 };
  /** Samples whose loop delay was over the limit, busy or not, shedding or not. */
  lateSamples = 0;
  /** Busy, late samples in a row (LATE_SAMPLES of them start shedding). */
  #lateInARow = 0;
  /** Request-body bytes reserved by requests in flight (see BodyBudget). */
  bodyBytes = 0;
  /** Bodies that were not kept for a retry or a mirror because the budget was spent. */
  recordingsDropped = 0;
  /** Bodies read whole (`buffering`) that went to their file because the budget was spent. */
  bodiesSpilled = 0;

  constructor(settings: OverloadSettings, logger: Logger) {
    this.settings = settings;
    this.#logger = logger;
  }

  /** A gate that must follow `shedding` (one per entry point). */
  follow(listener: SheddingListener): void {
    this.#listeners.push(listener);
    listener.shedding = this.shedding;
  }

  /** One sample of the signals: updates `shedding` and tells the gates when it changes. */
  observe(s: PressureSample): void {
    this.last = s;
    const cfg = this.settings;
    let next = this.shedding;
    if (cfg.maxEventLoopDelayMs > 0) {
      const late = s.eventLoopDelayMs > cfg.maxEventLoopDelayMs;
      if (late) this.lateSamples++;
      const busy = s.eventLoopUtilization >= BUSY_LOOP && s.cpuShare >= MIN_CPU_SHARE;
      this.#lateInARow = late && busy ? this.#lateInARow + 1 : 0;
      if (late) this.#calmLoop = 0;
      if (this.#lateInARow >= LATE_SAMPLES) {
        if ((next & SHED_EVENT_LOOP) === 0) this.episodes.eventLoop++;
        next |= SHED_EVENT_LOOP;
      } else if ((next & SHED_EVENT_LOOP) !== 0 && !late && ++this.#calmLoop >= CALM_SAMPLES) {
        next &= ~SHED_EVENT_LOOP;
      }
    }
    if (cfg.maxHeapUsedRatio > 0 && s.heapLimitBytes > 0) {
      if (s.heapUsedBytes > cfg.maxHeapUsedRatio * s.heapLimitBytes) {
        this.#calmHeap = 0;
        if ((next & SHED_HEAP) === 0) this.episodes.heap++;
        next |= SHED_HEAP;
      } else if ((next & SHED_HEAP) !== 0 && ++this.#calmHeap >= CALM_SAMPLES) {
        next &= ~SHED_HEAP;
      }
    }
    if (next !== this.shedding) this.#set(next, s);
  }

  #set(next: number, s: PressureSample): void {
    const fields = {
      eventLoopDelayMs: Math.round(s.eventLoopDelayMs),
      eventLoopUtilization: Math.round(s.eventLoopUtilization * 100) / 100,
      cpuShare: Math.round(s.cpuShare * 100) / 100,
      heapUsedBytes: s.heapUsedBytes,
      heapLimitBytes: s.heapLimitBytes,
      signals: sheddingSignals(next),
    };
    if (next !== 0) this.#logger.warn('overload: shedding new requests', fields);
    else this.#logger.info('overload: pressure is over, admitting every request', fields);
    this.shedding = next;
    for (const l of this.#listeners) l.shedding = next;
  }

  // ---- the request-body budget (process-wide)

  takeBody(n: number): boolean {
    const max = this.settings.maxRequestBodyBytes;
    if (max > 0 && this.bodyBytes + n > max) return false;
    this.bodyBytes += n;
    return true;
  }

  forceBody(n: number): void {
    this.bodyBytes += n;
  }

  giveBody(n: number): void {
    this.bodyBytes -= n;
  }

  recordingDropped(): void {
    this.recordingsDropped++;
  }

  bodySpilled(): void {
    this.bodiesSpilled++;
  }
}

/** The names of the signals in a `shedding` value, for logs. */
export function sheddingSignals(bits: number): string[] {
  const out: string[] = [];
  if ((bits & SHED_EVENT_LOOP) !== 0) out.push('event_loop_delay');
  if ((bits & SHED_HEAP) !== 0) out.push('heap');
  return out;
}
