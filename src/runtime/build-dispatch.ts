import { compileRule, parseRuleSyntax, sniHosts } from '../router/index.ts';
import { type TcpRouteEntry, TcpRouter } from '../router/tcp/index.ts';
import {
  type EntryPointRoutes,
  HTTP_ONLY,
  type HttpsHosts,
  type TcpRoute,
  type TcpServiceNode,
  type TcpSnapshot,
} from './types.ts';

/** An HTTP route as the dispatcher needs it: where it is served and what host its rule needs. */
export interface HttpRouteSpot {
  readonly rule: string;
  /** The router's `ruleSyntax`. */
  readonly syntax?: string | undefined;
  /** Empty = every entry point. */
  readonly entryPoints: readonly string[];
}

/** A TCP router with the entry points it is served on (empty = every entry point). */
export interface TcpRouteSpot {
  readonly entryPoints: readonly string[];
  readonly entry: TcpRouteEntry<TcpRoute>;
}

const on = (eps: readonly string[], name: string): boolean => eps.length === 0 || eps.includes(name);

/** The hosts an HTTPS router's rule requires (Traefik's muxerHTTPS: one HostSNI route per domain). */
function addHosts(
  rule: string,
  syntax: string | undefined,
  exact: Set<string>,
  parents: Set<string>,
  suffixes: Set<string>,
): boolean {
  const c = compileRule(rule, undefined, syntax);
  if (!c.ok) return true;
  if (c.hints.hosts.kind === 'hosts') {
    for (const h of c.hints.hosts.exact) exact.add(h);
    for (const p of c.hints.hosts.wildcardParents) parents.add(p);
    return false;
  }
  // The index files a double wildcard (Traefik v3.8's ``Host(`**.example.com`)``) as any host;
  // Traefik's HTTPS muxer routes it as ``HostSNI(`**.example.com`)``: names under it only.
  if (!rule.includes('**.')) return true;
  const parsed = parseRuleSyntax(rule, syntax);
  const sni = parsed.ok ? sniHosts(parsed.ast) : undefined;
  if (sni === undefined) return true;
  for (const h of sni.exact) exact.add(h);
  for (const p of sni.wildcardParents) parents.add(p);
  for (const x of sni.suffixes) suffixes.add(x);
  return false;
}

/**
 * The dispatcher's view of a configuration: per entry point, whether cleartext HTTP routes exist,
 * which server names its HTTPS routers answer, and its TCP routers (cleartext and TLS). Computed
 * on first use per entry point and kept for the snapshot's life.
 */
export function buildTcpSnapshot(
  plain: readonly HttpRouteSpot[],
  secure: readonly HttpRouteSpot[],
  tcp: readonly TcpRouteSpot[],
  services: ReadonlyMap<string, TcpServiceNode> = new Map(),
  /** The static `providers.precedence`: the tie between TCP routers of equal priority. */
  precedence?: readonly string[],
): TcpSnapshot {
  const cache = new Map<string, EntryPointRoutes>();
  const routers = new Map<string, TcpRoute>();
  for (const t of tcp) routers.set(t.entry.name, t.entry.value);
  const compute = (name: string): EntryPointRoutes => {
    const mine = secure.filter((r) => on(r.entryPoints, name));
    const tcpHere = tcp.filter((t) => on(t.entryPoints, name));
    if (mine.length === 0 && tcpHere.length === 0) return HTTP_ONLY;
    let https: HttpsHosts | null = null;
    if (mine.length > 0) {
      const exact = new Set<string>();
      const wildcardParents = new Set<string>();
      const suffixes = new Set<string>();
      let catchAll = false;
      for (const r of mine) if (addHosts(r.rule, r.syntax, exact, wildcardParents, suffixes)) catchAll = true;
      https = { exact, wildcardParents, suffixes: suffixes.size === 0 ? null : [...suffixes], catchAll };
    }
    const clear = tcpHere.filter((t) => t.entry.value.tls.kind === 'none').map((t) => t.entry);
    const tls = tcpHere.filter((t) => t.entry.value.tls.kind !== 'none').map((t) => t.entry);
    return {
      http: plain.some((r) => on(r.entryPoints, name)),
      https,
      tcp: clear.length === 0 ? null : TcpRouter.build(clear, precedence).router,
      tcpTls: tls.length === 0 ? null : TcpRouter.build(tls, precedence).router,
      httpOnly: false,
    };
  };
  return {
    entryPoint(name: string): EntryPointRoutes {
      let r = cache.get(name);
      if (r === undefined) {
        r = compute(name);
        cache.set(name, r);
      }
      return r;
    },
    routers,
    services,
  };
}
