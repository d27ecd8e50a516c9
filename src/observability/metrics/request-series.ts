import type { RequestHead } from '../../core/request.ts';
import { countTls, type RequestCell, record, rowKey } from './request-cells.ts';
import { methodIndex, protocolIndex } from './request-labels.ts';
import type { TlsPairs } from './tls-labels.ts';
import type { RequestSeries } from './types.ts';

/**
 * Bound to the cells of one (entry point, router, service); a disabled label family is a null
 * cell and costs one comparison. The rows of the last (code, method, protocol) are kept, since
 * most requests of a route look alike. Inputs are sanitized instead of trusted because one NaN
 * would poison a sum for the life of the process.
 */
export class BoundRequestSeries implements RequestSeries {
  readonly #bounds: Float64Array;
  readonly #stride: number;
  readonly #entryPoint: RequestCell | null;
  readonly #router: RequestCell | null;
  readonly #service: RequestCell | null;
  readonly #tlsPairs: TlsPairs;
  #lastKey = -1;
  #ep: Float64Array | null = null;
  #rt: Float64Array | null = null;
  #sv: Float64Array | null = null;

  constructor(
    bounds: Float64Array,
    entryPoint: RequestCell | null,
    router: RequestCell | null,
    service: RequestCell | null,
    tlsPairs: TlsPairs,
  ) {
    this.#bounds = bounds;
    this.#stride = bounds.length + 1;
    this.#entryPoint = entryPoint;
    this.#router = router;
    this.#service = service;
    this.#tlsPairs = tlsPairs;
  }

  observe(
    status: number,
    seconds: number,
    bytesIn: number,
    bytesOut: number,
    req: RequestHead,
    upgrade: string | null,
  ): void {
    let code = status | 0;
    if (code < 0 || code > 999) code = 0;
    if (!(seconds >= 0)) seconds = 0;
    if (!(bytesIn >= 0)) bytesIn = 0;
    if (!(bytesOut >= 0)) bytesOut = 0;
    const key = rowKey(code, methodIndex(req.method), protocolIndex(req, upgrade));
    if (key !== this.#lastKey) {
      this.#lastKey = key;
      this.#ep = this.#entryPoint === null ? null : this.#entryPoint.row(key);
      this.#rt = this.#router === null ? null : this.#router.row(key);
      this.#sv = this.#service === null ? null : this.#service.row(key);
    }
    const bounds = this.#bounds;
    const last = bounds.length;
    // `le` is an inclusive upper bound: a duration equal to a bound belongs in that bucket.
    let b = 0;
    while (b < last && seconds > bounds[b]!) b++;
    const stride = this.#stride;
    const ep = this.#ep;
    if (ep !== null) record(ep, b, stride, seconds, bytesIn, bytesOut);
    const rt = this.#rt;
    if (rt !== null) record(rt, b, stride, seconds, bytesIn, bytesOut);
    const sv = this.#sv;
    if (sv !== null) record(sv, b, stride, seconds, bytesIn, bytesOut);
    // Traefik's `*_requests_tls_total`: every request that came over TLS, at each level.
    const tls = req.tls;
    if (tls !== undefined) this.#countTls(this.#tlsPairs.of(tls));
  }

  #countTls(pair: number): void {
    if (this.#entryPoint !== null) countTls(this.#entryPoint, pair);
    if (this.#router !== null) countTls(this.#router, pair);
    if (this.#service !== null) countTls(this.#service, pair);
  }

  retry(): void {
    const service = this.#service;
    if (service !== null) service.retries++;
  }
}
