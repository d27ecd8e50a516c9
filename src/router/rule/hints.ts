/**
 * Necessary conditions that the router indexes on. For a rule R and a key set K derived here:
 * if R matches a request, then the request has one of the keys in K. An index may therefore file
 * R under every key of K and never look at R for a request that has none of them.
 */
import type { MatcherNode, RuleAst } from './ast.ts';
import { toByteString } from './text.ts';

/**
 * What a rule needs of the request host. `hosts`: it can only match a request whose host is one
 * of `exact`, or exactly one label under one of `wildcardParents` (`*.example.com` gives
 * `example.com`). `any`: no such requirement (no Host matcher on every path to a match, a negated
 * Host, HostRegexp, ``Host(`*`)``, or a double wildcard ``Host(`**.example.com`)``).
 */
export type HostHint =
  | { readonly kind: 'any' }
  | {
      readonly kind: 'hosts';
      readonly exact: readonly string[];
      readonly wildcardParents: readonly string[];
    };

/** `prefixes`: the rule can only match a routing path starting with one of them (byte strings). */
export type PathHint =
  | { readonly kind: 'any' }
  | { readonly kind: 'prefixes'; readonly prefixes: readonly string[] };

/** `values`: the rule can only match a request with one of these header fields (lowercased name, exact value). */
export type HeaderHint =
  | { readonly kind: 'any' }
  | { readonly kind: 'values'; readonly values: readonly (readonly [lname: string, value: string])[] };

export interface RuleHints {
  readonly hosts: HostHint;
  readonly paths: PathHint;
  readonly headers: HeaderHint;
}

type Need = ReadonlySet<string> | undefined;

/**
 * A necessary condition for `node` to evaluate to `positive`, from the keys `leaf` gives for
 * positive matchers. De Morgan: a negated `||` is a conjunction, a negated `&&` a disjunction.
 */
function need(node: RuleAst, positive: boolean, leaf: (m: MatcherNode) => Need): Need {
  switch (node.type) {
    case 'matcher':
      return positive ? leaf(node) : undefined;
    case 'not':
      return need(node.operand, !positive, leaf);
    default: {
      if ((node.type === 'and') === positive) {
        // Every operand must hold, so any operand's requirement is the whole's; take the narrowest.
        let best: Need;
        for (const child of node.children) {
          const n = need(child, positive, leaf);
          if (n && (!best || n.size < best.size)) best = n;
        }
        return best;
      }
      const union = new Set<string>();
      for (const child of node.children) {
        const n = need(child, positive, leaf);
        if (!n) return undefined;
        for (const k of n) union.add(k);
      }
      return union;
    }
  }
}

/**
 * The host a Host matcher compares with, in the form the codec gives a request's host: lowercased,
 * without a trailing dot, an IPv6 literal in brackets. Traefik compares the rule's host with the
 * request host stripped of its port and brackets (requestdecorator parseHost: `[::1]:80` is
 * `::1`), so Host(`::1`) is how a Traefik user writes it; it is bracketed here to compare with our
 * `[::1]`. Host(`[::1]`), which never matches in Traefik, matches the same requests.
 */
export function normalizeRuleHost(value: string): string {
  const h = value.toLowerCase();
  if (h.includes(':') && h.charCodeAt(0) !== 0x5b /* [ */) return `[${h}]`;
  return h.endsWith('.') && h.length > 1 ? h.slice(0, -1) : h;
}

function hostLeaf(node: MatcherNode): Need {
  if (node.name !== 'Host') return undefined;
  const h = normalizeRuleHost(node.args[0]!.value);
  // `**.example.com` (Traefik v3.8) is any depth under example.com: not indexed by host.
  return h === '*' || h.startsWith('**.') ? undefined : new Set([h]);
}

function sniLeaf(node: MatcherNode): Need {
  if (node.name !== 'Host') return undefined;
  const h = normalizeRuleHost(node.args[0]!.value);
  return h === '*' ? undefined : new Set([h]);
}

/** The server names a TLS connection must have to reach an HTTPS router (see `sniHosts`). */
export interface SniHosts {
  readonly exact: readonly string[];
  /** `*.parent`: one label under `parent`. */
  readonly wildcardParents: readonly string[];
  /** `**.suffix` (Traefik v3.8): one label or more under `suffix`. */
  readonly suffixes: readonly string[];
}

/**
 * What a rule needs of the host, as `hosts` of ruleHints but with Traefik v3.8's double wildcard
 * kept (``Host(`**.example.com`)``, which the router's index files as any host): the server names
 * for which the dispatcher hands a TLS connection to the HTTPS routers. Undefined: any name.
 */
export function sniHosts(ast: RuleAst): SniHosts | undefined {
  const h = need(ast, true, sniLeaf);
  if (!h) return undefined;
  const exact: string[] = [];
  const wildcardParents: string[] = [];
  const suffixes: string[] = [];
  for (const k of h) {
    if (k.startsWith('**.')) suffixes.push(k.slice(3));
    else if (k.startsWith('*.')) wildcardParents.push(k.slice(2));
    else exact.push(k);
  }
  return { exact, wildcardParents, suffixes };
}

function pathLeaf(node: MatcherNode): Need {
  if (node.name !== 'Path' && node.name !== 'PathPrefix') return undefined;
  return new Set([toByteString(node.args[0]!.value)]);
}

// '\n' cannot occur in a header name, so it separates name and value in a key.
function headerLeaf(node: MatcherNode): Need {
  if (node.name !== 'Header') return undefined;
  return new Set([`${node.args[0]!.value.toLowerCase()}\n${toByteString(node.args[1]!.value)}`]);
}

export function ruleHints(ast: RuleAst): RuleHints {
  let hosts: HostHint = { kind: 'any' };
  const h = need(ast, true, hostLeaf);
  if (h) {
    const exact: string[] = [];
    const wildcardParents: string[] = [];
    for (const k of h) {
      if (k.startsWith('*.')) wildcardParents.push(k.slice(2));
      else exact.push(k);
    }
    hosts = { kind: 'hosts', exact, wildcardParents };
  }
  const p = need(ast, true, pathLeaf);
  const v = need(ast, true, headerLeaf);
  return {
    hosts,
    paths: p ? { kind: 'prefixes', prefixes: [...p] } : { kind: 'any' },
    headers: v
      ? {
          kind: 'values',
          values: [...v].map((k) => {
            const nl = k.indexOf('\n');
            return [k.slice(0, nl), k.slice(nl + 1)] as const;
          }),
        }
      : { kind: 'any' },
  };
}

/**
 * Traefik's ParseDomains (pkg/muxer/http, `Tree.ParseMatchers([]string{"Host"})`): the value of
 * every Host matcher of the rule, wherever it sits (under `||` too), lower-cased, in rule order,
 * but a negated one (Traefik v3.7.13, "Ignore negated matchers when parsing rule domains": its
 * tree pushes each `!` down to the leaves, so a leaf under an odd number of `!` is skipped).
 * Unlike `hosts` above, not a condition for a match: what Traefik maps TLS options and HTTPS
 * server names from.
 */
export function hostMatcherValues(ast: RuleAst): string[] {
  const out: string[] = [];
  const walk = (node: RuleAst, negated: boolean): void => {
    if (node.type === 'matcher') {
      if (node.name === 'Host' && !negated) for (const a of node.args) out.push(a.value.toLowerCase());
    } else if (node.type === 'not') walk(node.operand, !negated);
    else for (const c of node.children) walk(c, negated);
  };
  walk(ast, false);
  return out;
}
