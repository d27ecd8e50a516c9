import { isIP } from 'node:net';
import type { Logger } from '../core/logger.ts';
import { isLoopback, isLoopbackHost } from '../core/loopback.ts';
import type { InternalOrigin } from '../runtime/internal-services.ts';
import type { AdminAuth } from './auth.ts';
import type { AuthThrottle } from './auth-throttle.ts';

export interface AccessOptions {
  /** Null: no credentials are configured (loopback, `insecure` and routers decide). */
  readonly auth: AdminAuth | null;
  /** Traefik's `api.insecure`: read-only access beyond loopback through `api.entryPoint`. */
  readonly insecure: boolean;
  /** Lowercased names (or `*.domain`) accepted in Host without credentials, beside IPs and localhost. */
  readonly allowedHosts: readonly string[];
  /** Failed authentications, per client. */
  readonly failures: AuthThrottle;
  /** Refusals without credentials, per client: only to keep their log lines few. */
  readonly refusals: AuthThrottle;
  readonly logger: Logger;
}

export interface AccessRequest {
  readonly method: string;
  readonly path: string;
  readonly host: string | undefined;
  readonly authorization: string | undefined;
}

/** `read`: GET and HEAD only; `write`: every method. */
export type Admission =
  | { readonly ok: true; readonly level: 'read' | 'write' }
  | {
      readonly ok: false;
      readonly status: 401 | 403 | 429;
      readonly error: string;
      readonly headers?: Readonly<Record<string, string | string[]>>;
    };

const CHALLENGE = ['Bearer realm="traffic"', 'Basic realm="traffic", charset="UTF-8"'];

/**
 * Who may use the API, dashboard and metrics (`/ping` is open to all):
 *
 * - with `api.auth`: whoever presents configured credentials, for reads and writes, from
 *   anywhere (a browser never attaches them to another site's origin, so DNS rebinding gains
 *   nothing). Wrong credentials are logged and counted per client; past a burst the client gets
 *   429 until its bucket drains, whatever it sends.
 * - without: a loopback peer with a loopback Host reads and writes. Other peers may read (never
 *   write) when `api.insecure` is set, or when a router of the configuration names the service
 *   (publishing it was the operator's choice, as in Traefik) — and then only with a Host that
 *   cannot be another site's name resolved to us: an IP address, `localhost`, a name of
 *   `api.allowedHosts`, or one the router's rule requires.
 */
export class AdminAccess {
  readonly #o: AccessOptions;

  constructor(o: AccessOptions) {
    this.#o = o;
  }

  get hasAuth(): boolean {
    return this.#o.auth !== null;
  }

  /** `opts.insecure`: the service's own router is there by an `insecure` key of its own. */
  check(origin: InternalOrigin, req: AccessRequest, opts: { readonly insecure?: boolean } = {}): Admission {
    const auth = this.#o.auth;
    if (auth !== null) return this.#withCredentials(auth, origin, req);
    const loopback = isLoopback(origin.clientIp);
    if (loopback && isLoopbackHost(req.host)) return { ok: true, level: 'write' };
    if (!loopback && origin.via === 'entryPoint' && !(opts.insecure ?? this.#o.insecure)) {
      return this.#refuse(
        origin,
        req,
        'not loopback',
        origin.service === 'prometheus'
          ? // Traefik serves /metrics to every client of its entry point (pkg/metrics/prometheus.go
            // PrometheusHandler: promhttp's handler, no access check). A Prometheus in another
            // container lands here: say how to let it in without opening the API.
            'the metrics are served to loopback clients only on metrics.prometheus.entryPoint (Traefik serves every client): configure api.auth and give Prometheus the credentials, or set metrics.prometheus.manualRouting and route them with a router naming prometheus@internal whose rule requires the Host Prometheus scrapes (Host(`traefik`) && PathPrefix(`/metrics`))'
          : 'the admin API serves loopback clients only: configure api.auth (or api.insecure for read-only access)',
      );
    }
    if (!origin.hostPinned && !this.#hostAllowed(req.host)) {
      return this.#refuse(
        origin,
        req,
        'host not allowed',
        `the Host \`${hostName(req.host) ?? ''}\` is not allowed without credentials (DNS rebinding): use an IP address or localhost, list the name in api.allowedHosts, or configure api.auth`,
      );
    }
    return { ok: true, level: 'read' };
  }

  #withCredentials(auth: AdminAuth, origin: InternalOrigin, req: AccessRequest): Admission {
    const ip = origin.clientIp;
    if (req.authorization === undefined) {
      // A browser's first request carries none; it is not a guess, so it is neither counted nor logged.
      return {
        ok: false,
        status: 401,
        error: 'authentication required',
        headers: { 'www-authenticate': CHALLENGE },
      };
    }
    const wait = this.#o.failures.retryAfterMs(ip);
    if (wait > 0) {
      // Not even checked: a client past its burst learns nothing more by guessing on.
      const f = this.#o.failures.fail(ip);
      if (f.log) this.#log('admin authentication throttled', origin, req, 'too many failures', f.unlogged);
      return {
        ok: false,
        status: 429,
        error: 'too many failed authentications: try again later',
        headers: { 'retry-after': String(Math.ceil(wait / 1000)) },
      };
    }
    if (auth.check(req.authorization)) return { ok: true, level: 'write' };
    const f = this.#o.failures.fail(ip);
    if (f.log)
      this.#log('admin authentication failed', origin, req, authFailure(req.authorization), f.unlogged);
    return {
      ok: false,
      status: 401,
      error: 'authentication failed',
      headers: { 'www-authenticate': CHALLENGE },
    };
  }

  /** A write from a client admitted to read only. */
  refuseWrite(origin: InternalOrigin, req: AccessRequest): { status: 403; error: string } {
    this.#refuse(origin, req, 'write without credentials', '');
    return {
      status: 403,
      error:
        'writes need api.auth credentials, or a loopback client with a loopback Host when api.auth is not configured (api.insecure never allows them)',
    };
  }

  /** A request on the bridge port without the proxy's identity: logged, a few lines per client. */
  refuseUnproxied(peer: string, req: AccessRequest): void {
    const f = this.#o.refusals.fail(peer);
    if (!f.log) return;
    this.#o.logger.warn('admin request refused', {
      clientIp: peer,
      method: req.method,
      path: req.path,
      reason: 'not through the proxy (no valid identity)',
      ...(f.unlogged > 0 ? { alsoRefusedSinceLastLine: f.unlogged } : {}),
    });
  }

  #refuse(origin: InternalOrigin, req: AccessRequest, reason: string, error: string): Admission {
    const f = this.#o.refusals.fail(origin.clientIp);
    if (f.log) this.#log('admin request refused', origin, req, reason, f.unlogged);
    return { ok: false, status: 403, error };
  }

  /** Never the credentials: the client, what it asked, and why it was refused. */
  #log(msg: string, origin: InternalOrigin, req: AccessRequest, reason: string, unlogged: number): void {
    this.#o.logger.warn(msg, {
      clientIp: origin.clientIp,
      method: req.method,
      path: req.path,
      host: hostName(req.host) ?? '',
      service: `${origin.service}@internal`,
      reason,
      ...(unlogged > 0 ? { alsoRefusedSinceLastLine: unlogged } : {}),
    });
  }

  #hostAllowed(host: string | undefined): boolean {
    const name = hostName(host);
    if (name === undefined) return false;
    if (isIP(name) !== 0 || isLoopbackHost(name)) return true;
    for (const a of this.#o.allowedHosts) {
      if (a.startsWith('*.') ? name.endsWith(a.slice(1)) : name === a) return true;
    }
    return false;
  }
}

/** The name in a Host header: lowercased, without port, brackets or trailing dot. */
export function hostName(host: string | undefined): string | undefined {
  if (host === undefined || host === '') return undefined;
  let name = host.toLowerCase();
  if (name.startsWith('[')) {
    const end = name.indexOf(']');
    if (end === -1) return undefined;
    name = name.slice(1, end);
  } else {
    const colon = name.lastIndexOf(':');
    if (colon !== -1) name = name.slice(0, colon);
  }
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function authFailure(authorization: string): string {
  const scheme = authorization.trim().split(' ', 1)[0]!.toLowerCase();
  return scheme === 'bearer' || scheme === 'basic' ? `wrong ${scheme} credentials` : 'unsupported scheme';
}
