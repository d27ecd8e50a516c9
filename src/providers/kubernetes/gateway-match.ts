import { createHash } from 'node:crypto';
import { normalize, ruleString } from './kube-build.ts';

/*
 * HTTPRoute matches → router rules and priorities, as Traefik's buildMatchRule
 * (pkg/provider/kubernetes/gateway/httproute.go), and the hostnames a route keeps on a listener.
 */

export interface Match {
  readonly path?: { readonly type?: string; readonly value?: string };
  readonly headers?: readonly { readonly type?: string; readonly name: string; readonly value: string }[];
  readonly queryParams?: readonly { readonly type?: string; readonly name: string; readonly value: string }[];
  readonly method?: string;
}

/** The route's hostnames within the listener's; undefined when none is left (no attachment). */
export function hostnames(route: readonly string[], listener: string | undefined): string[] | undefined {
  if (listener === undefined) return [...route];
  if (route.length === 0) return [listener];
  const kept = route.filter((h) => hostCompatible(h, listener) || hostCompatible(listener, h));
  return kept.length === 0
    ? undefined
    : kept.map((h) => (h.startsWith('*.') && !listener.startsWith('*.') ? listener : h));
}

function hostCompatible(h: string, pattern: string): boolean {
  if (!pattern.startsWith('*.')) return h === pattern;
  return h.endsWith(pattern.slice(1)) && h.length > pattern.length - 1;
}

/** A route hostname as a rule: ``Host``, or ``HostRegexp`` for a wildcard. */
export function hostRule(h: string): string {
  if (!h.startsWith('*.')) return `Host(\`${h}\`)`;
  return `HostRegexp(\`^[a-zA-Z0-9-]+(\\.[a-zA-Z0-9-]+)*${h.slice(1).replace(/[.]/g, '\\.')}$\`)`;
}

export function matchRule(
  m: Match,
  hosts: readonly string[],
): { rule: string; priority: number } | { error: string } {
  const parts: string[] = [];
  let priority = 0;
  if (hosts.length > 0) {
    const h = hosts.map(hostRule);
    parts.push(h.length === 1 ? h[0]! : `(${h.join(' || ')})`);
  }
  const type = m.path?.type ?? 'PathPrefix';
  const value = m.path?.value ?? '/';
  if (type === 'Exact') {
    parts.push(`Path(${ruleString(value)})`);
    priority += 100000;
  } else if (type === 'PathPrefix') {
    if (value === '/') {
      // Traefik's buildPathRule: the catch-all is evaluated last.
      parts.push('PathPrefix(`/`)');
      priority += 1;
    } else {
      const bare = value.endsWith('/') ? value.slice(0, -1) : value;
      parts.push(`(Path(${ruleString(bare)}) || PathPrefix(${ruleString(`${bare}/`)}))`);
      priority += 10000 + value.length * 100;
    }
  } else if (type === 'RegularExpression') {
    parts.push(`PathRegexp(${ruleString(value)})`);
    priority += 10000 + value.length * 100;
  } else return { error: `path type ${type} is not supported` };
  if (m.method !== undefined) {
    parts.push(`Method(${ruleString(m.method)})`);
    priority += 1000;
  }
  for (const h of m.headers ?? []) {
    parts.push(
      h.type === 'RegularExpression'
        ? `HeaderRegexp(${ruleString(h.name)}, ${ruleString(h.value)})`
        : `Header(${ruleString(h.name)}, ${ruleString(h.value)})`,
    );
    priority += 100;
  }
  for (const q of m.queryParams ?? []) {
    parts.push(
      q.type === 'RegularExpression'
        ? `QueryRegexp(${ruleString(q.name)}, ${ruleString(q.value)})`
        : `Query(${ruleString(q.name)}, ${ruleString(q.value)})`,
    );
    priority += 10;
  }
  // Traefik's buildMatchRule: a route with a host matches over the same route with none (the
  // longest hostname's length is added).
  if (hosts.length > 0) priority += Math.max(...hosts.map((h) => h.length));
  return { rule: parts.join(' && '), priority };
}

/**
 * A route rule's router name, as Traefik's makeRouterName (pkg/provider/kubernetes/gateway/
 * kubernetes.go, since v3.7.11, GHSA-fgjj-px3w-67xx): the normalised label
 * `<kind>-<ns>-<name>-gw-<gwns>-<gw>-ep-<entry point>-<rule index>`, `-`, and the first ten bytes
 * (hex) of sha256 over each of those parts prefixed by its length (`<len>:<part>`) then the rule.
 * The label alone is ambiguous (namespace `a-b` route `c` and namespace `a` route `b-c` normalise
 * alike): the hash keeps two routes with equal rules from sharing a router, where the later one
 * silently replaced the earlier. An L4 route's rule is empty.
 */
export function gatewayRouterName(
  kind: string,
  rule: string,
  ns: string,
  name: string,
  gwNs: string,
  gwName: string,
  entryPoint: string,
  ruleIndex: number,
  // The ListenerSet of the listener (Traefik v3.8's makeRouterName: named after it, `-ls-`, and
  // `ListenerSet` among the hashed parts, apart from a Gateway of the same name).
  set?: { readonly metadata: { readonly name: string; readonly namespace?: string } },
): string {
  const setNs = set?.metadata.namespace ?? 'default';
  const label = normalize(
    set === undefined
      ? `${kind.toLowerCase()}-${ns}-${name}-gw-${gwNs}-${gwName}-ep-${entryPoint}-${ruleIndex}`
      : `${kind.toLowerCase()}-${ns}-${name}-ls-${setNs}-${set.metadata.name}-ep-${entryPoint}-${ruleIndex}`,
  );
  const parts =
    set === undefined
      ? [ns, name, gwNs, gwName, entryPoint, String(ruleIndex)]
      : [ns, name, 'ListenerSet', setNs, set.metadata.name, entryPoint, String(ruleIndex)];
  const h = createHash('sha256');
  for (const c of parts) h.update(`${Buffer.byteLength(c)}:${c}`);
  h.update(rule);
  return `${label}-${h.digest('hex').slice(0, 20)}`;
}
