import type { SnippetConfig } from '../../config/dynamic/middlewares.ts';
import { HeaderList } from '../../core/headers.ts';
import type { DirectResponse, RequestHead, ResponseHead } from '../../core/request.ts';
import { loadUpstreamTls } from '../../upstream/transport-tls.ts';
import type {
  Middleware,
  MiddlewareError,
  MiddlewareFactory,
  RequestControl,
  RequestPhaseValue,
} from '../middleware.ts';
import { goHttpRedirect } from '../redirect-response.ts';
import {
  type Block,
  buildBlock,
  denied,
  execute,
  Frame,
  type ResponseOp,
  RunState,
  runPosts,
  runProxySet,
  typeMatches,
} from './actions.ts';
import { SnippetAuth, SnippetAuthPools } from './auth.ts';
import { parseSnippet } from './parse.ts';
import { decodedPath } from './variables.ts';

/** Fields whose edits would break the response's framing: left alone. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection']);

/** The response edits of a run, on the head of the response the client gets. */
function applyResponse(ops: readonly ResponseOp[], status: number, h: HeaderList): void {
  for (const o of ops) {
    if (o.statuses !== null && !o.statuses.has(status)) continue;
    if (!typeMatches(o.types, h.get('content-type'))) continue;
    if (FRAMING.has(o.lname)) continue;
    if (o.kind === 'clear') {
      if (o.prefix) h.deleteWhere((l) => l.startsWith(o.lname) && !FRAMING.has(l));
      else h.delete(o.lname);
      continue;
    }
    if (o.restrict && (h.get(o.lname) ?? '') === '') continue;
    if (o.kind === 'set') h.set(o.name, o.value);
    else h.append(o.name, o.value);
  }
}

/**
 * Traefik's Snippet middleware (pkg/middlewares/ingressnginx/snippet/snippet.go ServeHTTP): the
 * server snippet runs, then (unless it answered, or a `rewrite … break` stopped everything) the
 * configuration snippet, whose add_header, proxy_set_header and allow/deny, when it has any,
 * replace the server snippet's (its PhaseCollector over the server's); then the header
 * directives; then the answer of a `return`, a redirecting `rewrite` or a `deny`, or the request
 * goes on. The response edits are made on the
 * response head (`onResponse`), or on the answer itself.
 */
class Snippet implements Middleware {
  readonly #server: Block | null;
  readonly #configuration: Block | null;
  /** auth-url (Traefik's Snippet.Auth): asked after the access phase; null without one. */
  readonly #auth: SnippetAuth | null;
  /** Response edits of requests on their way, until their response head comes back. */
  readonly #pending = new WeakMap<RequestHead, readonly ResponseOp[]>();

  constructor(server: Block | null, configuration: Block | null, auth: SnippetAuth | null) {
    this.#server = server;
    this.#configuration = configuration;
    this.#auth = auth;
  }

  onRequest(req: RequestHead, ctl: RequestControl): RequestPhaseValue {
    const st = new RunState();
    const root = new Frame(null);
    let stop = execute(this.#server, req, st, root);
    if (!stop && !st.stopAll && this.#configuration !== null) {
      st.stopCurrent = false;
      const location = new Frame(null);
      stop = execute(this.#configuration, req, st, location);
      root.override(location);
    }
    // The access phase comes after the rewrite phase: a return answers before any deny.
    if (!stop) stop = denied(root, req, st);
    const auth = this.#auth;
    const answered = stop && st.status !== 0;
    // With an auth request, proxy_set_header waits for it (Traefik's content phase follows it).
    runPosts(root, req, st, auth !== null && !answered);
    if (answered) return this.#answer(req, st);
    const ops = st.response;
    if (auth !== null) {
      // Traefik's executeForwardAuth, after the access phase; its refusal gets no response edit.
      return auth.ask(req, ctl, st.vars, (r) => {
        runProxySet(root, r, st);
        if (ops !== null) this.#pending.set(r, ops);
      });
    }
    if (ops !== null) this.#pending.set(req, ops);
    return undefined;
  }

  onResponse(req: RequestHead, res: ResponseHead): void {
    const ops = this.#pending.get(req);
    if (ops === undefined) return;
    this.#pending.delete(req);
    applyResponse(ops, res.status, res.headers);
  }

  /** Traefik's writeResponse: Go's http.Redirect for a URL, else the status and the body. */
  #answer(req: RequestHead, st: RunState): DirectResponse {
    let base: DirectResponse;
    if (st.redirect !== '') base = goHttpRedirect(req.method, decodedPath(req), st.redirect, st.status);
    else base = { status: st.status, body: st.body };
    const h = HeaderList.from(base.headers ?? []);
    if (st.response !== null) applyResponse(st.response, base.status, h);
    const body = base.body ?? '';
    // Go sniffs the type of a body written without one.
    if (body !== '' && !h.has('content-type')) h.append('Content-Type', 'text/plain; charset=utf-8');
    const headers: [string, string][] = [];
    for (let i = 0; i < h.size; i++) headers.push([h.names[i]!, h.values[i]!]);
    return { status: base.status, headers, body };
  }
}

function build(text: string, ctx: 'server' | 'location'): Block | null {
  if (text === '') return null;
  return buildBlock(parseSnippet(text), ctx);
}

/**
 * The `snippet` middleware, which the kubernetesIngressNGINX provider makes from the
 * `server-snippet` and `configuration-snippet` annotations (with `allowSnippetAnnotations`), as
 * Traefik's New: a snippet it cannot parse, or a directive it does not interpret, fails the build.
 */
export const snippetFactory: MiddlewareFactory<SnippetConfig> = {
  type: 'snippet',
  create(c, ctx): Middleware | MiddlewareError {
    if (c.serverSnippet === '' && c.configurationSnippet === '' && c.auth === undefined)
      return { error: 'at least one of serverSnippet, configurationSnippet or auth option must be provided' };
    if (c.auth !== undefined && c.auth.address === '')
      return { error: 'address is required in auth configuration', path: ['auth', 'address'] };
    let server: Block | null;
    let configuration: Block | null;
    try {
      server = build(c.serverSnippet, 'server');
    } catch (e) {
      return { error: `parsing server-snippet: ${(e as Error).message}`, path: ['serverSnippet'] };
    }
    try {
      configuration = build(c.configurationSnippet, 'location');
    } catch (e) {
      return {
        error: `parsing configuration-snippet: ${(e as Error).message}`,
        path: ['configurationSnippet'],
      };
    }
    let auth: SnippetAuth | null = null;
    if (c.auth !== undefined) {
      let block: Block | null;
      try {
        // Traefik parses it as the block `location = /_external-auth { … }`.
        block = build(c.auth.snippet, 'location');
      } catch (e) {
        return { error: `parsing auth-snippet: ${(e as Error).message}`, path: ['auth', 'snippet'] };
      }
      // Traefik's http.Client: the system's roots for an https:// auth server.
      const tls = loadUpstreamTls({ insecureSkipVerify: false });
      if (!tls.ok) return { error: `auth: ${tls.message}` };
      const pools = ctx.shared(
        `snippetAuth|${c.auth.address}`,
        () => new SnippetAuthPools(tls.tls, ctx.ticker),
      );
      auth = new SnippetAuth(c.auth, block, pools, ctx.ticker, ctx.logger, ctx.name);
    }
    return new Snippet(server, configuration, auth);
  },
};
