// The schedule and the accounting of the latency client (`--mode latency`), apart from sockets
// and clocks so that tests can drive them with made-up times. Request k of a run is due k/rate
// after its start, on connection k mod C: each connection gets one request every C/rate, the
// connections phased evenly. A request is timed from when it was due, not from when it could be
// written: when its connection is still waiting for the previous response it queues, and the wait
// counts (wrk2's correction of coordinated omission; without it a stalled server would delay its
// own measurements and look fast). One request per connection at a time, no pipelining.
import { LatencyHistogram } from './latency-histogram.ts';

/** What the driver needs from the connections: write one request on an idle, open one. */
export interface RequestSink {
  send(conn: number): void;
}

export interface RatePlan {
  /** Requests per second, all connections together. */
  readonly rate: number;
  readonly connections: number;
  readonly durationMs: number;
}

/** When request k is due, in ms after the start. */
export function dueOffsetMs(k: number, rate: number): number {
  return (k * 1000) / rate;
}

/** How many requests are due within the run: every k with dueOffsetMs(k) < durationMs. */
export function scheduledCount(plan: RatePlan): number {
  return Math.ceil((plan.durationMs * plan.rate) / 1000);
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

export class ConstantRateDriver {
  /** From due time to the end of the response, in ns. */
  readonly latency = new LatencyHistogram();
  /**
   * The client's own delay: from due time to when its scheduler handed the request out (written,
   * or queued behind a busy connection). Large values mean the client, not the server, was slow.
   */
  readonly lateness = new LatencyHistogram();
  readonly statuses: Record<string, number> = {};
  /** Non-2xx/3xx responses (as wrk counts them) and failures by kind. */
  readonly errors: Record<string, number> = {};
  readonly scheduled: number;
  completed = 0;
  /** When the last response arrived (ms, the driver's clock); the start while none has. */
  lastResponseMs: number;

  readonly #plan: RatePlan;
  readonly #startMs: number;
  readonly #sink: RequestSink;
  #next = 0;
  /** Due time of the request each connection waits for; NaN when it waits for none. */
  readonly #inFlight: Float64Array;
  /** Due times of the requests each connection has yet to write, oldest first. */
  readonly #queues: number[][];
  readonly #open: boolean[];
  #outstanding = 0;

  constructor(plan: RatePlan, startMs: number, sink: RequestSink) {
    if (!(plan.rate > 0) || !(plan.connections >= 1) || !(plan.durationMs > 0)) {
      throw new Error(`bad plan ${JSON.stringify(plan)}`);
    }
    this.#plan = plan;
    this.#startMs = startMs;
    this.#sink = sink;
    this.scheduled = scheduledCount(plan);
    this.lastResponseMs = startMs;
    this.#inFlight = new Float64Array(plan.connections).fill(Number.NaN);
    this.#queues = Array.from({ length: plan.connections }, () => []);
    this.#open = new Array<boolean>(plan.connections).fill(false);
  }

  /** When request k is due on the driver's clock. */
  dueMs(k: number): number {
    return this.#startMs + dueOffsetMs(k, this.#plan.rate);
  }

  /**
   * Hands out every request due by `now`; returns the ms until the next one is due (0 or more),
   * or -1 once all are handed out.
   */
  tick(now: number): number {
    const conns = this.#plan.connections;
    while (this.#next < this.scheduled) {
      const due = this.dueMs(this.#next);
      if (due > now) return due - now;
      const conn = this.#next % conns;
      this.#next++;
      this.#outstanding++;
      this.lateness.record((now - due) * 1e6);
      if (this.#open[conn] === true && Number.isNaN(this.#inFlight[conn]!)) this.#write(conn, due);
      else this.#queues[conn]!.push(due);
    }
    return -1;
  }

  /** Connection `conn` is open and idle (first connect or reconnect): it writes what it owes. */
  opened(conn: number): void {
    this.#open[conn] = true;
    this.#inFlight[conn] = Number.NaN;
    this.#writeQueued(conn);
  }

  /**
   * A response with `status` ended at `now` on `conn`; `closing` when the server closes the
   * connection after it (the next request waits for `opened`).
   */
  response(conn: number, status: number, now: number, closing = false): void {
    const due = this.#inFlight[conn]!;
    if (Number.isNaN(due)) {
      bump(this.errors, 'unsolicited');
      return;
    }
    this.latency.record((now - due) * 1e6);
    this.#inFlight[conn] = Number.NaN;
    this.#outstanding--;
    this.completed++;
    this.lastResponseMs = now;
    bump(this.statuses, String(status));
    if (status < 200 || status >= 400) bump(this.errors, `status ${status}`);
    if (closing) this.#open[conn] = false;
    else this.#writeQueued(conn);
  }

  /** `conn` closed or failed (`why`): its request in flight, if any, is lost. Queued ones wait for `opened`. */
  lost(conn: number, why: string): void {
    this.#open[conn] = false;
    if (!Number.isNaN(this.#inFlight[conn]!)) {
      this.#inFlight[conn] = Number.NaN;
      this.#outstanding--;
      bump(this.errors, why);
    }
  }

  /** A connection could not be (re)opened: counted, its requests keep waiting for one that can. */
  connectFailed(): void {
    bump(this.errors, 'connect');
  }

  /** Every request handed out and answered or lost. */
  get done(): boolean {
    return this.#next >= this.scheduled && this.#outstanding === 0;
  }

  /** Gives up on what is still queued or in flight (the drain took too long): errors `unfinished`. */
  abandon(): void {
    if (this.#outstanding > 0)
      this.errors['unfinished'] = (this.errors['unfinished'] ?? 0) + this.#outstanding;
    this.#outstanding = 0;
    this.#next = this.scheduled;
    for (const q of this.#queues) q.length = 0;
    this.#inFlight.fill(Number.NaN);
  }

  #writeQueued(conn: number): void {
    const due = this.#queues[conn]!.shift();
    if (due !== undefined) this.#write(conn, due);
  }

  #write(conn: number, due: number): void {
    this.#inFlight[conn] = due;
    this.#sink.send(conn);
  }
}
