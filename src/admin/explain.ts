import { HeaderList } from '../core/headers.ts';
import { providerOf, qualify } from '../core/qualified-name.ts';
import type { RequestHead } from '../core/request.ts';
import type { Middleware, RequestControl } from '../middleware/middleware.ts';
import type { RuntimeSnapshot } from '../runtime/types.ts';
import { flattenChain } from './views.ts';

export interface ExplainCandidate {
  readonly name: string;
  readonly priority: number;
  readonly matched: boolean;
  readonly rule: string;
}

/** A redirect the matched router answers with instead of going to its service. */
export interface ExplainRedirect {
  /** `web-to-websecure@internal` (the entry point's redirection) or a redirect middleware's name. */
  readonly by: string;
  readonly status: number;
  readonly location: string;
}

export interface ExplainResult {
  readonly entryPoint: string;
  /** The router the request would go to, or null. */
  readonly matched: string | null;
  /** Set when the matched router redirects the request (entry point redirection, redirectScheme, redirectRegex). */
  readonly redirect?: ExplainRedirect;
  /** Every router the index yields for the request, in evaluation order. */
  readonly candidates: readonly ExplainCandidate[];
  /** What runs for the matched router, chains replaced by their members. */
  readonly middlewares: readonly string[];
  readonly service: string | null;
}

export interface ExplainInput {
  /** Default GET. */
  readonly method?: string;
  /** `http://host[:port]/path?query` */
  readonly url: string;
  /** `Name: value` lines; a `Host` among them wins over the URL's authority, as on the wire. */
  readonly headers?: readonly string[];
  readonly entryPoint: string;
  /** For `ClientIP` rules. Default 127.0.0.1. */
  readonly clientIp?: string;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const URL_FORM = /^(https?):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?$/i;
/** Visible ASCII: what a request target may hold on the wire. */
const VISIBLE = /^[\x21-\x7e]*$/;
const REG_NAME = /^[A-Za-z0-9._~!$&'()*+,;=%-]+$/;

/**
 * The RequestHead a listener would build for this request (see listeners/http1-connection.ts):
 * path and query as written (no normalisation, the router sees the raw form), host lowercased
 * without port and trailing dot, scheme from the URL.
 */
export function explainRequestHead(input: ExplainInput): RequestHead | { readonly error: string } {
  const method = input.method ?? 'GET';
  if (!TOKEN.test(method)) return { error: `invalid method ${JSON.stringify(method)}` };
  const m = URL_FORM.exec(input.url);
  if (m === null) return { error: 'the URL must look like http://host/path or https://host/path' };
  const scheme = m[1]!.toLowerCase() === 'https' ? 'https' : 'http';
  const path = m[3] === '' ? '/' : m[3]!;
  const query = m[4] ?? '';
  if (!VISIBLE.test(path) || !VISIBLE.test(query))
    return { error: 'the URL holds characters a request target may not' };
  const headers = new HeaderList();
  for (const line of input.headers ?? []) {
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon);
    if (!TOKEN.test(name)) return { error: `invalid header ${JSON.stringify(line)} (expected Name: value)` };
    const value = line.slice(colon + 1).trim();
    if (/[\r\n\0]/.test(value)) return { error: `invalid value in header ${name}` };
    headers.append(name, value);
  }
  let authority = headers.get('host');
  if (authority === undefined) {
    authority = m[2]!;
    headers.append('Host', authority);
  }
  const split = splitAuthority(authority);
  if (split === null) return { error: `invalid host ${JSON.stringify(authority)}` };
  return {
    method,
    path,
    query,
    host: split.host,
    hostPort: split.port,
    headers,
    clientIp: input.clientIp ?? '127.0.0.1',
    scheme,
    entryPoint: input.entryPoint,
    // No X-Forwarded-* are added here: the fields are the ones given.
    omitForwardedFor: false,
  };
}

/** `host[:port]`, IPv6 in brackets; host lowercased and without one trailing dot, as the codec does. */
function splitAuthority(authority: string): { host: string; port: string } | null {
  let host: string;
  let port = '';
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close === -1 || !/^[0-9a-fA-F:.]+$/.test(authority.slice(1, close))) return null;
    host = authority.slice(0, close + 1);
    const rest = authority.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return null;
      port = rest.slice(1);
    }
  } else {
    const colon = authority.lastIndexOf(':');
    host = colon === -1 ? authority : authority.slice(0, colon);
    if (colon !== -1) port = authority.slice(colon + 1);
    if (!REG_NAME.test(host) || host.includes('@')) return null;
  }
  if (port !== '' && (!/^\d{1,5}$/.test(port) || Number(port) > 65535)) return null;
  host = host.toLowerCase();
  if (host.length > 1 && host.endsWith('.')) host = host.slice(0, -1);
  return { host, port };
}

/** Which router `req` goes to on `entryPoint`, why the others do not, and what it runs through. */
export function explain(snapshot: RuntimeSnapshot, entryPoint: string, req: RequestHead): ExplainResult {
  const routers = snapshot.config.http.routers;
  const candidates = snapshot.routes.explain(entryPoint, req).map(
    (c): ExplainCandidate => ({
      name: c.name,
      priority: c.priority,
      matched: c.matched,
      rule: routers[c.name]?.rule ?? '',
    }),
  );
  const winner = candidates.find((c) => c.matched);
  if (winner === undefined) return { entryPoint, matched: null, candidates, middlewares: [], service: null };
  const cfg = routers[winner.name];
  if (cfg === undefined) {
    // The proxy's own routers (`api@internal`, redirections, ACME): not in the configuration.
    // Those that answer by themselves (no service) are run: a redirection answers from the
    // request alone.
    const target = snapshot.routers.get(winner.name);
    const service = target === undefined ? null : target.service.name;
    const redirect =
      target === undefined || service !== SELF_ANSWERING
        ? undefined
        : redirectOf(winner.name, target.middlewares[0], req);
    return {
      entryPoint,
      matched: target === undefined ? null : winner.name,
      ...(redirect !== undefined ? { redirect } : {}),
      candidates,
      middlewares: [],
      service,
    };
  }
  const provider = providerOf(winner.name);
  const middlewares = flattenChain(snapshot, cfg.middlewares, provider);
  const redirect = middlewareRedirect(snapshot, middlewares, req);
  return {
    entryPoint,
    matched: winner.name,
    ...(redirect !== undefined ? { redirect } : {}),
    candidates,
    middlewares,
    // A parent router (multi-layer routing) names no service: its children do.
    service: cfg.service === undefined ? null : qualify(cfg.service, provider),
  };
}

/** The service of the proxy's routers that answer by themselves (runtime/internal-routes.ts). */
const SELF_ANSWERING = 'noop@internal';

/** Redirect middlewares answer from the request alone: explaining runs them, and nothing else. */
const REDIRECTS = new Set(['redirectScheme', 'redirectRegex']);

/** Explaining never suspends or ends a request: a middleware that asks for it is not run. */
const NO_CONTROL: RequestControl = {
  resume: () => {},
  onEnd: () => {},
  transformBody: () => {},
};

/**
 * The first redirect middleware of the chain that answers this request. Middlewares before it
 * are not run (they may count, limit or ask a server): a path they rewrite is seen unrewritten.
 */
function middlewareRedirect(
  snapshot: RuntimeSnapshot,
  names: readonly string[],
  req: RequestHead,
): ExplainRedirect | undefined {
  for (const name of names) {
    if (!REDIRECTS.has(snapshot.config.http.middlewares[name]?.type ?? '')) continue;
    const r = redirectOf(name, snapshot.middlewares.get(name)?.[0], req);
    if (r !== undefined) return r;
  }
  return undefined;
}

function redirectOf(by: string, mw: Middleware | undefined, req: RequestHead): ExplainRedirect | undefined {
  const answer = mw?.onRequest?.(req, NO_CONTROL);
  if (answer === undefined || typeof answer !== 'object') return undefined;
  const location = answer.headers?.find(([name]) => name.toLowerCase() === 'location')?.[1];
  return location === undefined ? undefined : { by, status: answer.status, location };
}
