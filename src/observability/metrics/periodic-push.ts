/**
 * The push loop both metrics pushers share (line-pusher.ts: StatsD, Datadog, InfluxDB2;
 * otlp-pusher.ts: OTLP): `send` every interval on an unref'd timer, one push at a time (a tick
 * while one is in flight is skipped), `push()` for one more now after the one in flight.
 */
export class PeriodicPush {
  readonly #send: () => Promise<void>;
  #timer: NodeJS.Timeout | null;
  #inFlight: Promise<void> | null = null;

  constructor(intervalMs: number, send: () => Promise<void>) {
    this.#send = send;
    this.#timer = setInterval(PeriodicPush.#onTick, intervalMs, this);
    this.#timer.unref();
  }

  static #onTick(self: PeriodicPush): void {
    if (self.#inFlight === null) void self.push();
  }

  /** One push now (after the one in flight, if any). Never rejects when `send` does not. */
  async push(): Promise<void> {
    while (this.#inFlight !== null) await this.#inFlight;
    const p = this.#send().finally(() => {
      this.#inFlight = null;
    });
    this.#inFlight = p;
    await p;
  }

  /** No more ticks (a push in flight goes on). */
  stop(): void {
    if (this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}
