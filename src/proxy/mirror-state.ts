import type { HeaderList } from '../core/headers.ts';
import type { Logger } from '../core/logger.ts';
import { type RequestHead, withQuery } from '../core/request.ts';
import type { Ticker } from '../core/ticker.ts';
import type { Comparison, MirrorResult } from '../observability/mirror-compare.ts';
import type { RequestSpan } from '../observability/tracing/index.ts';
import {
  type FailoverNode,
  joinTargetPath,
  type MirroringNode,
  type ResolveSink,
  type ServerRuntime,
  type ServiceRuntime,
} from '../runtime/types.ts';
import type { ReportedExchange } from './exchange-report.ts';
import { MirrorCopy, MirrorRequest } from './mirror-request.ts';
import { MirrorRun } from './mirror-run.ts';
import type { RequestTrace } from './request-trace.ts';

/** A mirror's resolution must not set cookies or chain more mirrors on the client's request. */
const DISCARD: ResolveSink = {
  addSetCookie: () => {},
  mirrorThrough: (_: MirroringNode) => {},
  failoverThrough: (_: FailoverNode) => {},
  // Mirrors with service middlewares below them resolve through their MirrorRun instead.
  serviceMiddlewares: () => {},
  serviceStep: null,
};

/**
 * Counts a mirror's request on the mirror's service (metrics): its `status` (the server's, or the
 * proxy's error status), duration and body bytes each way, and the server that took it.
 */
export type MirrorCount = (
  lb: ServiceRuntime,
  status: number,
  seconds: number,
  bytesIn: number,
  bytesOut: number,
  server: ServerRuntime,
) => void;

/** Mirrors never hold a connection for ever, even against a server that never answers. */
const MIRROR_TIMEOUT_MS = 60_000;

/**
 * What every copy of one request shares: its recorded body (or null) and the ways it is counted:
 * `count`, with metrics on, counts each copy a server took on its service.
 */
export interface SendEnv {
  readonly body: Buffer | null;
  readonly ticker: Ticker;
  readonly logger: Logger;
  readonly count: MirrorCount | null;
  readonly trace: MirrorTracing | null;
}

/**
 * A request's copies to send (MirrorState.start): the request, its Host, and `forwardedFor`,
 * the address each copy appends to X-Forwarded-For when its head is written (Traefik's mirror
 * sends a clone of the request through its proxy, which appends the peer to each), or null;
 * what the request's frozen form holds wins over these. One object per mirrored request, the
 * copies' SendEnv too.
 */
export interface MirrorSend extends SendEnv {
  readonly req: RequestHead;
  readonly hostHeader: string;
  readonly forwardedFor: string | null;
}

/** A traced request's mirrors: its RequestTrace and the exchange it reads the request from. */
export interface MirrorTracing {
  readonly trace: RequestTrace;
  readonly ex: ReportedExchange;
}

/** A copy's spans, innermost (its ReverseProxy span) first. */
type CopySpans = RequestSpan[];

/** The copy's answer (or its failure's status, 0 when aborted) ends its spans. */
function endCopySpans(spans: CopySpans, status: number): void {
  const now = Date.now();
  spans[0]!.end(now, status === 0 ? 499 : status);
  for (let i = 1; i < spans.length; i++) spans[i]!.end(now, -1);
}

/**
 * The mirrors of one request: which ones take it (percent), the copies sent once the primary
 * answered, and the comparison with the primary's response in compare mode. As Traefik's
 * mirroring (pkg/server/service/loadbalancer/mirror/mirror.go ServeHTTP), the main service is
 * served first and the copies leave after its answer, none if the client canceled meanwhile. A
 * mirror never slows or fails the primary: its copies start on a later turn of the event loop
 * (Traefik's routine pool), its errors are only counted, and it outlives the client's request.
 */
export class MirrorState {
  readonly node: MirroringNode;
  readonly comparison: Comparison | null;
  /** True when the request body must be recorded for the mirrors. */
  readonly wantsBody: boolean;
  readonly #chosen: number[] = [];
  #started = false;
  /**
   * The attempt that met the mirroring ended, its body still coming: the copies go once it is
   * whole (Traefik's mirroring reads it whole before its main handler, so its copies always have it).
   */
  due = false;
  /**
   * The request as the mirroring service got it, when service middlewares below it (its main
   * service's) ran since: Traefik's mirroring hands its main handler a clone and the mirrors
   * clones of the request as it came (pkg/server/service/loadbalancer/mirror/mirror.go), so
   * what the main service's middlewares change never reaches a mirror. Null for most requests.
   */
  #frozen: {
    method: string;
    target: string;
    path: string;
    query: string;
    omitForwardedFor: boolean;
    headers: HeaderList;
    host: string;
    forwardedFor: string | null;
  } | null = null;

  /**
   * `compare` false: no comparison with the primary's answer (a retry's later attempt, whose
   * primary is not the one the request was first mirrored for).
   */
  constructor(node: MirroringNode, req: RequestHead, hasBody: boolean, compare = true) {
    this.node = node;
    for (let i = 0; i < node.mirrors.length; i++) if (node.mirrors[i]!.take()) this.#chosen.push(i);
    this.comparison =
      !compare || node.comparator === null || this.#chosen.length === 0
        ? null
        : node.comparator.begin(req.method, req.path);
    if (this.comparison !== null) {
      for (let i = 0; i < node.mirrors.length; i++) if (!this.#chosen.includes(i)) this.comparison.skip(i);
    }
    this.wantsBody = hasBody && node.mirrorBody && this.#chosen.length > 0;
  }

  get idle(): boolean {
    return this.#chosen.length === 0;
  }

  /** The copies were sent, or given up (skip). */
  get started(): boolean {
    return this.#started;
  }

  /**
   * Keeps the request as it is now for the copies (service middlewares are about to run).
   * `forwardedFor`: the address each copy appends to X-Forwarded-For, or null.
   */
  freeze(req: RequestHead, hostHeader: string, forwardedFor: string | null): void {
    if (this.#frozen !== null || this.#chosen.length === 0) return;
    this.#frozen = {
      method: req.method,
      target: mirrorTarget(req),
      path: req.path,
      query: req.query,
      omitForwardedFor: req.omitForwardedFor,
      headers: req.headers.clone(),
      host: hostHeader,
      forwardedFor,
    };
  }

  /**
   * Sends the copies (at most once), on a later turn of the event loop: the primary's answer,
   * already written, is flushed first (Traefik's mirroring hands its copies to its routine pool,
   * mirror.go ServeHTTP). `s` says what to send and how to count it (MirrorSend).
   */
  start(s: MirrorSend): void {
    if (this.#started) return;
    this.#started = true;
    setImmediate(() => {
      try {
        this.#send(s);
      } catch (e) {
        // Nothing about a mirror may reach the client, nor the process.
        s.logger.error('mirror failed to start', { error: String(e) });
      }
    });
  }

  #send(s: MirrorSend): void {
    const { req, body } = s;
    const f = this.#frozen;
    const hostHeader = f === null ? s.hostHeader : f.host;
    const method = f === null ? req.method : f.method;
    const target = f === null ? mirrorTarget(req) : f.target;
    const headers = f === null ? req.headers : f.headers;
    const forwardedFor = f === null ? s.forwardedFor : f.forwardedFor;
    const copy = new MirrorCopy(method, target, headers, body, forwardedFor);
    for (const i of this.#chosen) {
      const mirror = this.node.mirrors[i]!;
      if (mirror.stepped === true) {
        // Service middlewares on the mirror's side (Traefik v3.7): each copy runs them on a
        // request of its own, as Traefik's mirror serves each mirror handler a clone.
        const head: RequestHead = {
          method,
          path: f === null ? req.path : f.path,
          query: f === null ? req.query : f.query,
          host: req.host,
          hostPort: req.hostPort,
          headers: headers.clone(),
          clientIp: req.clientIp,
          scheme: req.scheme,
          entryPoint: req.entryPoint,
          omitForwardedFor: f === null ? req.omitForwardedFor : f.omitForwardedFor,
          tls: req.tls,
        };
        new MirrorRun(this, i, head, hostHeader, forwardedFor, s).run();
        continue;
      }
      this.send(i, mirror.node.resolve(req, DISCARD), req, copy, hostHeader, s, null);
    }
  }

  /**
   * Sends mirror `i`'s copy `copy` to a server of `lb` (undefined: none available). `done`, when
   * the copy ran service middlewares, hears its outcome (their leases are released then).
   */
  send(
    i: number,
    lb: ServiceRuntime | undefined,
    req: RequestHead,
    copy: MirrorCopy,
    hostHeader: string,
    env: SendEnv,
    done: ((status: number, networkError: boolean) => void) | null,
  ): void {
    const mirror = this.node.mirrors[i]!;
    const idx = lb === undefined ? -1 : lb.pick(req, 0, null, DISCARD);
    if (lb === undefined || idx < 0) {
      this.report(i, {
        ok: false,
        status: 0,
        headers: {},
        digest: null,
        error: 'no server available',
        bytes: 0,
      });
      done?.(503, false);
      return;
    }
    const { body, count, trace } = env;
    const server = lb.servers[idx]!;
    const host = lb.passHostHeader ? hostHeader : server.authority;
    const began = count === null ? 0 : performance.now();
    // A traced request: each copy has its own fields, to carry its own call's context.
    let spans: CopySpans | null = null;
    let fields = copy.headers;
    if (trace !== null) {
      fields = fields.clone();
      spans = trace.trace.mirror(trace.ex, lb.name, server, fields);
    }
    const r: MirrorRequest = new MirrorRequest(
      server.pool,
      env.ticker,
      // A mirror's server that keeps its URL's path (preservePath) gets a copy of its own.
      server.pathPrefix === '' && trace === null
        ? copy
        : new MirrorCopy(
            copy.method,
            server.pathPrefix === '' ? copy.target : joinTargetPath(server.pathPrefix, copy.target),
            fields,
            body,
            copy.forwardedFor,
          ),
      host,
      { headers: this.node.compareHeaders, digest: this.node.compareBody, timeoutMs: MIRROR_TIMEOUT_MS },
      (result) => {
        this.report(i, result);
        // A mirror's server handler is one of its service's (Traefik's mirror service calls
        // the mirror's built handler, pkg/server/service/service.go getMirrorServiceHandler),
        // so its service counts it; an aborted mirror (shutdown) is not an answer.
        const status = result.ok ? result.status : r.failStatus;
        if (spans !== null) endCopySpans(spans, status);
        if (count !== null && status !== 0)
          count(lb, status, (performance.now() - began) / 1000, body?.length ?? 0, result.bytes, server);
        done?.(status, !result.ok);
      },
    );
    try {
      r.start();
    } catch (e) {
      env.logger.error('mirror failed to start', { mirror: mirror.name, error: String(e) });
      done?.(0, true);
    }
  }

  /**
   * The request will not be mirrored (body too large, client gone before the answer, or before
   * its body ended).
   */
  skip(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.comparison !== null) for (const i of this.#chosen) this.comparison.skip(i);
  }

  report(index: number, r: MirrorResult): void {
    this.comparison?.mirror(index, r);
  }
}

/**
 * The copies' request target. A CONNECT's path is empty (an HTTP/2 client's CONNECT, which
 * Traefik v3.7.12 forwards): its copy goes to `/`, the request URI Traefik's sanitizePath makes
 * of it and its director sends (pkg/proxy/httputil/connect.go tunnels only the original).
 */
function mirrorTarget(req: RequestHead): string {
  const target = withQuery(req.path, req.query);
  return target.length === 0 ? '/' : target;
}
