/**
 * One active health probe of one server. HTTP mode behaves as Traefik v3's checker (Go's
 * http.Client): Host from `hostname` or the server's authority, headers set by name, redirects
 * followed as Go follows them, the final status judged against the accepted ranges as soon as its
 * head arrives (the body is never read, as Traefik never reads it). TCP mode only
 * opens a connection. A probe never throws and never outlives `timeoutMs` or `signal`: whatever
 * socket it holds is destroyed when it settles.
 *
 * Probes run every few seconds per server, not per request, so clarity beats allocation here.
 */
import { connect, type Socket } from 'node:net';
import type { PeerCertificate, SecureContext } from 'node:tls';
import { healthCheckPathIsUrl } from '../config/dynamic/health-check-path.ts';
import { type ActiveCheckOptions, MAX_REDIRECTS, statusAccepted } from './active-options.ts';
import { GRPC_HEALTH_HEADERS, GRPC_HEALTH_PATH, GRPC_HEALTH_REQUEST, judgeGrpcHealth } from './probe-grpc.ts';
import { sendH2Probe } from './probe-h2.ts';
import { type HttpProbeRequest, sendHttpProbe } from './probe-http.ts';

/** Where a server is reached. */
export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  /** host:port as written in the server URL, for the Host header. */
  readonly authority: string;
  /** The server URL's path and query ('/' when absent): what the check's `path` resolves against. */
  readonly path?: string;
  /** For an `https://` server: how to speak TLS to it (the service's transport settings). */
  readonly tls?: ProbeTls;
  /**
   * TLS for a redirect to an `https://` URL on `host`: Go's client follows it with the service's
   * transport, whatever the server's scheme (Traefik's pkg/healthcheck/healthcheck.go client).
   * A string says why there is none (the transport's TLS settings do not load).
   */
  readonly redirectTls?: (host: string) => ProbeTls | string;
  /** An `h2c://` server: probes speak HTTP/2 with prior knowledge (it may not speak HTTP/1.1). */
  readonly h2c?: boolean;
  /**
   * A server URL (config/dynamic/server-url.ts) or TCP address (server-address.ts) no request can be sent to: every probe fails
   * with this reason at once, as Traefik's do in Go's transport.
   */
  readonly unusable?: string;
}

/** TLS for probes of `https://` servers: the same trust and name checks as the requests. */
export interface ProbeTls {
  readonly secureContext: SecureContext;
  readonly servername: string | undefined;
  readonly rejectUnauthorized: boolean;
  /** The transport's peerCertURI check, when it has one (the same as its requests'). */
  readonly checkServerIdentity?: ((hostname: string, cert: PeerCertificate) => Error | undefined) | undefined;
  /**
   * Set when Go's TLS client in Traefik would refuse this handshake before sending anything (a
   * TCP server's transport without serverName or insecureSkipVerify): the reason, and no
   * handshake is tried.
   */
  readonly refusal?: string | undefined;
}

export interface ProbeResult {
  readonly ok: boolean;
  /** Why: 'status 200', 'status 500', 'connect ECONNREFUSED', 'timeout after 5000ms', … */
  readonly reason: string;
}

export function probe(
  target: ProbeTarget,
  opts: ActiveCheckOptions,
  signal: AbortSignal,
): Promise<ProbeResult> {
  if (signal.aborted) return Promise.resolve({ ok: false, reason: 'aborted' });
  if (target.unusable !== undefined) return Promise.resolve({ ok: false, reason: target.unusable });
  return new Promise((resolve) => new ProbeRun(target, opts, signal, resolve).start());
}

/** One HTTP request of a probe: the first one, or one per redirect followed. */
interface Hop extends HttpProbeRequest {
  /** Redirects followed before this hop. */
  readonly redirects: number;
}

/** Go's http.Client follows these (client.go redirectBehavior). */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Go drops these on a redirect to another domain (client.go shouldCopyHeaderOnRedirect). */
const SENSITIVE = new Set(['authorization', 'www-authenticate', 'cookie', 'cookie2']);

/** The probe owns Host (from `hostname`) and Connection (a fresh connection, closed after). */
const RESERVED = new Set(['host', 'connection']);

class ProbeRun {
  readonly #target: ProbeTarget;
  readonly #opts: ActiveCheckOptions;
  readonly #signal: AbortSignal;
  readonly #resolve: (r: ProbeResult) => void;
  #timer: NodeJS.Timeout | undefined;
  #socket: Socket | undefined;
  /** Tears down an HTTP/2 probe's session. */
  #teardown: (() => void) | undefined;
  /** Bumped per hop: events of a hop left behind by a redirect must not settle the probe. */
  #hop = 0;
  #done = false;

  constructor(
    target: ProbeTarget,
    opts: ActiveCheckOptions,
    signal: AbortSignal,
    resolve: (r: ProbeResult) => void,
  ) {
    this.#target = target;
    this.#opts = opts;
    this.#signal = signal;
    this.#resolve = resolve;
  }

  start(): void {
    const { timeoutMs } = this.#opts;
    this.#timer = setTimeout(() => this.#finish(false, `timeout after ${timeoutMs}ms`), timeoutMs);
    this.#timer.unref();
    this.#signal.addEventListener('abort', this.#onAbort);
    const port = this.#opts.port ?? this.#target.port;
    if (this.#opts.mode === 'tcp') {
      this.#tcp(port);
      return;
    }
    if (healthCheckPathIsUrl(this.#opts.path)) {
      // Traefik v3.6.8's newRequest (pkg/healthcheck/healthcheck.go): the check fails, no request.
      this.#finish(
        false,
        `health check path must be a relative URL, got: ${JSON.stringify(this.#opts.path)}`,
      );
      return;
    }
    const path = resolvePath(this.#opts.path, this.#target.path ?? '/');
    if (this.#opts.mode === 'grpc' || this.#target.h2c === true) {
      this.#h2(port, path);
      return;
    }
    this.#send({
      host: this.#target.host,
      port,
      // Traefik rewrites the URL's port, so the default Host carries the probed port.
      hostHeader:
        this.#opts.hostname ??
        (this.#opts.port === undefined
          ? this.#target.authority
          : `${hostOf(this.#target.authority)}:${port}`),
      path,
      method: this.#opts.method,
      headers: this.#opts.headers,
      tls: this.#target.tls,
      redirects: 0,
    });
  }

  readonly #onAbort = (): void => this.#finish(false, 'aborted');

  #finish(ok: boolean, reason: string): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    this.#signal.removeEventListener('abort', this.#onAbort);
    this.#socket?.destroy();
    this.#teardown?.();
    this.#resolve({ ok, reason });
  }

  /**
   * An HTTP/2 probe: gRPC's health `Check` (mode grpc; TLS for `https://` servers, which Traefik
   * would attempt in plaintext unless `scheme` says otherwise), or the HTTP check of an `h2c://`
   * server, judged on its status (redirects are not followed over HTTP/2).
   */
  #h2(port: number, path: string): void {
    const o = this.#opts;
    const t = this.#target;
    const grpc = o.mode === 'grpc';
    const authority = o.hostname ?? (o.port === undefined ? t.authority : `${hostOf(t.authority)}:${port}`);
    this.#teardown = sendH2Probe(
      {
        host: t.host,
        port,
        authority,
        method: grpc ? 'POST' : o.method,
        path: grpc ? GRPC_HEALTH_PATH : path,
        headers: grpc ? GRPC_HEALTH_HEADERS : withGoDefaults(o.headers, o.method, 'Go-http-client/2.0'),
        ...(grpc ? { body: GRPC_HEALTH_REQUEST } : { untilHead: true }),
        tls: t.tls,
      },
      (r) => {
        if (grpc) {
          const v = judgeGrpcHealth(r);
          this.#finish(v.ok, v.reason);
        } else if (!r.ok) this.#finish(false, `${r.phase} ${r.reason}`);
        else this.#finish(statusAccepted(o.status, r.status), `status ${r.status}`);
      },
    );
  }

  #tcp(port: number): void {
    let socket: Socket;
    try {
      socket = connect({ host: this.#target.host, port });
    } catch (e) {
      // An out-of-range port throws synchronously.
      this.#finish(false, `connect ${errorCode(e as Error)}`);
      return;
    }
    this.#socket = socket;
    socket.once('connect', () => this.#finish(true, 'connected'));
    socket.on('error', (e: Error) => this.#finish(false, `connect ${errorCode(e)}`));
  }

  #send(hop: Hop): void {
    const headers: [string, string][] = [];
    for (const [name, value] of hop.headers) {
      if (RESERVED.has(name.toLowerCase())) continue;
      // As node:http's setHeader: a later field of the same name (any case) replaces the earlier.
      const lower = name.toLowerCase();
      const at = headers.findIndex(([n]) => n.toLowerCase() === lower);
      if (at !== -1) headers.splice(at, 1);
      headers.push([name, value]);
    }
    withGoDefaults(headers, hop.method, 'Go-http-client/1.1', headers);
    this.#socket?.destroy();
    const id = ++this.#hop;
    const mine = () => this.#hop === id && !this.#done;
    this.#socket = sendHttpProbe(
      {
        host: hop.host,
        port: hop.port,
        hostHeader: hop.hostHeader,
        path: hop.path,
        method: hop.method,
        headers,
        tls: hop.tls,
      },
      {
        invalid: (message) => {
          if (mine()) this.#finish(false, `invalid request: ${message}`);
        },
        failed: (phase, code) => {
          if (mine()) this.#finish(false, `${phase} ${code}`);
        },
        head: (status, location) => {
          if (mine()) this.#onResponse(hop, status, location);
        },
      },
    );
  }

  /**
   * The verdict is the final response's status, given as soon as its head arrives: Traefik's
   * checker never reads the body (pkg/healthcheck/healthcheck.go checkHealthHTTP), so a body that
   * is slow, endless or broken off changes nothing.
   */
  #onResponse(hop: Hop, status: number, location: string | undefined): void {
    if (this.#opts.followRedirects && REDIRECTS.has(status) && location !== undefined && location !== '') {
      this.#redirect(hop, status, location);
      return;
    }
    this.#finish(statusAccepted(this.#opts.status, status), `status ${status}`);
  }

  #redirect(from: Hop, status: number, location: string): void {
    if (from.redirects >= MAX_REDIRECTS) {
      this.#finish(false, `stopped after ${MAX_REDIRECTS} redirects`);
      return;
    }
    let url: URL;
    try {
      // Only the path of the base matters: an absolute or scheme-relative location brings its host.
      url = new URL(location, `http://probe.invalid${from.path}`);
    } catch {
      this.#finish(false, `invalid redirect location ${JSON.stringify(location)}`);
      return;
    }
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') {
      this.#finish(false, `redirect to unsupported scheme ${url.protocol.slice(0, -1)}`);
      return;
    }
    const path = `${url.pathname}${url.search}`;
    // Go turns 301/302/303 into GET unless the method was GET or HEAD.
    const method = status <= 303 && from.method !== 'GET' && from.method !== 'HEAD' ? 'GET' : from.method;
    const redirects = from.redirects + 1;
    if (!/^[a-z][a-z0-9+.-]*:|^\/\//i.test(location)) {
      // Relative: same server, same Host (Go keeps a custom Host only for relative locations).
      this.#send({ ...from, path, method, redirects });
      return;
    }
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    // Go's client follows http and https alike with Traefik's transport (its TLS settings, the SNI
    // of the new host unless the transport names one), whichever scheme the server's URL has.
    let tls: ProbeTls | undefined;
    if (secure) {
      const t = this.#target;
      const got =
        t.redirectTls?.(host) ?? (host === t.host && t.tls !== undefined ? t.tls : 'no TLS settings for it');
      if (typeof got === 'string') {
        this.#finish(false, `redirect to ${url.origin}: ${got}`);
        return;
      }
      tls = got;
    }
    const sameDomain = isDomainOrSubdomain(host.toLowerCase(), this.#target.host.toLowerCase());
    this.#send({
      host,
      port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
      hostHeader: url.host,
      path,
      method,
      headers: sameDomain ? from.headers : from.headers.filter(([n]) => !SENSITIVE.has(n.toLowerCase())),
      tls,
      redirects,
    });
  }
}

/**
 * What Go's client adds to Traefik's probes when they lack it (net/http Request.write's default
 * User-Agent; Transport.roundTrip's `Accept-Encoding: gzip`, Traefik's transports leaving
 * compression on, for any method but HEAD and a request without Range): a backend that tells
 * health checks apart by their User-Agent sees Traefik's. Appended to `into` (a copy by default).
 */
function withGoDefaults(
  headers: readonly (readonly [string, string])[],
  method: string,
  userAgent: string,
  into: (readonly [string, string])[] = [...headers],
): (readonly [string, string])[] {
  const has = (name: string): boolean => headers.some(([n]) => n.toLowerCase() === name);
  if (!has('user-agent')) into.push(['User-Agent', userAgent]);
  if (method !== 'HEAD' && !has('accept-encoding') && !has('range')) into.push(['Accept-Encoding', 'gzip']);
  return into;
}

/**
 * `ref` resolved against the server URL's path and query, as Traefik's newRequest does
 * (pkg/healthcheck/healthcheck.go: `target.Parse(path)`): an absolute path replaces the server's,
 * a relative one replaces its last segment, an empty one keeps the server's path and query.
 */
export function resolvePath(ref: string, base: string): string {
  const url = new URL(ref, `http://probe.invalid${base.startsWith('/') ? base : `/${base}`}`);
  return `${url.pathname}${url.search}`;
}

function errorCode(e: Error): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : e.message;
}

/** `host` of `host:port` or `[v6]:port`; the whole authority when it has no port. */
function hostOf(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end === -1 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(':');
  return colon === -1 || authority.indexOf(':') !== colon ? authority : authority.slice(0, colon);
}

/** Go's rule, including its refusal to treat IPv6 literals as subdomains. */
function isDomainOrSubdomain(sub: string, parent: string): boolean {
  if (sub === parent) return true;
  if (sub.includes(':') || sub.includes('%')) return false;
  return sub.endsWith(`.${parent}`);
}
