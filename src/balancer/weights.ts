import type { BalancerServer } from './balancer.ts';

/**
 * Copies the weights into a typed array so `pick` reads dense doubles, not objects. A weight that
 * is negative, NaN or infinite counts as 0 (never picked): config validation should already have
 * refused it, and an infinite weight would turn every weighted sum into NaN or Infinity.
 */
export function toWeights(servers: readonly BalancerServer[]): Float64Array {
  const weights = new Float64Array(servers.length);
  for (let i = 0; i < servers.length; i++) {
    const w = servers[i]!.weight;
    weights[i] = w > 0 && w < Number.POSITIVE_INFINITY ? w : 0;
  }
  return weights;
}
