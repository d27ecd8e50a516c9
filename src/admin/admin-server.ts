import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../core/logger.ts';
import { providerOf } from '../core/qualified-name.ts';
import { statusText } from '../core/status-text.ts';
import type { ApiProvider, ApiSection } from '../providers/api/index.ts';
import type { RestProvider } from '../providers/rest/index.ts';
import type { ProviderStates } from '../providers/status.ts';
import type { ConfigWatcher } from '../runtime/config-watcher.ts';
import {
  decodeIdentity,
  INTERNAL_IDENTITY_HEADER,
  type InternalOrigin,
} from '../runtime/internal-services.ts';
import type { RuntimeSnapshot, SnapshotRef } from '../runtime/types.ts';
import { AdminAccess } from './access.ts';
import { ApiWrites } from './api-writes.ts';
import { AdminAuth } from './auth.ts';
import { AuthThrottle, DEFAULT_THROTTLE, type ThrottleOptions } from './auth-throttle.ts';
import { certificateViews } from './certificate-views.ts';
import { disabledObject, record, strings, text } from './disabled-views.ts';
import { explain, explainRequestHead } from './explain.ts';
import {
  isJsonType,
  readBody,
  sendError,
  sendGoNotFound,
  sendJson,
  sendMuxMethodNotAllowed,
  sendText,
  sendTraefikError,
} from './http-io.ts';
import type { InternalObjects } from './internal-views.ts';
import { type L4EntryPoints, type L4Kind, l4Names, l4Overview, l4View, l4Views } from './l4-views.ts';
import { type ListKind, listPage, type Written, type WrittenOf } from './list-query.ts';
import { redactSecrets } from './redact.ts';
import { anonymize, supportDump } from './support-dump.ts';
import {
  internalViews,
  middlewareView,
  middlewareViews,
  objectNames,
  overviewView,
  type RouterView,
  routerView,
  routerViews,
  serviceView,
  serviceViews,
  withInternal,
} from './views.ts';

export interface AdminServerDeps {
  readonly snapshots: SnapshotRef;
  readonly watcher: ConfigWatcher;
  /** Null when the API provider is not enabled: every write is 405. */
  readonly api: ApiProvider | null;
  /** The supervised providers' states (`/api/providers`); absent = none shown. */
  readonly providers?: ProviderStates;
  /** `providers.rest`: `rest@internal` takes its PUTs; absent = not enabled. */
  readonly rest?: RestProvider;
  /**
   * The entry points; `config`, Traefik's JSON of one (admin/entry-point-views.ts), is what
   * `/api/entrypoints` shows beside `name` (absent: `{address}`).
   */
  readonly entryPoints: readonly {
    readonly name: string;
    readonly address: string;
    readonly config?: Readonly<Record<string, unknown>>;
  }[];
  /**
   * Traefik's internal provider's routers, services and middlewares (admin/internal-views.ts),
   * built from the static configuration once: listed, counted and in rawdata as Traefik's are.
   */
  readonly internal?: InternalObjects;
  /** Traefik's overview `providers`: the static providers by Go field name (getProviders). */
  readonly overviewProviders?: readonly string[];
  /**
   * The entry points that proxy traffic (not the admin ones): what a router without
   * `entryPoints` listens on, and where explain may route. Default: every entry point.
   */
  readonly proxyEntryPoints?: readonly string[];
  readonly version: string;
  /**
   * Traefik's overview `features` (pkg/api/handler_overview.go getFeatures): the tracing and
   * metrics backends by their static field names (`OTLP`, `Prometheus`; '' for none) and whether
   * the access log is on. Absent: none.
   */
  readonly features?: { readonly tracing: string; readonly metrics: string; readonly accessLog: boolean };
  readonly auth: { readonly bearerTokens: string[]; readonly basicAuth: string[] } | undefined;
  /** Read-only access without credentials beyond loopback through `api.entryPoint` (Traefik's `api.insecure`). */
  readonly insecure: boolean;
  /** Host names accepted without credentials besides IP addresses and localhost (lowercased). */
  readonly allowedHosts?: readonly string[];
  readonly readOnly: boolean;
  /** A promise when the answer is gathered from data-plane workers (src/workers). */
  readonly metrics: { render(): string | Promise<string> } | null;
  /**
   * `api.basePath` without its trailing `/` ('' for `/`): the API and dashboard paths are under
   * it (Traefik's pkg/api createRouter and dashboard.Append); other paths are not theirs.
   */
  readonly basePath?: string;
  /** A dashboard file by its path under `/dashboard/` ('' = the page itself). */
  readonly dashboard: ((path: string) => { type: string; body: string } | undefined) | null;
  readonly logger: Logger;
  /** What /ping answers once `terminate()` was called (`ping.terminatingStatusCode`). Default 503. */
  readonly terminatingStatusCode?: number;
  /** How long a write waits for the watcher's outcome. Default 10 s. */
  readonly outcomeTimeoutMs?: number;
  /**
   * The secret of the identity header the proxy's internal routes set (runtime/internal-services):
   * `handle` serves only requests that carry it. Undefined: `handle` refuses everything.
   */
  readonly bridgeSecret?: string;
  /** `api.debug`: `/debug/vars` is served (Traefik's DebugHandler). */
  readonly debug?: boolean;
  /** The static configuration, for `/api/support-dump` (anonymized there). Absent: `{}`. */
  readonly staticConfig?: unknown;
  /** Failed-authentication throttling; `now` defaults to Date.now. */
  readonly throttle?: Partial<ThrottleOptions>;
}

const BODY_LIMIT = 1024 * 1024;
/** The longest `/debug/pprof/profile` or `heap` a request may ask for. */
const MAX_PROFILE_SECONDS = 60;
/** A REST provider's PUT carries a whole configuration (Traefik reads it without a limit). */
const REST_BODY_LIMIT = 64 * 1024 * 1024;
/** When the process started (Traefik's version.StartDate). */
const START_DATE = new Date(performance.timeOrigin).toISOString();
const NO_FEATURES = { tracing: '', metrics: '', accessLog: false } as const;
const SECTIONS = ['routers', 'services', 'middlewares'] as const;
type Section = (typeof SECTIONS)[number];
/** Traefik's layer 4 views: no UDP middlewares (our configuration has none). */
const L4_SECTIONS: Readonly<Record<L4Kind, readonly Section[]>> = {
  tcp: SECTIONS,
  udp: ['routers', 'services'],
};
const READ = 'GET, HEAD';
const READ_WRITE = 'GET, PUT, PATCH, DELETE';
/** The one-segment routes of Traefik's API (pkg/api/handler.go createRouter), GET only. */
const TRAEFIK_ROUTES: ReadonlySet<string> = new Set([
  'overview',
  'entrypoints',
  'rawdata',
  'version',
  'certificates',
  'support-dump',
]);

/**
 * The internal services' request handler (`api@internal`, `dashboard@internal`,
 * `ping@internal`, `prometheus@internal`): the JSON API, the dashboard, `/ping` and `/metrics`.
 * It sits behind the proxy's routes (the bridge, see runtime/internal-services.ts): each request
 * says which service its router named and who the client is, and access is decided by that
 * (admin/access.ts).
 */
export class AdminServer {
  readonly #deps: AdminServerDeps;
  readonly #access: AdminAccess;
  readonly #writes: ApiWrites | null;
  readonly #entryPointNames: readonly string[];
  readonly #l4EntryPoints: L4EntryPoints;
  /** Every entry point's name (`using` keeps those a router names that exist). */
  readonly #entryPointSet: ReadonlySet<string>;

  /** The proxy is shutting down: /ping says so (Traefik's ping handler `terminating`). */
  #terminating = false;
  /** A `/debug/pprof` profile is being taken (one at a time, as Go's CPU profile). */
  #profiling = false;

  constructor(deps: AdminServerDeps) {
    this.#deps = deps;
    const auth = deps.auth === undefined ? null : new AdminAuth(deps.auth);
    const throttle: ThrottleOptions = { ...DEFAULT_THROTTLE, now: Date.now, ...deps.throttle };
    this.#access = new AdminAccess({
      // `auth: {}` names nobody: treat it as absent (loopback only) rather than lock everyone out.
      auth: auth === null || auth.empty ? null : auth,
      insecure: deps.insecure,
      allowedHosts: deps.allowedHosts ?? [],
      failures: new AuthThrottle(throttle),
      refusals: new AuthThrottle(throttle),
      logger: deps.logger,
    });
    this.#writes =
      deps.api === null || deps.readOnly
        ? null
        : new ApiWrites(deps.api, deps.watcher, deps.logger, deps.outcomeTimeoutMs ?? 10_000);
    this.#entryPointNames = deps.proxyEntryPoints ?? deps.entryPoints.map((e) => e.name);
    this.#entryPointSet = new Set(deps.entryPoints.map((e) => e.name));
    const udp = new Set(deps.entryPoints.filter((e) => /\/udp$/i.test(e.address)).map((e) => e.name));
    this.#l4EntryPoints = {
      tcpDefaults: this.#entryPointNames.filter((n) => !udp.has(n)),
      udp: [...udp],
    };
  }

  /** A request from the bridge: served as its identity header says, refused without one. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const secret = this.#deps.bridgeSecret;
    const origin =
      secret === undefined ? undefined : decodeIdentity(header(req, INTERNAL_IDENTITY_HEADER), secret);
    if (origin === undefined) {
      // Only the proxy's own routes know the secret: this is a local process that found the port.
      this.#access.refuseUnproxied(req.socket.remoteAddress ?? '', {
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?', 1)[0]!,
        host: req.headers.host,
        authorization: undefined,
      });
      req.resume();
      sendError(res, 403, 'the admin server is reached through the proxy entry points only');
      return;
    }
    this.serve(req, res, origin);
  }

  /** From now on /ping answers `terminatingStatusCode`: the proxy is shutting down. */
  terminate(): void {
    this.#terminating = true;
  }

  /** Serves `req` for the client and internal service `origin` names. */
  serve(req: IncomingMessage, res: ServerResponse, origin: InternalOrigin): void {
    this.#serve(req, res, origin).then(undefined, (e: unknown) => {
      this.#deps.logger.error('admin request failed', { url: req.url, error: e });
      if (!res.headersSent) sendError(res, 500, 'internal error');
      else res.destroy();
    });
  }

  async #serve(req: IncomingMessage, res: ServerResponse, origin: InternalOrigin): Promise<void> {
    const url = requestUrl(req.url);
    if (url === undefined) return sendError(res, 400, 'malformed request target');
    let path = url.pathname;
    const method = req.method ?? 'GET';
    const read = method === 'GET' || method === 'HEAD';
    // Health checkers probe /ping without credentials; it tells nothing about the configuration.
    // As Traefik's pkg/ping/ping.go Handler.ServeHTTP: every request its router sends it, whatever
    // the path (a router `Path(\`/healthz\`)` naming ping@internal) or the method, gets the status
    // and its text (`OK`).
    if (origin.service === 'ping') {
      req.resume();
      return sendStatus(res, this.#terminating ? (this.#deps.terminatingStatusCode ?? 503) : 200);
    }
    const ask = { method, path, host: req.headers.host, authorization: req.headers.authorization };
    if (origin.service === 'rest') return this.#rest(req, res, origin, ask);
    const admission = this.#access.check(origin, ask);
    if (!admission.ok) return sendError(res, admission.status, admission.error, {}, admission.headers ?? {});
    // As Traefik's prometheus@internal (the promhttp handler): the metrics for every request its
    // router sends, whatever the path (a router `Path(\`/prom\`)` naming it) or the method.
    if (origin.service === 'prometheus') {
      req.resume();
      if (this.#deps.metrics === null) return sendGoNotFound(res);
      const text = this.#deps.metrics.render();
      return sendText(
        res,
        200,
        'text/plain; version=0.0.4; charset=utf-8',
        typeof text === 'string' ? text : await text,
      );
    }
    // `api.basePath`: the API's and the dashboard's paths are under it.
    const base = this.#deps.basePath ?? '';
    if (base !== '') {
      if (path === base || path === `${base}/`) path = '/';
      else if (path.startsWith(`${base}/`)) path = path.slice(base.length);
      else return sendGoNotFound(res);
    }
    // Only a request that would write is checked as a write: any other method is answered by the
    // routes (Traefik's bare 405), as Traefik does for every client.
    if (isWrite(origin.service, method, path)) {
      if (admission.level === 'read') {
        const refused = this.#access.refuseWrite(origin, ask);
        return sendError(res, refused.status, refused.error);
      }
      if (req.headers.origin !== undefined && !sameOrigin(req.headers.origin, req.headers.host)) {
        // A browser page of another site may send simple requests (a POST without preflight).
        return sendError(res, 403, 'cross-origin writes are not allowed');
      }
    }
    // Traefik's api@internal serves the dashboard too; dashboard@internal serves only that.
    const dashboard = origin.service === 'dashboard' || this.#deps.dashboard !== null;
    if (dashboard && (path === '/' || path === '/dashboard')) {
      if (this.#deps.dashboard === null) return sendGoNotFound(res);
      // Traefik's dashboard.Append: a GET route.
      if (method !== 'GET') return sendMuxMethodNotAllowed(res, 'GET');
      res.writeHead(302, {
        location: base === '' ? 'dashboard/' : `${base}/dashboard/`,
        'content-length': 0,
      });
      res.end();
      return;
    }
    if (origin.service === 'api' && this.#deps.debug === true && path.startsWith('/debug/'))
      return this.#debug(req, res, path, method, url);
    if (dashboard && path.startsWith('/dashboard/'))
      return this.#dashboard(res, path.slice('/dashboard/'.length), read);
    // Anything else is a path no route of Traefik's API mux takes: Go's 404 page.
    if (origin.service !== 'api' || !path.startsWith('/api/')) return sendGoNotFound(res);
    // One snapshot for the whole answer: a view never mixes generations.
    const snap = this.#deps.snapshots.current;
    const parts = path.slice(5).split('/');
    const route = parts[0]!;
    if (parts.length === 1) {
      // Ours: the API provider's configuration, its rollback, the providers' states, explain.
      if (route === 'rollback') return this.#rollback(req, res, method);
      if (route === 'config') return this.#config(req, res, method, url);
      if (route === 'providers' || route === 'explain') {
        if (!read) return this.#notAllowed(res, READ);
        if (route === 'providers') return sendJson(res, 200, this.#deps.providers?.list() ?? []);
        const r = this.#explain(snap, url.searchParams);
        return sendJson(res, r.status, r.body);
      }
      if (!TRAEFIK_ROUTES.has(route)) return sendGoNotFound(res);
      // Traefik's routes (pkg/api/handler.go createRouter): `.Methods(http.MethodGet)`, so HEAD
      // and the others get gorilla/mux's bare 405.
      if (method !== 'GET') return sendMuxMethodNotAllowed(res, 'GET');
      switch (route) {
        case 'overview':
          return sendJson(res, 200, {
            ...overviewView(
              snap,
              this.#deps.watcher.status,
              this.#deps.version,
              this.#entryPointNames,
              this.#deps.internal,
            ),
            ...l4Overview(snap, this.#l4EntryPoints),
            features: this.#deps.features ?? NO_FEATURES,
            // Traefik's getProviders (pkg/api/handler_overview.go): the static providers by field name.
            ...(this.#deps.overviewProviders === undefined || this.#deps.overviewProviders.length === 0
              ? {}
              : { providers: this.#deps.overviewProviders }),
          });
        case 'entrypoints':
          return sendList(
            res,
            this.#deps.entryPoints.map((e) => this.#entryPointView(e)),
            'entrypoints',
            url.searchParams,
          );
        case 'rawdata':
          return sendJson(res, 200, { ...(redactSecrets(snap.config) as object), ...this.#rawByName(snap) });
        case 'version':
          // With Traefik's own keys (pkg/version/version.go Handler): Version, Codename, startDate.
          return sendJson(res, 200, {
            version: this.#deps.version,
            node: process.versions.node,
            Version: this.#deps.version,
            Codename: '',
            startDate: START_DATE,
          });
        case 'certificates':
          return sendList(res, certificateViews(snap), 'certificates', url.searchParams);
        default:
          return this.#supportDump(res, snap);
      }
    }
    if ((route === 'entrypoints' || route === 'certificates') && parts.length === 2 && parts[1] !== '') {
      if (method !== 'GET') return sendMuxMethodNotAllowed(res, 'GET');
      const id = pathVar(res, route === 'entrypoints' ? 'entryPointID' : 'certificateID', parts[1]!);
      if (id === undefined) return;
      if (route === 'entrypoints') {
        // Traefik's getEntryPoint (pkg/api/handler_entrypoint.go).
        const ep = this.#deps.entryPoints.find((e) => e.name === id);
        if (ep === undefined) return sendTraefikError(res, 404, `entry point not found: ${id}`);
        return sendJson(res, 200, this.#entryPointView(ep));
      }
      // Traefik v3.7's getCertificate (pkg/api/handler_certificate.go): by SHA-256 fingerprint.
      const cert = certificateViews(snap).find((c) => c.name === id);
      if (cert === undefined) return sendTraefikError(res, 404, `certificate not found: ${id}`);
      return sendJson(res, 200, cert);
    }
    const kind = route === 'tcp' || route === 'udp' ? route : route === 'http' ? 'http' : undefined;
    const section = (kind === undefined ? [] : kind === 'http' ? SECTIONS : L4_SECTIONS[kind]).find(
      (s) => s === parts[1],
    );
    // mux's `{routerID}` takes one segment, not an empty one.
    if (kind === undefined || section === undefined || parts.length > 3 || parts[2] === '')
      return sendGoNotFound(res);
    if (parts.length === 2) {
      if (method !== 'GET') return sendMuxMethodNotAllowed(res, 'GET');
      const items: object[] =
        kind === 'http' ? this.#list(snap, section) : l4Views(snap, kind, section, this.#l4EntryPoints);
      const listKind: ListKind =
        section !== 'routers'
          ? section
          : kind === 'http'
            ? 'routers'
            : kind === 'tcp'
              ? 'tcpRouters'
              : 'udpRouters';
      return sendList(res, items, listKind, url.searchParams, (item) => written(snap, kind, section, item));
    }
    // Ours: the API provider writes `http` objects (PUT, PATCH, DELETE); layer 4 is read-only.
    const writable = kind === 'http' && (method === 'PUT' || method === 'PATCH' || method === 'DELETE');
    if (method !== 'GET' && !writable)
      return sendMuxMethodNotAllowed(res, kind === 'http' ? 'GET, PUT, PATCH, DELETE' : 'GET');
    const name = pathVar(res, `${section.slice(0, -1)}ID`, parts[2]!);
    if (name === undefined) return;
    if (method === 'GET') {
      const r = kind === 'http' ? this.#one(snap, section, name) : this.#oneL4(snap, kind, section, name);
      if (r.status !== 200) return sendTraefikError(res, r.status, (r.body as { message: string }).message);
      return sendJson(res, r.status, r.body);
    }
    return this.#change(req, res, method, section as ApiSection, name, url);
  }

  /**
   * `api.debug`, as Traefik's DebugHandler (pkg/api/debug.go) appends it to the API's mux, GET
   * only: `/debug/vars` (expvar), and under `/debug/pprof/` what has a Node counterpart:
   * `cmdline` as Go's, `profile` (a CPU profile of the main thread, V8's `.cpuprofile` JSON) and
   * `heap` (V8's sampling heap profile, `.heapprofile` JSON) over `seconds` (default 30 and 10,
   * at most 60), one at a time. Not Go's pprof format: Chrome DevTools and `speedscope` read them.
   */
  async #debug(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    method: string,
    url: URL,
  ): Promise<void> {
    if (path !== '/debug/vars' && !path.startsWith('/debug/pprof/')) return sendGoNotFound(res);
    if (method !== 'GET') return sendMuxMethodNotAllowed(res, 'GET');
    if (path === '/debug/vars') return sendJson(res, 200, debugVars());
    const name = path.slice('/debug/pprof/'.length);
    if (name === 'cmdline') {
      // Go's pprof.Cmdline: the arguments joined by NUL.
      return sendText(res, 200, 'text/plain; charset=utf-8', process.argv.join('\0'));
    }
    if (name !== 'profile' && name !== 'heap')
      return sendText(res, 404, 'text/plain; charset=utf-8', 'Unknown profile\n', { 'x-go-pprof': '1' });
    // Go's pprof.Profile: `seconds`, 30 when absent or not a positive integer.
    const given = url.searchParams.get('seconds') ?? '';
    const raw = /^[+-]?\d+$/.test(given) ? Number(given) : 0;
    const seconds = Number.isSafeInteger(raw) && raw > 0 ? raw : name === 'profile' ? 30 : 10;
    if (seconds > MAX_PROFILE_SECONDS)
      return sendText(
        res,
        400,
        'text/plain; charset=utf-8',
        `profile duration exceeds the limit of ${MAX_PROFILE_SECONDS}s\n`,
        { 'x-go-pprof': '1' },
      );
    if (this.#profiling)
      return sendText(
        res,
        500,
        'text/plain; charset=utf-8',
        'Could not enable profiling: profiling already in use\n',
        { 'x-go-pprof': '1' },
      );
    this.#profiling = true;
    try {
      const profile = await profileFor(name, seconds, req);
      if (profile === undefined) return void res.destroy();
      const body = JSON.stringify(profile);
      res.writeHead(200, {
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'content-type': 'application/json',
        'content-disposition': `attachment; filename="${name === 'profile' ? 'profile.cpuprofile' : 'heap.heapprofile'}"`,
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    } finally {
      this.#profiling = false;
    }
  }

  /** `#entryPointView` for the entry point `e`: Traefik's shape (admin/entry-point-views.ts). */
  #entryPointView(e: AdminServerDeps['entryPoints'][number]): object {
    return { ...(e.config ?? { address: e.address }), name: e.name };
  }

  /**
   * `rest@internal`, as Traefik's REST provider answers (pkg/provider/rest/rest.go, a gorilla/mux
   * route `PUT /api/providers/{provider}`): another path is 404, another method 405, another
   * provider than `rest` 400, a body that does not decode 400 with the reason, else 200 with the
   * configuration as JSON. Access: its own router exists only with `providers.rest.insecure`, and
   * a router naming the service is the operator's choice, so a client reaching it may write, as
   * in Traefik; with `api.auth` it must authenticate, and the Host must not be another site's name
   * (DNS rebinding), as for the API.
   */
  async #rest(
    req: IncomingMessage,
    res: ServerResponse,
    origin: InternalOrigin,
    ask: { method: string; path: string; host: string | undefined; authorization: string | undefined },
  ): Promise<void> {
    const rest = this.#deps.rest;
    const m = /^\/api\/providers\/([^/]+)$/.exec(ask.path);
    if (rest === undefined || m === null) {
      req.resume();
      return sendText(res, 404, 'text/plain; charset=utf-8', '404 page not found\n', NOSNIFF);
    }
    if (ask.method !== 'PUT') {
      req.resume();
      res.writeHead(405, { 'content-length': 0 });
      res.end();
      return;
    }
    const admission = this.#access.check(origin, ask, { insecure: true });
    if (!admission.ok) {
      req.resume();
      return sendError(res, admission.status, admission.error, {}, admission.headers ?? {});
    }
    if (req.headers.origin !== undefined && !sameOrigin(req.headers.origin, req.headers.host)) {
      req.resume();
      return sendError(res, 403, 'cross-origin writes are not allowed');
    }
    if (m[1] !== 'rest') {
      req.resume();
      return goError(res, 400, "Only 'rest' provider can be updated through the REST API");
    }
    const body = await readBody(req, REST_BODY_LIMIT);
    if (body === undefined) return goError(res, 413, 'request body too large');
    const answer = rest.put(body.toString('utf8'));
    if (answer.status === 400) {
      this.#deps.logger.error('Error parsing configuration', { providerName: 'rest', error: answer.message });
      return goError(res, 400, answer.message);
    }
    const json = JSON.stringify(answer.body);
    sendText(res, 200, 'application/json; charset=UTF-8', json);
  }

  #dashboard(res: ServerResponse, sub: string, read: boolean): void {
    const file = read ? this.#deps.dashboard?.(sub) : undefined;
    if (file !== undefined) {
      sendText(res, 200, file.type, file.body, {
        'cache-control': 'no-cache',
        'x-frame-options': 'DENY',
        // Only the framing directive: the page sets its own policy for scripts and styles.
        'content-security-policy': "frame-ancestors 'none'",
      });
    } else if (read || this.#deps.dashboard === null) sendGoNotFound(res);
    else this.#notAllowed(res, READ);
  }

  /**
   * Traefik's rawdata keys (pkg/api/handler.go RunTimeRepresentation: routers, middlewares,
   * services, tcpRouters, tcpMiddlewares, tcpServices, udpRouters, udpServices), each object by
   * its name as the lists show it; empty ones left out, as Traefik's omitempty does.
   */
  #rawByName(snap: RuntimeSnapshot): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    const add = (key: string, items: readonly object[]): void => {
      if (items.length === 0) return;
      const m: Record<string, unknown> = {};
      for (const item of items) {
        const { name, ...rest } = item as { name: string };
        m[name] = rest;
      }
      out[key] = m;
    };
    for (const section of SECTIONS) add(section, this.#list(snap, section));
    for (const kind of ['tcp', 'udp'] as const)
      for (const section of L4_SECTIONS[kind])
        add(
          `${kind}${section[0]!.toUpperCase()}${section.slice(1)}`,
          l4Views(snap, kind, section, this.#l4EntryPoints),
        );
    return out;
  }

  /**
   * Traefik's getSupportDump (pkg/api/handler_support_dump.go): version.json, the static
   * configuration anonymized, the runtime objects (Traefik's rawdata keys), as a .tar.gz download.
   */
  #supportDump(res: ServerResponse, snap: RuntimeSnapshot): void {
    const body = supportDump([
      { name: 'version.json', json: { version: this.#deps.version, codename: '', startDate: START_DATE } },
      { name: 'static-config.json', json: anonymize(this.#deps.staticConfig ?? {}) },
      { name: 'runtime-config.json', json: redactSecrets(this.#rawByName(snap)) },
    ]);
    res.writeHead(200, {
      'cache-control': 'no-store',
      'content-type': 'application/gzip',
      'content-disposition': 'attachment; filename=support-dump.tar.gz',
      'content-length': body.length,
    });
    res.end(body);
  }

  /**
   * Traefik's `using` on an HTTP router (pkg/config/runtime RouterInfo.Using, filled by
   * GetRoutersByEntryPoints): the entry points among its own that exist, sorted, once each.
   */
  #withUsing(view: RouterView): RouterView & { readonly using: string[] } {
    const using = [...new Set(view.entryPoints)].filter((ep) => this.#entryPointSet.has(ep)).sort();
    return { ...view, using };
  }

  /** A section's views, Traefik's internal provider's objects among them (sorted by name). */
  #list(snap: RuntimeSnapshot, section: Section): object[] {
    const int = this.#internal(snap);
    if (section === 'routers')
      return withInternal(routerViews(snap, this.#entryPointNames), int?.routers ?? []).map((v) =>
        this.#withUsing(v),
      );
    if (section === 'services') return withInternal(serviceViews(snap), int?.services ?? []);
    return withInternal(middlewareViews(snap), int?.middlewares ?? []);
  }

  #internal(snap: RuntimeSnapshot): ReturnType<typeof internalViews> | undefined {
    return this.#deps.internal === undefined ? undefined : internalViews(snap, this.#deps.internal);
  }

  #oneL4(snap: RuntimeSnapshot, kind: L4Kind, section: Section, name: string): Reply {
    const found = lookup(l4Names(snap, kind, section), section, name);
    if (typeof found !== 'string') return found;
    return { status: 200, body: l4View(snap, kind, section, found, this.#l4EntryPoints) };
  }

  #one(snap: RuntimeSnapshot, section: Section, name: string): Reply {
    const int = this.#internal(snap)?.[section] ?? [];
    const found = lookup([...objectNames(snap, section), ...int.map((v) => v.name)], section, name);
    if (typeof found !== 'string') return found;
    const internal = int.find((v) => v.name === found);
    if (internal !== undefined)
      return {
        status: 200,
        body: section === 'routers' ? this.#withUsing(internal as RouterView) : internal,
      };
    if (section === 'routers') {
      const view = routerView(snap, found, this.#entryPointNames);
      return { status: 200, body: view === undefined ? view : this.#withUsing(view) };
    }
    if (section === 'middlewares') return { status: 200, body: middlewareView(snap, found) };
    const view = serviceView(snap, found);
    const config =
      snap.config.http.services[found] ?? redactSecrets(disabledObject(snap, 'services', found)?.value);
    return { status: 200, body: { ...view, config } };
  }

  #explain(snap: RuntimeSnapshot, q: URLSearchParams): Reply {
    const entryPoint = q.get('entryPoint') ?? this.#explainDefault();
    if (typeof entryPoint !== 'string') return fail(400, entryPoint.error);
    // Any entry point: routers (and the internal services) may be on the admin ones too.
    if (!this.#deps.entryPoints.some((e) => e.name === entryPoint))
      return fail(400, `unknown entry point \`${entryPoint}\``);
    const target = q.get('url');
    if (target === null) return fail(400, 'the url parameter is required');
    const method = q.get('method');
    const clientIp = q.get('clientIp');
    const head = explainRequestHead({
      url: target,
      entryPoint,
      headers: q.getAll('header'),
      ...(method !== null ? { method } : {}),
      ...(clientIp !== null ? { clientIp } : {}),
    });
    if ('error' in head) return fail(400, head.error);
    return { status: 200, body: explain(snap, entryPoint, head) };
  }

  /**
   * The entry point explain takes without `entryPoint=`: the first default one; without any
   * (only a UDP or the `traefik` entry point is `asDefault`), the only HTTP entry point, else an
   * error naming them.
   */
  #explainDefault(): string | { error: string } {
    const first = this.#entryPointNames[0];
    if (first !== undefined) return first;
    const udp = new Set(this.#l4EntryPoints.udp);
    const http = this.#deps.entryPoints.map((e) => e.name).filter((n) => !udp.has(n));
    if (http.length === 1) return http[0]!;
    if (http.length === 0) return { error: 'there is no HTTP entry point to explain for' };
    return {
      error: `there is no default entry point: name one with entryPoint= (${http
        .sort()
        .map((n) => `\`${n}\``)
        .join(', ')})`,
    };
  }

  #config(req: IncomingMessage, res: ServerResponse, method: string, url: URL): Promise<void> | void {
    const api = this.#deps.api;
    if (api === null) return sendError(res, 404, 'the API provider is not enabled');
    if (method === 'GET' || method === 'HEAD') {
      const etag = `"${api.etag}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag, 'cache-control': 'no-store' });
        res.end();
        return;
      }
      return sendJson(res, 200, api.config, { etag });
    }
    if (method !== 'PUT') return this.#notAllowed(res, this.#writes === null ? READ : 'GET, HEAD, PUT');
    if (this.#writes === null) return this.#readOnly(res);
    return this.#withBody(req, res, method, (body) => ({ kind: 'replace', config: body }), url);
  }

  #rollback(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> | void {
    if (method !== 'POST') return this.#notAllowed(res, 'POST');
    if (this.#writes === null) return this.#readOnly(res);
    return this.#writes.rollback(req, res);
  }

  #change(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    section: ApiSection,
    name: string,
    url: URL,
  ): Promise<void> | void {
    if (method !== 'PUT' && method !== 'PATCH' && method !== 'DELETE')
      return this.#notAllowed(res, READ_WRITE);
    // The provider that owns it: the part after its last `@` (mergeProviders appends it).
    const at = name.lastIndexOf('@');
    const provider = at === -1 ? '' : name.slice(at + 1);
    if (provider !== '' && provider !== 'api') {
      return this.#notAllowed(
        res,
        READ,
        `\`${name}\` belongs to provider ${provider}: only \`@api\` objects can be changed through the API`,
      );
    }
    if (method === 'DELETE') {
      if (this.#writes === null) return this.#readOnly(res);
      return this.#writes.change(req, res, { kind: 'delete', section, name }, isDryRun(url));
    }
    return this.#withBody(
      req,
      res,
      method,
      (body) =>
        method === 'PUT'
          ? { kind: 'put', section, name, value: body }
          : { kind: 'patch', section, name, patch: body },
      url,
    );
  }

  async #withBody(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    change: (body: unknown) => Parameters<ApiWrites['change']>[2],
    url: URL,
  ): Promise<void> {
    const writes = this.#writes;
    if (writes === null) return this.#readOnly(res);
    if (!isJsonType(req.headers['content-type'])) {
      return sendError(res, 415, `${method} takes a JSON body (Content-Type: application/json)`);
    }
    const raw = await readBody(req, BODY_LIMIT);
    if (raw === undefined) {
      return sendError(res, 413, `the body is larger than ${BODY_LIMIT} bytes`, {}, { connection: 'close' });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      return sendError(res, 400, `the body is not JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    return writes.change(req, res, change(body), isDryRun(url));
  }

  #readOnly(res: ServerResponse): void {
    const why = this.#deps.readOnly ? 'the API is read-only' : 'the API provider is not enabled';
    this.#notAllowed(res, READ, why);
  }

  #notAllowed(res: ServerResponse, allow: string, error = 'method not allowed'): void {
    sendError(res, 405, error, {}, { allow });
  }
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

function fail(status: number, error: string): Reply {
  return { status, body: { error, message: error } };
}

/** A list with Traefik's query parameters (admin/list-query.ts): one page, X-Next-Page, or 400. */
function sendList(
  res: ServerResponse,
  items: readonly object[],
  kind: ListKind,
  q: URLSearchParams,
  asWritten?: WrittenOf,
): void {
  const page = listPage(items, kind, q, asWritten);
  if (page.ok) sendJson(res, 200, page.items, { 'x-next-page': String(page.nextPage) });
  else sendTraefikError(res, 400, page.message);
}

/**
 * A path variable as Traefik's handlers decode it (pkg/api/handler_*.go: url.PathUnescape), else
 * 400 `unable to decode routerID "<raw>": invalid URL escape "%zz"` (then undefined). Bytes that
 * are not UTF-8 decode as U+FFFD (Go keeps them; such a name is found by neither).
 */
function pathVar(res: ServerResponse, variable: string, raw: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 0x25) {
      bytes.push(...Buffer.from(raw[i]!, 'utf8'));
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
      // Go's EscapeError: the `%` and at most two characters after it.
      const bad = raw.slice(i, i + 3);
      sendTraefikError(
        res,
        400,
        `unable to decode ${variable} ${JSON.stringify(raw)}: invalid URL escape ${JSON.stringify(bad)}`,
      );
      return undefined;
    }
    bytes.push(Number.parseInt(hex, 16));
    i += 2;
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * A router's service and middlewares as its configuration writes them, which Traefik's filters
 * compare (pkg/api/criterion.go filterService, filterMiddleware on RouterInfo's own fields): the
 * views qualify them.
 */
function written(
  snap: RuntimeSnapshot,
  kind: 'http' | 'tcp' | 'udp',
  section: Section,
  item: object,
): Written | undefined {
  if (section !== 'routers') return undefined;
  const name = (item as { name: string }).name;
  const own = (snap.config[kind]?.routers as Record<string, unknown> | undefined)?.[name];
  // An internal router writes its references qualified, as its view shows them.
  if (own === undefined && kind === 'http' && providerOf(name) === 'internal') return undefined;
  const r = record(own ?? disabledObject(snap, 'routers', name, kind === 'http' ? undefined : kind)?.value);
  const service = text(r['service']);
  return { ...(service === '' ? {} : { service }), middlewares: strings(r['middlewares']) };
}

/** The object `name` designates among `names`: `web` finds `web@file` when only one provider has a `web`. */
function lookup(names: readonly string[], section: Section, name: string): string | Reply {
  if (names.includes(name)) return name;
  const same = name.includes('@') ? [] : names.filter((n) => n.slice(0, n.lastIndexOf('@')) === name);
  if (same.length > 1) return fail(409, `several providers have \`${name}\`: name one (${same.join(', ')})`);
  // Traefik's wording (pkg/api/handler_http.go getRouter…): "router not found: <name>".
  if (same.length === 0) return fail(404, `${section.slice(0, -1)} not found: ${name}`);
  return same[0]!;
}

/**
 * The request target as a URL. Origin-form is appended to a fixed origin rather than resolved
 * against it: `//x/api` resolved would become host `x`, path `/api`.
 */
function requestUrl(target: string | undefined): URL | undefined {
  const t = target ?? '/';
  try {
    return t.startsWith('/') ? new URL(`http://admin.invalid${t}`) : new URL(t);
  } catch {
    return undefined;
  }
}

/** One header's value (the first, when a client repeated it). */
function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Our write routes: the API provider's objects, its whole configuration, its rollback. */
function isWrite(service: string, method: string, path: string): boolean {
  if (service !== 'api') return false;
  if (method === 'PUT' && path === '/api/config') return true;
  if (method === 'POST' && path === '/api/rollback') return true;
  return (
    (method === 'PUT' || method === 'PATCH' || method === 'DELETE') &&
    /^\/api\/http\/(routers|services|middlewares)\/[^/]+$/.test(path)
  );
}

function isDryRun(url: URL): boolean {
  const v = url.searchParams.get('dryRun');
  return v !== null && v !== 'false' && v !== '0';
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

const NOSNIFF = { 'x-content-type-options': 'nosniff' } as const;

/**
 * `/debug/vars` with api.debug, as Traefik's DebugHandler (pkg/api/debug.go) serves Go's expvar:
 * `cmdline` (the process's arguments), `memstats` and Traefik's `Goroutines2`. Node has no Go
 * runtime: memstats holds the fields that have a Node counterpart (Alloc and HeapAlloc and
 * HeapInuse: the V8 heap in use; HeapSys: the heap reserved; Sys: the resident set), and
 * Goroutines2 the handles keeping the event loop alive.
 */
function debugVars(): Record<string, unknown> {
  const m = process.memoryUsage();
  return {
    Goroutines2: process.getActiveResourcesInfo().length,
    cmdline: process.argv,
    memstats: {
      Alloc: m.heapUsed,
      HeapAlloc: m.heapUsed,
      HeapInuse: m.heapUsed,
      HeapSys: m.heapTotal,
      Sys: m.rss,
    },
  };
}

/**
 * A status and its reason phrase as the body (Traefik's ping: WriteHeader, then
 * http.StatusText). 204 and 304 (a `terminatingStatusCode` of 204) go without a body and without
 * Content-Length, as Go's server sends them; a 1xx is only informational in Go, the text then
 * goes out under an implicit 200, which is what the client sees as the answer.
 */
function sendStatus(res: ServerResponse, status: number): void {
  if (status < 200) {
    sendText(res, 200, 'text/plain; charset=utf-8', statusText(status));
    return;
  }
  if (status === 204 || status === 304) {
    res.writeHead(status, { 'cache-control': 'no-store' });
    res.end();
    return;
  }
  sendText(res, status, 'text/plain; charset=utf-8', statusText(status));
}

/** Go's http.Error: the text with a newline, as plain text that is not to be sniffed. */
function goError(res: ServerResponse, status: number, text: string): void {
  sendText(res, status, 'text/plain; charset=utf-8', `${text}\n`, NOSNIFF);
}

/**
 * A CPU profile (`profile`) or a sampling heap profile (`heap`) of this thread over `seconds`,
 * through node:inspector (loaded only here); stopped early, and undefined, when the client goes.
 */
async function profileFor(name: 'profile' | 'heap', seconds: number, req: IncomingMessage): Promise<unknown> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  const domain = name === 'profile' ? 'Profiler' : 'HeapProfiler';
  let gone = false;
  try {
    if (name === 'profile') {
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    } else {
      await session.post('HeapProfiler.enable');
      await session.post('HeapProfiler.startSampling');
    }
    await new Promise<void>((resolve) => {
      const closed = (): void => {
        gone = true;
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        req.socket.off('close', closed);
        resolve();
      }, seconds * 1000);
      req.socket.once('close', closed);
    });
    const result =
      name === 'profile'
        ? (await session.post('Profiler.stop')).profile
        : (await session.post('HeapProfiler.stopSampling')).profile;
    await session.post(`${domain}.disable`);
    return gone ? undefined : result;
  } finally {
    session.disconnect();
  }
}
