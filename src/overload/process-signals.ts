import { type EventLoopUtilization, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { PressureSample } from './overload-manager.ts';

type CpuUsage = ReturnType<typeof process.threadCpuUsage>;

type LoopDelayHistogram = ReturnType<typeof monitorEventLoopDelay>;

/** How often the signals are read. */
export const SAMPLE_INTERVAL_MS = 250;

/**
 * node's loop-delay timer fires every `resolution` ms, idle or not, and a delay it reports can be
 * short by up to that much. A tenth of the limit keeps that error at 10 % of it, between 20 ms
 * (fine enough for any limit worth setting) and 100 ms. At the default limit (500 ms): 50 ms, 20
 * wake-ups a second at rest where a fixed 20 ms made 50 (~1 % of a core on this VM at rest,
 * measured with `/proc/<pid>/stat`, against ~0.3 % with no sampling). No limit: no timer.
 */
export function loopDelayResolution(limitMs: number): number | null {
  if (!(limitMs > 0)) return null;
  return Math.min(100, Math.max(20, Math.round(limitMs / 10)));
}

/**
 * The pressure signals of this process, read every SAMPLE_INTERVAL_MS by one unref'd timer:
 *
 * - event-loop delay: the longest delay node's loop-delay monitor saw in the window (its timer
 *   fires every `loopDelayResolution` ms and records how late it is; the monitor runs in C++,
 *   no JS per tick), or how late this sampler itself ran, whichever is longer. The second
 *   covers what the first misses: the monitor forgets the turn in progress when it is reset,
 *   and a process that was not scheduled at all (stopped, starved of CPU) is late by the whole
 *   pause;
 * - event-loop utilization: the share of the window the loop ran callbacks (node's ELU, from
 *   libuv's idle-time metric), and the CPU time the loop's thread actually got in it (its user
 *   and system time, `process.threadCpuUsage`): a delay counts only when the loop was busy and
 *   ran (see BUSY_LOOP and MIN_CPU_SHARE). ELU counts a thread that is runnable but not running
 *   (stopped outside epoll, starved) as busy; the thread's CPU time does not;
 * - heap: V8's used heap size against its heap size limit.
 *
 * Nothing here runs per request.
 */
export class ProcessSignals {
  readonly #resolution: number | null;
  #histogram: LoopDelayHistogram | null = null;
  #timer: NodeJS.Timeout | undefined;
  #lastRun = 0;
  #elu: EventLoopUtilization | null = null;
  #cpu: CpuUsage | null = null;

  /** `maxEventLoopDelayMs`: the limit the delay is compared with (0: not measured, the heap only). */
  constructor(maxEventLoopDelayMs: number) {
    this.#resolution = loopDelayResolution(maxEventLoopDelayMs);
  }

  start(onSample: (s: PressureSample) => void): void {
    if (this.#timer !== undefined) return;
    if (this.#resolution !== null) {
      const h = monitorEventLoopDelay({ resolution: this.#resolution });
      h.enable();
      this.#histogram = h;
    }
    this.#lastRun = performance.now();
    this.#elu = performance.eventLoopUtilization();
    this.#cpu = process.threadCpuUsage();
    this.#timer = setInterval(() => onSample(this.read()), SAMPLE_INTERVAL_MS);
    this.#timer.unref();
  }

  /** One sample now (the timer calls this). */
  read(): PressureSample {
    const now = performance.now();
    const window = this.#lastRun === 0 ? 0 : now - this.#lastRun;
    const late = this.#lastRun === 0 ? 0 : window - SAMPLE_INTERVAL_MS;
    this.#lastRun = now;
    const h = this.#histogram;
    let loop = 0;
    if (h !== null && h.count > 0) {
      // Each value is the time between two firings: the resolution itself when nothing is late.
      loop = h.max / 1e6 - this.#resolution!;
      h.reset();
    }
    const elu = performance.eventLoopUtilization();
    const busy = this.#elu === null ? 0 : performance.eventLoopUtilization(elu, this.#elu).utilization;
    this.#elu = elu;
    const cpu = process.threadCpuUsage();
    let ran = 0;
    const prev = this.#cpu;
    // µs of CPU over ms of wall time.
    if (prev !== null && window > 0) ran = (cpu.user - prev.user + cpu.system - prev.system) / 1000 / window;
    this.#cpu = cpu;
    const heap = getHeapStatistics();
    return {
      eventLoopDelayMs: Math.max(0, loop, late),
      eventLoopUtilization: busy,
      cpuShare: ran,
      heapUsedBytes: heap.used_heap_size,
      heapLimitBytes: heap.heap_size_limit,
    };
  }

  /**
   * Forgets the window so far: the delay in it was our own (a configuration build), not load.
   */
  forgive(): void {
    this.#histogram?.reset();
    if (this.#lastRun !== 0) this.#lastRun = performance.now();
    if (this.#elu !== null) this.#elu = performance.eventLoopUtilization();
    if (this.#cpu !== null) this.#cpu = process.threadCpuUsage();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#histogram?.disable();
    this.#histogram = null;
  }
}
