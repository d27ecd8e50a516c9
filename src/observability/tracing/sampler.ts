/**
 * The sampling decision for a trace this proxy starts, as Traefik's sampler makes it for a root
 * (Go's sdktrace.TraceIDRatioBased(sampleRate) inside ParentBased, pkg/observability/types/
 * tracing.go Setup; a continued trace follows its parent's flag, tracer.ts): AlwaysSample from
 * 1 on; otherwise the trace id's last 8 bytes, big-endian, shifted right once, below
 * `rate * 2^63`, so that every hop configured with the same ratio decides the same way for the
 * same trace, Go's ones included. With `random`, a draw per trace instead (tests).
 */
export function sampleRoot(traceId: string, rate: number, random: (() => number) | undefined): boolean {
  if (rate >= 1) return true;
  if (!(rate > 0)) return false;
  if (random !== undefined) return random() < rate;
  // uint64(fraction * (1 << 63)): the product is exact in a double, truncated as Go converts it.
  const bound = BigInt(Math.trunc(rate * 2 ** 63));
  return BigInt(`0x${traceId.slice(16, 32)}`) >> 1n < bound;
}
