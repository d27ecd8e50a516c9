/**
 * Active health checks run once, in the control plane; the workers mirror their verdicts.
 *
 * Control plane: `HealthSource` hears every up/down change of every ServerHealth it builds
 * (keyed by the ServerHealth's cache key, which a worker building the same configuration
 * computes the same way) and forwards it; `table()` is the full state a worker gets with each
 * configuration. Worker: `HealthMirror` keeps the latest verdicts it was sent and hands each
 * ServerHealth a monitor that reads them instead of probing.
 *
 * Passive health (outlier detection) is decided where the failures are seen, in each worker on
 * its own share of the traffic; an ejection is then shared: the worker reports it, the control
 * plane relays it, and every other worker ejects that server for as long (`applyEjection`).
 */
import type { ActiveHealthHub, ActiveMonitorLike } from '../runtime/server-health.ts';
import type { HealthTable } from './protocol.ts';

export class HealthSource implements ActiveHealthHub {
  readonly #live = new Map<string, { readonly healthy: Uint8Array }>();
  readonly #send: (key: string, index: number, healthy: boolean) => void;

  constructor(send: (key: string, index: number, healthy: boolean) => void) {
    this.#send = send;
  }

  /** The control plane probes: the real monitor is used, and its changes are forwarded. */
  monitor(): null {
    return null;
  }

  track(key: string, thresholds: { readonly healthy: Uint8Array } | null): void {
    if (thresholds === null) this.#live.delete(key);
    else this.#live.set(key, thresholds);
  }

  changed(key: string, index: number, healthy: boolean): void {
    this.#send(key, index, healthy);
  }

  /** Every tracked service's servers that are down now. */
  table(): HealthTable {
    const out: [string, number[]][] = [];
    for (const [key, t] of this.#live) {
      const down: number[] = [];
      for (let i = 0; i < t.healthy.length; i++) if (t.healthy[i] === 0) down.push(i);
      out.push([key, down]);
    }
    return out;
  }
}

class MirrorMonitor implements ActiveMonitorLike {
  readonly thresholds: { readonly healthy: Uint8Array };
  readonly #key: string;
  readonly #hub: HealthMirror;
  readonly #onChange: (index: number, healthy: boolean) => void;

  constructor(
    key: string,
    count: number,
    hub: HealthMirror,
    onChange: (index: number, healthy: boolean) => void,
  ) {
    this.#key = key;
    this.#hub = hub;
    this.#onChange = onChange;
    // Up until told otherwise, as a probing monitor starts (Traefik: healthy until a check fails).
    this.thresholds = { healthy: new Uint8Array(count).fill(1) };
  }

  start(): void {
    this.#hub.attach(this.#key, this);
    const down = this.#hub.downOf(this.#key);
    for (const i of down) this.set(i, false);
  }

  stop(): void {
    this.#hub.detach(this.#key, this);
  }

  set(index: number, healthy: boolean): void {
    const h = this.thresholds.healthy;
    if (index >= h.length || (h[index] === 1) === healthy) return;
    h[index] = healthy ? 1 : 0;
    this.#onChange(index, healthy);
  }
}

export class HealthMirror implements ActiveHealthHub {
  /** Latest verdicts: key → servers down (kept for services not built yet, too). */
  readonly #down = new Map<string, Set<number>>();
  readonly #monitors = new Map<string, MirrorMonitor>();
  /** Passive health: key → what applies another worker's ejection here. */
  readonly #ejections = new Map<string, (index: number, ms: number) => void>();
  readonly #report: (key: string, index: number, ms: number) => void;

  /** `report` sends this worker's own ejections to the control plane, which tells the others. */
  constructor(report: (key: string, index: number, ms: number) => void = () => {}) {
    this.#report = report;
  }

  ejected(key: string, index: number, ms: number): void {
    if (ms > 0) this.#report(key, index, ms);
  }

  followEjections(key: string, apply: (index: number, ms: number) => void): () => void {
    this.#ejections.set(key, apply);
    return () => {
      if (this.#ejections.get(key) === apply) this.#ejections.delete(key);
    };
  }

  /** Another worker ejected server `index` of `key` for `ms`: so does this one. */
  applyEjection(key: string, index: number, ms: number): void {
    this.#ejections.get(key)?.(index, ms);
  }

  monitor(
    key: string,
    count: number,
    onChange: (index: number, healthy: boolean) => void,
  ): ActiveMonitorLike {
    return new MirrorMonitor(key, count, this, onChange);
  }

  track(): void {}

  changed(): void {}

  /** The full table that came with a configuration: replaces what was known. */
  load(table: HealthTable): void {
    const keys = new Set<string>();
    for (const [key, down] of table) {
      keys.add(key);
      this.#down.set(key, new Set(down));
      const m = this.#monitors.get(key);
      if (m !== undefined) for (let i = 0; i < m.thresholds.healthy.length; i++) m.set(i, !down.includes(i));
    }
    for (const key of this.#down.keys()) if (!keys.has(key)) this.#down.delete(key);
  }

  update(key: string, index: number, healthy: boolean): void {
    let down = this.#down.get(key);
    if (down === undefined) {
      down = new Set();
      this.#down.set(key, down);
    }
    if (healthy) down.delete(index);
    else down.add(index);
    this.#monitors.get(key)?.set(index, healthy);
  }

  downOf(key: string): ReadonlySet<number> {
    return this.#down.get(key) ?? new Set();
  }

  attach(key: string, m: MirrorMonitor): void {
    this.#monitors.set(key, m);
  }

  detach(key: string, m: MirrorMonitor): void {
    if (this.#monitors.get(key) === m) this.#monitors.delete(key);
  }
}
