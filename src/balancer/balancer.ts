/**
 * Load-balancing strategies. A picker is built once per snapshot for one service's servers;
 * `pick` is on the hot path, so it allocates nothing.
 */
import type { ResponseTimes } from './least-time.ts';
export type Strategy = 'wrr' | 'p2c' | 'roundRobin' | 'leastConn' | 'random' | 'leasttime';

export interface BalancerServer {
  /** Non-negative weight; 0 means "never picked" (kept for health-check only). */
  readonly weight: number;
}

/** Live per-server state owned by the upstream layer and read by pickers. Same indexes as servers. */
export interface BalancerState {
  /** Requests currently in flight per server. */
  readonly inFlight: ArrayLike<number>;
  /** Response-head times per server, for `leasttime` (which makes its own when absent). */
  readonly responseTimes?: ResponseTimes;
}

export interface Picker {
  /**
   * Index of the chosen server, or -1 when no server is acceptable. `accept` excludes servers
   * (down, ejected, already tried); when omitted every server with weight > 0 is acceptable.
   */
  pick(accept?: (index: number) => boolean): number;
  /**
   * Starts the cycle at a random point (round-robin pickers only; see
   * SmoothWeightedRoundRobinPicker.shuffleStart). Called once, when the picker is built.
   */
  shuffleStart?(random: () => number): void;
}
