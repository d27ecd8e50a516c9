/*
 * Listener isolation (Gateway API `GatewayHTTPListenerIsolation`), as Traefik v3.8 builds it
 * (pkg/provider/kubernetes/gateway/kubernetes.go buildListenerRouters, buildListenerRule,
 * mostSpecificListener, makeListenerRouterName, dropChildlessListenerRouters): each hostname of
 * the HTTP (or HTTPS) listeners of an entry point is a parent router, scoped to the requests it is
 * the most specific match for; the routers of the routes attached to a listener are its children
 * (multi-layer routing), so that a request for `foo.example.com` reaches only the routes of a
 * `foo.example.com` listener, not those of a `*.example.com` one beside it.
 */
import { createHash } from 'node:crypto';
import type { Attach } from './gateway-listeners.ts';
import { type KubeBuild, normalize, type Obj } from './kube-build.ts';

/**
 * Traefik's hostnameCovers: every request matching `hostname` also matches `listenerHostname`
 * (none covers all; `*.x` covers `x`'s subdomains at any depth, `*.y.x` included).
 */
function hostnameCovers(listenerHostname: string, hostname: string): boolean {
  if (listenerHostname === '' || listenerHostname === hostname) return true;
  return listenerHostname.startsWith('*.') && hostname.endsWith(listenerHostname.slice(1));
}

/**
 * A listener hostname as a matcher, as Traefik v3.8's buildListenerRule writes it: a wildcard
 * `*.example.com` (one label or more, in the Gateway API) is ``Host("**.example.com")``, the
 * double wildcard of traefik/traefik#13882, which carries the parent's TLS options to the names
 * under it and ranks below the exact hostnames (its stars do not count in the default priority).
 */
function hostMatcher(hostname: string): string {
  return `Host(${JSON.stringify(hostname.startsWith('*.') ? `*${hostname}` : hostname)})`;
}

/**
 * Traefik's buildListenerRule: the listener hostname (none: ``Host("*")``) less the more specific
 * hostnames of the same entry point and protocol.
 */
function listenerRule(hostname: string, hostnames: readonly string[]): string {
  const rule = hostname === '' ? 'Host("*")' : hostMatcher(hostname);
  const exclusions = hostnames
    .filter((h) => h !== hostname && hostnameCovers(hostname, h))
    .map((h) => hostMatcher(h));
  return exclusions.length === 0 ? rule : `(${rule}) && !(${exclusions.join(' || ')})`;
}

/**
 * Traefik's makeListenerRouterName: `normalize(listener-<ep>-<protocol>-<hostname>)-<hash>`, the
 * hash the first ten bytes (hex) of sha256 over `<length>:<part>` of the entry point, the protocol
 * (lowercase) and the hostname (`*.example.com` and `example.com` normalise alike).
 */
export function listenerRouterName(entryPoint: string, protocol: string, hostname: string): string {
  const p = protocol.toLowerCase();
  const h = createHash('sha256');
  for (const c of [entryPoint, p, hostname]) h.update(`${Buffer.byteLength(c)}:${c}`);
  return `${normalize(`listener-${entryPoint}-${p}-${hostname}`)}-${h.digest('hex').slice(0, 20)}`;
}

const isHttp = (a: Attach): boolean =>
  a.attached &&
  a.entryPoint !== undefined &&
  (a.listener.protocol === 'HTTP' || a.listener.protocol === 'HTTPS');

/**
 * Traefik's buildListenerRouters: for each entry point and protocol (HTTP, HTTPS) of the attached
 * listeners, a parent router per distinct listener hostname (sorted), on that entry point, with
 * Traefik's rule; an HTTPS one has `tls` with its own TLS options, named after it (the defaults).
 * Each Gateway's most specific listener for that hostname (mostSpecificListener) gets the router
 * in its `routerNames`: its routes' routers are its children. Returns the parents' names.
 */
export function listenerRouters(b: KubeBuild, listeners: readonly Attach[]): string[] {
  const byEntryPoint = new Map<string, { ep: string; protocol: string; hostnames: string[] }>();
  for (const a of listeners) {
    if (!isHttp(a)) continue;
    const key = `${a.entryPoint}\u0000${a.listener.protocol}`;
    let u = byEntryPoint.get(key);
    if (u === undefined) {
      u = { ep: a.entryPoint!, protocol: a.listener.protocol, hostnames: [] };
      byEntryPoint.set(key, u);
    }
    const h = a.listener.hostname ?? '';
    if (!u.hostnames.includes(h)) u.hostnames.push(h);
  }
  const cmp = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);
  const uniq = [...byEntryPoint.values()].sort((x, y) => cmp(x.ep, y.ep) || cmp(x.protocol, y.protocol));
  const gateways = [...new Set(listeners.map((a) => a.gw))];
  const names: string[] = [];
  for (const u of uniq) {
    const hostnames = [...u.hostnames].sort(cmp);
    for (const hostname of hostnames) {
      const name = listenerRouterName(u.ep, u.protocol, hostname);
      // The client certificate validations (gateway-frontend-tls.ts) of the listeners elected.
      const validations = new Map<string, Obj>();
      for (const gw of gateways) {
        // Traefik's mostSpecificListener, per Gateway: a listener whose hostname covers this one,
        // the most specific of them (the first, among equals).
        let elected: Attach | undefined;
        for (const a of listeners) {
          if (a.gw !== gw || !isHttp(a) || a.entryPoint !== u.ep || a.listener.protocol !== u.protocol)
            continue;
          const lh = a.listener.hostname ?? '';
          if (!hostnameCovers(lh, hostname)) continue;
          if (elected === undefined || hostnameCovers(elected.listener.hostname ?? '', lh)) elected = a;
        }
        elected?.routerNames.push(name);
        const front = elected?.frontendTls;
        if (front !== undefined) validations.set(front.key, front.options);
      }
      const https = u.protocol === 'HTTPS';
      if (https) {
        // The parent's own options (so that a request whose Host is another listener's than its
        // SNI is a 421) are those of its listener's client certificate validation, if any. Two
        // Gateways sharing the hostname with different validations: the first one's, and a
        // warning (the hostname cannot ask two things of one handshake).
        const [front, ...others] = [...validations.keys()].sort(cmp);
        b.tlsOptions[name] = front === undefined ? {} : { ...validations.get(front)! };
        if (others.length > 0)
          b.warn(
            `listener router ${name}`,
            `listeners of several Gateways on ${u.ep} for ${hostname === '' ? 'any hostname' : hostname} validate client certificates differently: ${front}'s validation applies`,
          );
        b.source('tls/options', name, `listener router ${name}`);
      }
      b.routers[name] = {
        rule: listenerRule(hostname, hostnames),
        ruleSyntax: 'default',
        entryPoints: [u.ep],
        ...(https ? { tls: { options: name } } : {}),
      };
      b.source('http/routers', name, `listener router ${name}`);
      names.push(name);
    }
  }
  return names;
}

/**
 * Traefik's dropChildlessListenerRouters: a listener router no route router names as its parent
 * (it would route nothing, and a router without a service nor children is an error) is removed,
 * with its TLS options.
 */
export function dropChildlessListenerRouters(b: KubeBuild, names: readonly string[]): void {
  const parents = new Set<string>();
  for (const r of Object.values(b.routers))
    for (const p of ((r as { parentRefs?: readonly string[] }).parentRefs ?? []) as readonly string[])
      parents.add(p);
  for (const name of names) {
    if (parents.has(name)) continue;
    delete b.routers[name];
    delete b.tlsOptions[name];
  }
}
