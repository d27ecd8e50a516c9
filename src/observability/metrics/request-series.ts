import type { RequestHead } from '../../core/request.ts';
import type { HeaderLabels } from './header-labels.ts';
import { countTls, type RequestCell, record, rowKey } from './request-cells.ts';
import { grpcCode, methodIndex, PROTO_GRPC, PROTO_GRPC_WEB, protocolIndex } from './request-labels.ts';
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
  readonly #headerLabels: HeaderLabels | null;
  #lastKey = -1;
  #ep: Float64Array | null = null;
  #rt: Float64Array | null = null;
  #sv: Float64Array | null = null;
  /** With header labels: the last row key's counts by header values, per cell. */
  #epH: Map<string, number> | null = null;
  #rtH: Map<string, number> | null = null;
  #svH: Map<string, number> | null = null;

  constructor(
    bounds: Float64Array,
    entryPoint: RequestCell | null,
    router: RequestCell | null,
    service: RequestCell | null,
    tlsPairs: TlsPairs,
    headerLabels: HeaderLabels | null,
  ) {
    this.#bounds = bounds;
    this.#stride = bounds.length + 1;
    this.#entryPoint = entryPoint;
    this.#router = router;
    this.#service = service;
    this.#tlsPairs = tlsPairs;
    this.#headerLabels = headerLabels;
  }

  observe(
    status: number,
    seconds: number,
    bytesIn: number,
    bytesOut: number,
    req: RequestHead,
    upgrade: string | null,
    grpcStatus?: string,
    serviceSeconds = -1,
    serviceStatus = -1,
    serviceBytesOut = -1,
  ): void {
    if (!(seconds >= 0)) seconds = 0;
    if (!(bytesIn >= 0)) bytesIn = 0;
    if (!(bytesOut >= 0)) bytesOut = 0;
    const proto = protocolIndex(req, upgrade);
    const method = methodIndex(req.method);
    const key = rowKey(codeLabel(status, proto, grpcStatus), method, proto);
    if (serviceStatus >= 0 && this.#service !== null) {
      const own = rowKey(codeLabel(serviceStatus, proto, grpcStatus), method, proto);
      if (own !== key) {
        // A router middleware answered in place of the service's answer (buffering refusing
        // it, a plugin's status): the service counts its own, as Traefik's below them.
        this.#observeSplit(key, own, seconds, bytesIn, bytesOut, req, serviceSeconds, serviceBytesOut);
        return;
      }
    }
    if (serviceBytesOut >= 0 && this.#service !== null && serviceBytesOut !== bytesOut) {
      // Same status, other bytes (a compress or buffering body filter): the service's own.
      this.#observeSplit(key, key, seconds, bytesIn, bytesOut, req, serviceSeconds, serviceBytesOut);
      return;
    }
    if (key !== this.#lastKey) {
      this.#lastKey = key;
      this.#ep = this.#entryPoint === null ? null : this.#entryPoint.row(key);
      this.#rt = this.#router === null ? null : this.#router.row(key);
      this.#sv = this.#service === null ? null : this.#service.row(key);
      if (this.#headerLabels !== null) {
        this.#epH = this.#entryPoint === null ? null : this.#entryPoint.headerRow(key);
        this.#rtH = this.#router === null ? null : this.#router.headerRow(key);
        this.#svH = this.#service === null ? null : this.#service.headerRow(key);
      }
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
    if (sv !== null) {
      if (serviceSeconds >= 0 && serviceSeconds !== seconds) {
        let s = 0;
        while (s < last && serviceSeconds > bounds[s]!) s++;
        record(sv, s, stride, serviceSeconds, bytesIn, bytesOut);
      } else record(sv, b, stride, seconds, bytesIn, bytesOut);
    }
    if (this.#headerLabels !== null) this.#countHeaders(this.#headerLabels.key(req));
    // Traefik's `*_requests_tls_total`: every request that came over TLS, at each level.
    const tls = req.tls;
    if (tls !== undefined) this.#countTls(this.#tlsPairs.of(tls));
  }

  /**
   * One request whose service level counts its own answer (row `svKey`, `svBytesOut`): the entry
   * point and router count `key` as observe() does, the service as tryEnded() counts a try.
   * Not the common path: a router middleware changed the service's answer.
   */
  #observeSplit(
    key: number,
    svKey: number,
    seconds: number,
    bytesIn: number,
    bytesOut: number,
    req: RequestHead,
    serviceSeconds: number,
    svBytesOut: number,
  ): void {
    const bounds = this.#bounds;
    const last = bounds.length;
    const stride = this.#stride;
    let b = 0;
    while (b < last && seconds > bounds[b]!) b++;
    const ep = this.#entryPoint === null ? null : this.#entryPoint.row(key);
    if (ep !== null) record(ep, b, stride, seconds, bytesIn, bytesOut);
    const rt = this.#router === null ? null : this.#router.row(key);
    if (rt !== null) record(rt, b, stride, seconds, bytesIn, bytesOut);
    const svSeconds = serviceSeconds >= 0 ? serviceSeconds : seconds;
    let s = 0;
    while (s < last && svSeconds > bounds[s]!) s++;
    const service = this.#service!;
    record(service.row(svKey), s, stride, svSeconds, bytesIn, svBytesOut >= 0 ? svBytesOut : bytesOut);
    const headerLabels = this.#headerLabels;
    if (headerLabels !== null) {
      const values = headerLabels.key(req);
      for (const [cell, k] of [
        [this.#entryPoint, key],
        [this.#router, key],
        [service, svKey],
      ] as const) {
        if (cell === null) continue;
        const byValues = cell.headerRow(k);
        byValues.set(values, (byValues.get(values) ?? 0) + 1);
      }
    }
    const tls = req.tls;
    if (tls !== undefined) this.#countTls(this.#tlsPairs.of(tls));
  }

  /** Traefik's headerLabels: the requests_total count by the request's header values too. */
  #countHeaders(values: string): void {
    const ep = this.#epH;
    if (ep !== null) ep.set(values, (ep.get(values) ?? 0) + 1);
    const rt = this.#rtH;
    if (rt !== null) rt.set(values, (rt.get(values) ?? 0) + 1);
    const sv = this.#svH;
    if (sv !== null) sv.set(values, (sv.get(values) ?? 0) + 1);
  }

  #countTls(pair: number): void {
    if (this.#entryPoint !== null) countTls(this.#entryPoint, pair);
    if (this.#router !== null) countTls(this.#router, pair);
    if (this.#service !== null) countTls(this.#service, pair);
  }

  tryEnded(
    status: number,
    seconds: number,
    req: RequestHead,
    upgrade: string | null,
    bytesIn = 0,
    bytesOut = 0,
  ): void {
    const service = this.#service;
    if (service === null) return;
    if (!(seconds >= 0)) seconds = 0;
    if (!(bytesIn >= 0)) bytesIn = 0;
    if (!(bytesOut >= 0)) bytesOut = 0;
    const proto = protocolIndex(req, upgrade);
    // Not the last key's rows (#lastKey): the request's own observe() follows with its answer.
    const key = rowKey(codeLabel(status, proto, undefined), methodIndex(req.method), proto);
    const bounds = this.#bounds;
    const last = bounds.length;
    let b = 0;
    while (b < last && seconds > bounds[b]!) b++;
    record(service.row(key), b, this.#stride, seconds, bytesIn, bytesOut);
    const headerLabels = this.#headerLabels;
    if (headerLabels !== null) {
      const byValues = service.headerRow(key);
      const values = headerLabels.key(req);
      byValues.set(values, (byValues.get(values) ?? 0) + 1);
    }
    const tls = req.tls;
    if (tls !== undefined) countTls(service, this.#tlsPairs.of(tls));
  }

  retry(): void {
    const service = this.#service;
    if (service !== null) service.retries++;
  }
}

/**
 * The `code` label: the status code, or for a gRPC or gRPC-Web request the gRPC status of its
 * response (Traefik's metricsMiddleware.ServeHTTP: `grpcStatusCode` when the protocol is grpc or
 * grpc-web).
 */
function codeLabel(status: number, proto: number, grpcStatus: string | undefined): number {
  if (proto === PROTO_GRPC || proto === PROTO_GRPC_WEB) return grpcCode(grpcStatus);
  const code = status | 0;
  return code < 0 || code > 999 ? 0 : code;
}
