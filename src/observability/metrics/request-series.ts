import { BUCKETS, CLASSES, RETRIES, type RequestCell, record, SUMS } from './request-cells.ts';
import type { RequestSeries } from './types.ts';

/**
 * Bound to the cells of one (entry point, router, service); a disabled label family is a null
 * cell and costs one comparison. Inputs are sanitized instead of trusted because one NaN would
 * poison a sum for the life of the process.
 */
export class BoundRequestSeries implements RequestSeries {
  readonly #bounds: Float64Array;
  readonly #stride: number;
  readonly #entryPoint: Float64Array | null;
  readonly #router: Float64Array | null;
  readonly #service: Float64Array | null;

  constructor(
    bounds: Float64Array,
    entryPoint: RequestCell | null,
    router: RequestCell | null,
    service: RequestCell | null,
  ) {
    this.#bounds = bounds;
    this.#stride = bounds.length + 1;
    this.#entryPoint = entryPoint === null ? null : entryPoint.values;
    this.#router = router === null ? null : router.values;
    this.#service = service === null ? null : service.values;
  }

  observe(status: number, seconds: number, bytesIn: number, bytesOut: number): void {
    let cls = (status / 100) | 0;
    if (cls < 1 || cls >= CLASSES) cls = 0;
    if (!(seconds >= 0)) seconds = 0;
    if (!(bytesIn >= 0)) bytesIn = 0;
    if (!(bytesOut >= 0)) bytesOut = 0;
    const bounds = this.#bounds;
    const last = bounds.length;
    // `le` is an inclusive upper bound: a duration equal to a bound belongs in that bucket.
    let b = 0;
    while (b < last && seconds > bounds[b]!) b++;
    const slot = BUCKETS + cls * this.#stride + b;
    const sum = SUMS + cls;
    const ep = this.#entryPoint;
    if (ep !== null) record(ep, slot, sum, seconds, bytesIn, bytesOut);
    const router = this.#router;
    if (router !== null) record(router, slot, sum, seconds, bytesIn, bytesOut);
    const service = this.#service;
    if (service !== null) record(service, slot, sum, seconds, bytesIn, bytesOut);
  }

  retry(): void {
    const service = this.#service;
    if (service !== null) service[RETRIES]!++;
  }
}
