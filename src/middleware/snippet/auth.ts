import type { Logger } from '../../core/logger.ts';
import type { DirectResponse, RequestHead } from '../../core/request.ts';
import type { Ticker } from '../../core/ticker.ts';
import type { UpstreamResponse } from '../../upstream/stream.ts';
import type { UpstreamTls } from '../../upstream/transport-tls.ts';
import { AuthCall, type AuthVerdict } from '../forward-auth/auth-call.ts';
import { AuthRequest } from '../forward-auth/auth-request.ts';
import { authRefusal, ForwardAuthState } from '../forward-auth/forward-auth.ts';
import type { RequestControl, RequestPhaseValue } from '../middleware.ts';
import { goHttpRedirect } from '../redirect-response.ts';
import { type Block, execute, Frame, RunState, runPosts } from './actions.ts';
import { interpolate, type Vars } from './variables.ts';

/** Traefik's snippet client: 30 s for the whole auth request. */
const AUTH_TIMEOUT_MS = 30_000;
const FAILED: DirectResponse = { status: 500, body: '' };
/** Traefik's hopHeaders, dropped from a refusal before it is relayed. */
const NOT_RELAYED = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
/**
 * Auth servers one address template may name (its variables in the host) whose pools are kept:
 * past it, the least recently asked one is closed (its idle sockets now, a busy one when its answer
 * ends) to make room. Traefik's Snippet asks through one http.Client (Go's DefaultTransport: any
 * number of hosts, 100 idle connections in all), so every server is reached there too.
 */
const MAX_AUTHORITIES = 64;

/** The auth part of the Snippet (Traefik's dynamic.Snippet.Auth, from auth-url and the others). */
export interface SnippetAuthConfig {
  readonly address: string;
  readonly authSigninURL: string;
  readonly method: string;
  readonly authResponseHeaders: readonly string[];
}

interface KeptPool {
  readonly state: ForwardAuthState;
  /** The pools' use count when it was last asked: the smallest is the least recently used. */
  used: number;
}

/** The pools of the auth servers an address names, by `scheme://host:port`; closed with the state. */
export class SnippetAuthPools {
  readonly #pools = new Map<string, KeptPool>();
  readonly #tls: UpstreamTls | undefined;
  readonly #ticker: Ticker;
  #uses = 0;

  constructor(tls: UpstreamTls | undefined, ticker: Ticker) {
    this.#tls = tls;
    this.#ticker = ticker;
  }

  pool(url: URL): ForwardAuthState {
    const key = `${url.protocol}//${url.host}`;
    let p = this.#pools.get(key);
    if (p === undefined) {
      if (this.#pools.size >= MAX_AUTHORITIES) this.#evict();
      p = {
        state: new ForwardAuthState(url, url.protocol === 'https:' ? this.#tls : undefined, this.#ticker),
        used: 0,
      };
      this.#pools.set(key, p);
    }
    p.used = ++this.#uses;
    return p.state;
  }

  /** Closes the least recently asked pool. */
  #evict(): void {
    let oldest: string | undefined;
    let min = Number.POSITIVE_INFINITY;
    for (const [k, p] of this.#pools) {
      if (p.used < min) {
        min = p.used;
        oldest = k;
      }
    }
    if (oldest === undefined) return;
    this.#pools.get(oldest)?.state.close();
    this.#pools.delete(oldest);
  }

  /** How many pools are kept (for the tests). */
  get size(): number {
    return this.#pools.size;
  }

  close(): void {
    for (const p of this.#pools.values()) p.state.close();
    this.#pools.clear();
  }
}

/** One request's auth call: the verdict, then what the Snippet does on success. */
interface Pending {
  readonly req: RequestHead;
  readonly address: string;
  readonly onSuccess: (req: RequestHead) => void;
}

/**
 * Traefik's Snippet executeForwardAuth (pkg/middlewares/ingressnginx/snippet/snippet.go): the
 * address with the request's nginx variables replaced (the snippet's own too), asked with GET (or
 * `auth-method`) and the client's fields plus X-Forwarded-For (the client), -Method, -Proto, -Host
 * and -Uri (forward.go's writeHeader without trustForwardHeader); the auth-snippet's directives
 * (`set`, `if`, `return`, `more_set_input_headers`, `proxy_set_header`…) run on that request
 * first. A 401 with `authSigninURL` is a 302 there (`rd=$scheme://$best_http_host
 * $escaped_request_uri` appended when it has no `rd=`, the variables of the client's request
 * replaced); another non-2xx is relayed (its hop-by-hop fields dropped, a Location made absolute);
 * a 2xx copies `authResponseHeaders` onto the request. No answer is a 500.
 */
export class SnippetAuth implements AuthVerdict {
  readonly #config: SnippetAuthConfig;
  readonly #block: Block | null;
  readonly #pools: SnippetAuthPools;
  readonly #ticker: Ticker;
  readonly #logger: Logger;
  readonly #name: string;
  readonly #copy: readonly string[];
  readonly #pending = new WeakMap<AuthCall, Pending>();

  constructor(
    config: SnippetAuthConfig,
    block: Block | null,
    pools: SnippetAuthPools,
    ticker: Ticker,
    logger: Logger,
    name: string,
  ) {
    this.#config = config;
    this.#block = block;
    this.#pools = pools;
    this.#ticker = ticker;
    this.#logger = logger;
    this.#name = name;
    this.#copy = config.authResponseHeaders.map((n) => n.toLowerCase());
  }

  /** Asks the auth server for `req`; `onSuccess` runs before the request goes on. */
  ask(
    req: RequestHead,
    ctl: RequestControl,
    vars: Vars | null,
    onSuccess: (req: RequestHead) => void,
  ): RequestPhaseValue {
    const address = interpolate(this.#config.address, req, vars);
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      return FAILED;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return FAILED;
    const state = this.#pools.pool(url);
    const method = this.#config.method === '' ? 'GET' : this.#config.method;
    const out = new AuthRequest(
      req,
      `${url.pathname}${url.search}`,
      { method, allowed: [], trust: undefined },
      null,
    );
    if (this.#block !== null) {
      // The auth-snippet runs on the auth request (Traefik: Collect, then the input filter and
      // content phases on forwardReq).
      const authReq: RequestHead = {
        method,
        path: url.pathname,
        query: url.search.slice(1),
        host: url.hostname,
        hostPort: url.port,
        headers: out.headers,
        clientIp: req.clientIp,
        scheme: url.protocol === 'https:' ? 'https' : 'http',
        entryPoint: req.entryPoint,
        omitForwardedFor: false,
      };
      const st = new RunState();
      st.vars = vars === null ? null : new Map(vars);
      const root = new Frame(null);
      if (execute(this.#block, authReq, st, root) && st.status !== 0) {
        if (st.redirect !== '') return goHttpRedirect(req.method, req.path, st.redirect, st.status);
        return { status: st.status, body: st.body };
      }
      runPosts(root, authReq, st);
    }
    const trace = ctl.traceCall?.('AuthRequest', out.method, address, out.headers) ?? null;
    const call = new AuthCall(req, ctl, state.pool, this.#ticker, out, url.host, this, undefined, trace);
    this.#pending.set(call, { req, address, onSuccess });
    call.start(AUTH_TIMEOUT_MS);
    return call.phase();
  }

  failed(call: AuthCall, reason: string): void {
    const p = this.#pending.get(call);
    this.#logger.debug('snippet: no answer from the auth server', {
      middleware: this.#name,
      address: p?.address ?? this.#config.address,
      reason,
    });
    call.resolve(FAILED);
  }

  answered(call: AuthCall, res: UpstreamResponse, body: Buffer): void {
    const p = this.#pending.get(call);
    const req = call.req;
    if (res.status === 401 && this.#config.authSigninURL !== '') {
      let signin = this.#config.authSigninURL;
      if (!signin.includes('rd=')) {
        const rd = 'rd=$scheme://$best_http_host$escaped_request_uri';
        signin += signin.includes('?') ? `&${rd}` : `?${rd}`;
      }
      call.resolve(goHttpRedirect(req.method, req.path, interpolate(signin, req, null), 302));
      return;
    }
    if (res.status < 200 || res.status >= 300) {
      call.resolve(this.#refusal(res, body, p?.address ?? this.#config.address));
      return;
    }
    const h = req.headers;
    const from = res.headers;
    for (const ln of this.#copy) {
      if (ln === 'x-forwarded-for') req.omitForwardedFor = false;
      h.delete(ln);
      for (let i = 0; i < from.lnames.length; i++)
        if (from.lnames[i] === ln) h.append(from.names[i]!, from.values[i]!);
    }
    p?.onSuccess(req);
    call.resolve();
  }

  #refusal(res: UpstreamResponse, body: Buffer, address: string): DirectResponse {
    return authRefusal(res, body, NOT_RELAYED, address);
  }
}
