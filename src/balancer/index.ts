import type { BalancerServer, BalancerState, Picker, Strategy } from './balancer.ts';
import { LeastConnPicker } from './least-conn.ts';
import { LeastTimePicker, ResponseTimes } from './least-time.ts';
import { PowerOfTwoPicker } from './power-of-two.ts';
import { RoundRobinPicker } from './round-robin.ts';
import { SmoothWeightedRoundRobinPicker } from './smooth-weighted-round-robin.ts';
import { WeightedRandomPicker } from './weighted-random.ts';
import { toWeights } from './weights.ts';

export type { BalancerServer, BalancerState, Picker, Strategy } from './balancer.ts';
export { ResponseTimes } from './least-time.ts';

// A Record keyed by Strategy makes the compiler reject a strategy missing from STRATEGIES.
const STRATEGY_SET: Readonly<Record<Strategy, true>> = {
  wrr: true,
  p2c: true,
  roundRobin: true,
  leastConn: true,
  random: true,
  leasttime: true,
};

export const STRATEGIES: readonly Strategy[] = Object.freeze(Object.keys(STRATEGY_SET) as Strategy[]);

/**
 * Whether round-robin pickers start their cycle at a random server, as Traefik shuffles the
 * servers of every load balancer (HTTP, TCP, UDP) and the children of every weighted service
 * when it builds them (pkg/server/service/service.go, tcp/service.go, udp/service.go `shuffle`).
 * `TM_SERVER_ORDER=listed` keeps the listed order: for tests that name the server a fresh
 * picker takes first.
 */
const SHUFFLE_START = process.env.TM_SERVER_ORDER !== 'listed';

/** `picker`, its cycle started at a random server when it has one (see SHUFFLE_START). Build time only. */
export function shuffledStart<P extends Picker>(picker: P, random: () => number = Math.random): P {
  if (SHUFFLE_START) picker.shuffleStart?.(random);
  return picker;
}

/**
 * The pickers of layer 4 (TCP and UDP) services, from a random start (shuffledStart), as Traefik
 * builds them (tcp/service.go, udp/service.go): round robin over `count` servers, which have no
 * weight there, and smooth weighted round robin over a weighted service's children. Nothing is
 * counted in flight. Build time only.
 */
export function shuffledRoundRobin(count: number): Picker {
  const servers = Array.from({ length: count }, () => ({ weight: 1 }));
  return shuffledStart(createPicker('roundRobin', servers, { inFlight: new Int32Array(count) }));
}

/** See shuffledRoundRobin. */
export function shuffledWeighted(weights: readonly number[]): Picker {
  const children = weights.map((weight) => ({ weight }));
  return shuffledStart(createPicker('wrr', children, { inFlight: new Int32Array(weights.length) }));
}

/**
 * Builds the picker for one service's servers, once per snapshot. Weights are copied now, so later
 * edits to `servers` have no effect; `state.inFlight` is read live on every pick. `random` returns
 * a number in [0, 1) and is injectable so tests are deterministic.
 */
export function createPicker(
  strategy: Strategy,
  servers: readonly BalancerServer[],
  state: BalancerState,
  random: () => number = Math.random,
): Picker {
  const weights = toWeights(servers);
  switch (strategy) {
    case 'wrr':
      return new SmoothWeightedRoundRobinPicker(weights);
    case 'p2c':
      return new PowerOfTwoPicker(weights, state, random);
    case 'roundRobin':
      return new RoundRobinPicker(weights);
    case 'leastConn':
      return new LeastConnPicker(weights, state);
    case 'random':
      return new WeightedRandomPicker(weights, random);
    case 'leasttime':
      return new LeastTimePicker(weights, state, state.responseTimes ?? new ResponseTimes(servers.length));
    default: {
      const unknown: never = strategy;
      throw new TypeError(`unknown load-balancing strategy: ${String(unknown)}`);
    }
  }
}
