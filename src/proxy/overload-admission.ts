import type { DirectResponse } from '../core/request.ts';
import type { MemoryBudget } from '../core/spooled-body.ts';
import { BODY_LENGTH, type ParsedRequest } from '../http1/request-head.ts';
import type { EntryPointGate } from '../overload/entry-point-gate.ts';
import type { BodyBudget } from '../overload/overload-manager.ts';
import type { RouteTarget } from '../runtime/types.ts';
import type { RequestBody } from './request-body.ts';

/**
 * What one HTTP/1.1 body can hold in the proxy at once: one socket read (up to 64 KiB) and the
 * upstream socket's write buffer, which the exchange stops feeding once it is over its high-water
 * mark (64 KiB): the client is paused until it drains.
 */
export const H1_BODY_WINDOW = 128 * 1024;

/**
 * HTTP/2: the stream's receive window (256 KiB, http2/settings.ts), which a paused stream may
 * fill, and the upstream write buffer.
 */
export const H2_BODY_WINDOW = 320 * 1024;

const SERVICE_UNAVAILABLE = 'Service Unavailable';

/**
 * Requests to the proxy's own services are never shed: ping (health checks), the API and
 * dashboard, Prometheus scrapes, ACME http-01 answers and entry-point redirections. They cost
 * no upstream and are what an operator needs most while the proxy is under pressure.
 */
export function neverShed(route: RouteTarget): boolean {
  return route.service.name.endsWith('@internal');
}

/**
 * The overload manager's say on a routed request, asked only when it sheds or when the request
 * has a body (ExchangeCore.start). Returns the 503 to answer, or undefined: admitted, its body
 * (if any) counted in the request-body budget until the body is through (the bytes a retry or
 * mirror copy keeps, until the request ends).
 */
export function admitRequest(
  gate: EntryPointGate,
  route: RouteTarget,
  parsed: ParsedRequest,
  body: RequestBody | null,
  http2: boolean,
): DirectResponse | undefined {
  if (gate.shedding !== 0) {
    if (!neverShed(route)) {
      gate.countShed(gate.shedding);
      return { status: 503, headers: gate.retryAfterHeaders, body: SERVICE_UNAVAILABLE };
    }
    gate.exempted++;
  }
  if (body !== null) {
    const window = http2 ? H2_BODY_WINDOW : H1_BODY_WINDOW;
    const n = parsed.bodyKind === BODY_LENGTH ? Math.min(parsed.contentLength, window) : window;
    const budget = gate.manager;
    if (!budget.takeBody(n)) {
      if (!neverShed(route)) {
        gate.shed.request_body_memory++;
        return { status: 503, headers: gate.retryAfterHeaders, body: SERVICE_UNAVAILABLE };
      }
      budget.forceBody(n);
    }
    body.hold(budget, n);
  }
  return undefined;
}

/** `b` seen as a budget that takes every body whatever its limit (the proxy's own routes). */
export function forcedBudget(b: BodyBudget): MemoryBudget {
  return {
    takeBody(n: number): boolean {
      b.forceBody(n);
      return true;
    },
    giveBody: (n: number) => b.giveBody(n),
    bodySpilled: () => b.bodySpilled(),
  };
}
