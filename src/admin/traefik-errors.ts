/**
 * Traefik's `error` list and `status` of an API object (pkg/config/runtime RouterInfo, ServiceInfo,
 * MiddlewareInfo and their TCP/UDP kin: `Err []string json:"error,omitempty"`, AddError), from our
 * located issues of that object. Where we know the situation, the string is Traefik's own words:
 *
 * - a router's entry point that does not exist: `entryPoint "x" doesn't exist` (non-critical), and
 *   `no valid entryPoint for this router` (critical) when none is left (runtime_http.go,
 *   runtime_tcp.go, runtime_udp.go GetRoutersByEntryPoints); such a router is not built further;
 * - a router's build error, the first one Traefik meets only (buildEntryPointHandler `continue`s
 *   after it, pkg/server/router/router.go): a priority above the users' (`the router priority P
 *   exceeds the max user-defined priority M`, checked before the build), unknown TLS options (`building router handler: unknown
 *   TLS options: o@p`, tls.Manager.Get), its service (`the service is missing on the router` when it
 *   names none) (`the service "s@p" does not exist`,
 *   BuildHTTP; a service disabled by its own errors: those, joined by ", "), then its middlewares
 *   from the last (alice builds the chain from its end; `middleware "m@p" does not exist`,
 *   pkg/server/middleware/middlewares.go BuildChain), then its rule, read again as Traefik reads
 *   it (traefik-rule-errors.ts; pkg/muxer/http mux.go AddRoute and parser.go parse: `error while
 *   parsing rule R: error while parsing rule R: 1:13: expected operand, found 'EOF'`, `error while
 *   parsing rule R: error while adding rule R: error while adding rule M: unexpected number of
 *   parameters; got 2, expected one of [1]`; a TCP router's `invalid rule: "R" , unsupported
 *   function: F` before its service, `error while adding rule R: …` after it, and `invalid rule:
 *   "R" , has HostSNI matcher, but no TLS on router`, pkg/server/router/tcp/manager.go);
 * - routers on one host asking for different TLS options: `found different TLS options for routers
 *   on the same host h, so using the default TLS options instead` (non-critical: `warning`);
 * - a service without a type: `the service "s@p" does not have any type defined` (`the UDP
 *   service …` for UDP; pkg/server/service/service.go, tcp/service.go, udp/service.go), with two:
 *   `cannot create service: multi-types service not supported, …`;
 * - a middleware without a type: `invalid middleware "m@p" configuration: invalid middleware type
 *   or middleware does not exist`, with two: `cannot create middleware: multi-types middleware not
 *   supported, …` (buildConstructor);
 * - a weighted or highestRandomWeight service with `healthCheck` over a child that cannot report
 *   its health: `cannot register c as updater for s@p: healthCheck not enabled in config for this
 *   weighted service`, `child service c of s@p not a healthcheck.StatusUpdater (http.HandlerFunc)`
 *   (pkg/server/service/service.go getWRRServiceHandler).
 *
 * Any other error is ours, written without its file position (`http.routers.r@file.tls…: …`); a
 * warning Traefik has no counterpart for (a service without servers, a deprecated option…) stays in
 * `issues` only and leaves the status `enabled`, as Traefik's would be. Computed when the API is
 * asked, never on the request path.
 */

import { type ConfigIssue, formatIssue } from '../config/issues.ts';
import { goQuote } from '../core/go-string.ts';
import { providerOf } from '../core/qualified-name.ts';
import { traefikMiddlewareError } from './traefik-middleware-errors.ts';
import { traefikHttpRuleError, traefikTcpRuleError } from './traefik-rule-errors.ts';

export type TraefikStatus = 'enabled' | 'warning' | 'disabled';

export interface ErrorContext {
  readonly kind: 'http' | 'tcp' | 'udp';
  /** The object's qualified name (`r@file`). */
  readonly name: string;
  /** A router's rule, for Traefik's rule errors. */
  readonly rule?: string;
  /** The router's `ruleSyntax`: a `v2` rule's errors stay ours. */
  readonly ruleSyntax?: string;
  /** Traefik's errors of another object of the same kind (a router's service or middleware). */
  readonly errorsOf?: (section: 'services' | 'middlewares', name: string) => readonly string[];
  /** A middleware as written (or parsed), for its constructor's errors (traefik-middleware-errors.ts). */
  readonly written?: unknown;
}

/** Traefik's GetQualifiedName: a name without `@` is read in the owner's provider. */
function qualified(name: string, owner: string): string {
  const p = providerOf(owner);
  return name.includes('@') || p === '' ? name : `${name}@${p}`;
}

const NO_VALID_EP = 'no valid entryPoint for this router';

/**
 * One issue in Traefik's words, or undefined when we know no Traefik counterpart; null when
 * Traefik stops at an earlier error of the same object (none for this one).
 */
function traefikText(i: ConfigIssue, ctx: ErrorContext, seen: Set<string>): string | null | undefined {
  const m = i.message;
  if (i.path[1] === 'middlewares') {
    const mw = traefikMiddlewareError(i, ctx.written);
    if (mw !== undefined) return mw;
  }
  const ep = /^entry point `(.+)` does not exist/.exec(m);
  if (ep !== null) return `entryPoint "${ep[1]}" doesn't exist`;
  // No default entry point for a router that names none (runtime/build-snapshot.ts, build-tcp.ts).
  if (m === NO_VALID_EP || m.startsWith(`${NO_VALID_EP};`)) return NO_VALID_EP;
  const missing = /^(service|middleware) `(.+)` does not exist(?: in the (?:tcp|udp) section)?$/.exec(m);
  if (missing !== null) {
    const q = qualified(missing[2]!, ctx.name);
    if (missing[1] === 'middleware') return `middleware "${q}" does not exist`;
    return ctx.kind === 'udp' ? `the UDP service "${q}" does not exist` : `the service "${q}" does not exist`;
  }
  const off = /^(service|middleware) `(.+)` is disabled because of its own errors$/.exec(m);
  if (off !== null) {
    const q = qualified(off[2]!, ctx.name);
    const section = off[1] === 'service' ? 'services' : 'middlewares';
    // Traefik's BuildHTTP on a disabled service: its errors joined (strings.Join(conf.Err, ", ")).
    if (seen.has(`${section}/${q}`)) return undefined;
    seen.add(`${section}/${q}`);
    const errs = ctx.errorsOf?.(section, q) ?? [];
    return errs.length > 0 ? errs.join(', ') : undefined;
  }
  // A reference to another provider's object, which only the build of the merged configuration
  // resolves (each provider's checks know its own objects): Traefik's runtime configuration holds
  // every provider's objects, so its words are the same as within one provider — the object's
  // own errors when it is disabled (BuildHTTP, BuildTCP, BuildUDP on a disabled or failing
  // service), else that it does not exist.
  const across =
    /^unknown (?:TCP |UDP )?(service|middleware) (\S+?)(?:; it is left out)?$/.exec(m) ??
    /^UDP (service) `(.+)` cannot be built(?:; it is left out)?$/.exec(m);
  if (across !== null) {
    const q = qualified(across[2]!, ctx.name);
    const section = across[1] === 'service' ? 'services' : 'middlewares';
    if (seen.has(`${section}/${q}`)) return undefined;
    seen.add(`${section}/${q}`);
    const errs = ctx.errorsOf?.(section, q) ?? [];
    if (errs.length > 0) return errs.join(', ');
    if (section === 'middlewares') return `middleware "${q}" does not exist`;
    return ctx.kind === 'udp' ? `the UDP service "${q}" does not exist` : `the service "${q}" does not exist`;
  }
  const tlsOptions = /^unknown TLS options `(.+)`$/.exec(m);
  if (tlsOptions !== null && ctx.kind === 'http') {
    // buildRouterHandler's check of the options before anything else (tls.Manager.Get).
    const o = tlsOptions[1]!;
    return `building router handler: unknown TLS options: ${o === 'default' ? o : qualified(o, ctx.name)}`;
  }
  // buildHTTPHandler (pkg/server/router/router.go), for a router that is no parent.
  if (m === 'router has no service and no child routers' && ctx.kind === 'http')
    return 'the service is missing on the router';
  // A parent's healthCheck over a child that cannot report its health: Traefik's words already
  // (getWRRServiceHandler, getHRWServiceHandler; config/dynamic/service-references.ts).
  if (
    /^cannot register \S+ as updater for \S+: /.test(m) ||
    /^child service \S+ of \S+ not a healthcheck\./.test(m)
  )
    return m;
  // buildEntryPointHandler's first check, in Traefik's words already (schema-helpers.ts).
  if (/^the router priority -?\d+ exceeds the max user-defined priority \d+$/.test(m)) return m;
  if (m === 'a service needs a type')
    return `the ${ctx.kind === 'udp' ? 'UDP service' : 'service'} "${ctx.name}" does not have any type defined`;
  if (m.startsWith('a service has exactly one type'))
    return 'cannot create service: multi-types service not supported, consider declaring two different pieces of service instead';
  if (m === 'a middleware needs a type')
    return `invalid middleware "${ctx.name}" configuration: invalid middleware type or middleware does not exist`;
  if (m.startsWith('a middleware has exactly one type'))
    return 'cannot create middleware: multi-types middleware not supported, consider declaring two different pieces of middleware instead';
  if (ctx.rule === undefined || ctx.kind === 'udp') return undefined;
  if (m.startsWith('invalid rule: ')) return ruleText(ctx, ctx.rule);
  if (ctx.kind === 'tcp') return tcpTlsText(m, ctx.rule);
  return undefined;
}

/**
 * Traefik's TCP router manager's `invalid rule: "R" , has HostSNI matcher, but no TLS on router`
 * (pkg/server/router/tcp/manager.go addTCPHandlers) for our issue saying so.
 */
function tcpTlsText(message: string, rule: string): string | undefined {
  if (!message.startsWith('a HostSNI with a name needs `tls`')) return undefined;
  return `invalid rule: ${goQuote(rule)} , has HostSNI matcher, but no TLS on router`;
}

/**
 * Traefik's error for a rule our compiler refused: the rule read again as Traefik reads it
 * (traefik-rule-errors.ts: Go's parser, vulcand/predicate, the muxers' addRule and matchers), so
 * that a syntax error, a bad regexp, ClientIP or value, an empty argument or a wrong count is
 * Traefik's text, in Traefik's order. Undefined (ours is kept) where that reading cannot tell,
 * and for a `v2` rule's errors past its parse (gorilla/mux's matchers).
 */
function ruleText(ctx: ErrorContext, rule: string): string | undefined {
  if (ctx.kind === 'http') return traefikHttpRuleError(rule, ctx.ruleSyntax);
  if (ctx.ruleSyntax === 'v2') return undefined;
  const t = traefikTcpRuleError(rule);
  return t === undefined ? undefined : 'parse' in t ? t.parse : t.add;
}

/** Whether a TCP router's rule is one predicate cannot read (ParseHostSNI fails). */
function tcpRuleUnread(ctx: ErrorContext): boolean {
  if (ctx.rule === undefined || ctx.ruleSyntax === 'v2') return false;
  const t = traefikTcpRuleError(ctx.rule);
  return t !== undefined && 'parse' in t;
}

/** Where a router's issue stands in Traefik's build order (lower first); entry points aside. */
function buildOrder(i: ConfigIssue, tcpUnread: () => boolean): number {
  const key = i.path[3];
  // buildEntryPointHandler checks the priority before building the router (router.go).
  if (key === 'priority') return -2;
  // buildRouterHandler checks the TLS options first, then buildHTTPHandler the service.
  if (key === 'tls') return -1;
  if (key === 'service' || i.message.startsWith('router has no service')) return 0;
  // Middlewares from the last: alice's Then calls the constructors from the end of the chain.
  if (key === 'middlewares') return 1 + (1000 - Number(i.path[4] ?? 0)) / 10000;
  // A TCP rule that predicate cannot read is refused before the service is built (manager.go).
  if (key === 'rule') return tcpUnread() ? -0.5 : 2;
  return 3;
}

/**
 * Traefik's `error` list for an object with issues `issues` (its own, as views.ts issuesOf
 * selects them). Empty when Traefik would have none.
 */
export function traefikErrors(issues: readonly ConfigIssue[], ctx: ErrorContext): string[] {
  const out: string[] = [];
  const add = (s: string): void => {
    if (!out.includes(s)) out.push(s);
  };
  const seen = new Set<string>();
  const texts = (i: ConfigIssue): string | undefined => {
    const t = traefikText(i, ctx, seen);
    if (t !== undefined) return t ?? undefined;
    // Ours, unlocated; a warning of ours alone is not Traefik's (status stays enabled).
    if (i.severity !== 'error') return undefined;
    const { file: _f, line: _l, col: _c, ...unlocated } = i;
    return formatIssue(unlocated);
  };
  const isRouter = ctx.rule !== undefined || issues.some((i) => i.path[1] === 'routers');
  if (!isRouter) {
    for (const i of issues) {
      const t = texts(i);
      if (t !== undefined) add(t);
    }
    return out;
  }
  const eps = issues.filter((i) => i.path[3] === 'entryPoints');
  for (const i of eps) {
    const t = texts(i);
    if (t !== undefined) add(t);
  }
  if (eps.some((i) => i.severity === 'error')) {
    add(NO_VALID_EP);
    return out;
  }
  let unread: boolean | undefined;
  const tcpUnread = (): boolean => {
    unread ??= ctx.kind === 'tcp' && tcpRuleUnread(ctx);
    return unread;
  };
  // The first build error, as Traefik stops building the router there.
  const build = issues
    .filter((i) => i.path[3] !== 'entryPoints' && tlsConflict(i) === undefined)
    .map((i) => ({ i, t: texts(i) }))
    .filter((x): x is { i: ConfigIssue; t: string } => x.t !== undefined)
    .map((x) => ({ ...x, order: buildOrder(x.i, tcpUnread) }))
    .sort((a, b) => a.order - b.order);
  if (build[0] !== undefined) add(build[0].t);
  // Then the TLS options conflicts, non-critical, that Traefik's TCP manager adds once the HTTP
  // handlers are built (pkg/server/router/tcp/manager.go buildEntryPointHandler), one per host.
  for (const i of issues) for (const t of tlsConflict(i) ?? []) add(t);
  return out;
}

/** Traefik's TLS options conflict errors for our issue saying so, one per host; else undefined. */
function tlsConflict(i: ConfigIssue): string[] | undefined {
  const x = /^routers on (.+?)(?: \(entry point [^)]*\))? ask for different TLS options/.exec(i.message);
  if (x === null) return undefined;
  return x[1]!
    .split(', ')
    .map(
      (h) =>
        `found different TLS options for routers on the same host ${h}, so using the default TLS options instead`,
    );
}

/**
 * Traefik's status: `disabled` as our own view decides it (the object is not in force), else
 * `warning` with an error Traefik would have, else `enabled`.
 */
export function traefikStatusOf(disabled: boolean, errors: readonly string[]): TraefikStatus {
  return disabled ? 'disabled' : errors.length > 0 ? 'warning' : 'enabled';
}

/** `{ error }` when there is any (Go's omitempty), else nothing. */
export function errorField(errors: readonly string[]): { readonly error?: readonly string[] } {
  return errors.length === 0 ? {} : { error: errors };
}
