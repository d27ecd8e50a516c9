import { availableParallelism } from 'node:os';

/**
 * How many data-plane workers the static `workers` key asks for: 0 when absent (the proxy runs
 * in one process, as before), `auto` = one per core the process may run on (cgroup and affinity
 * limits included, which `availableParallelism` reads).
 */
export function workerCount(value: number | 'auto' | undefined, cores = availableParallelism()): number {
  if (value === undefined) return 0;
  return value === 'auto' ? Math.max(1, cores) : value;
}
