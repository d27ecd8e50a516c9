const TWO_POW_52 = 2 ** 52;

/**
 * The sampling decision for a trace this proxy starts. With `random`, a draw per trace (tests);
 * otherwise the low 52 bits of the trace id, so that every hop configured with the same ratio
 * decides the same way for the same trace (the idea of OTel's TraceIdRatioBased sampler).
 */
export function sampleRoot(traceId: string, rate: number, random: (() => number) | undefined): boolean {
  if (rate >= 1) return true;
  if (!(rate > 0)) return false;
  const draw = random === undefined ? Number.parseInt(traceId.slice(19), 16) / TWO_POW_52 : random();
  return draw < rate;
}
