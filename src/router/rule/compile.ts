/**
 * AST → one matcher closure, with constant folding: when the router already knows the request's
 * host (it found the route in that host's bucket), every Host / HostRegexp leaf is a constant,
 * and `Host(a) && PathPrefix(/api)` compiles to the shared PathPrefix(/api) closure alone.
 */
import type { RuleAst, RuleError } from './ast.ts';
import { type HostHint, hostMatcherValues, normalizeRuleHost, type RuleHints, ruleHints } from './hints.ts';
import { type CompileContext, compileHostPredicate, compileMatcher, type RuleMatcher } from './matchers.ts';
import { parseRuleSyntax } from './parser-v2.ts';
import { RoutingPathCache } from './routing-path.ts';

export interface CompiledRule {
  readonly match: RuleMatcher;
  /** What the rule requires of the host (the same as `hints.hosts`). */
  readonly hosts: HostHint;
  readonly hints: RuleHints;
  /** The rule for requests whose host is `host`: a constant, or a matcher that ignores the host. */
  forHost(host: string): RuleMatcher | boolean;
  /** The rule for requests whose host is one non-empty label under `parent`. */
  forWildcardParent(parent: string): RuleMatcher | boolean;
}

/** What the router knows of the host when it picks a candidate list. */
type HostKnowledge =
  | undefined
  | { readonly exact: string; readonly parent?: undefined }
  | { readonly exact?: undefined; readonly parent: string };

function parentOf(host: string): string | undefined {
  const dot = host.indexOf('.');
  return dot > 0 ? host.slice(dot + 1) : undefined;
}

/** A Host leaf for a host known to be one label under `parent`: decided, or undefined. */
function hostLeafUnderParent(value: string, parent: string): boolean | undefined {
  const h = normalizeRuleHost(value);
  if (h === '*') return true;
  // Traefik v3.8's `**.s` (traefik/traefik#13882): any host under `s`, so one label under
  // `parent` when `parent` is `s` or under it. A malformed one is left to its matcher (an error).
  if (h.startsWith('**.')) {
    const s = h.slice(3);
    return s.includes('*') ? undefined : parent === s || parent.endsWith(`.${s}`);
  }
  // One label under `parent` is one label under `x` only if x is `parent`.
  if (h.startsWith('*.')) return h.slice(2) === parent;
  return parentOf(h) === parent ? undefined : false;
}

export type CompileResult = ({ ok: true } & CompiledRule) | { ok: false; error: RuleError };

export function createCompileContext(cnameFlattening = false): CompileContext {
  return { routingPath: new RoutingPathCache(), regexps: new Map(), matchers: new Map(), cnameFlattening };
}

/** With CNAME flattening no route is filed under its hosts: a request may match by another name. */
const ANY_HOST: HostHint = { kind: 'any' };

/** Rough per-request cost, to evaluate cheap operands of `&&` / `||` first (matchers are pure). */
function cost(node: RuleAst): number {
  switch (node.type) {
    case 'matcher':
      switch (node.name) {
        case 'Host':
        case 'Method':
        case 'Path':
        case 'PathPrefix':
          return 1;
        case 'ClientIP':
        case 'Header':
          return 2;
        case 'Query':
        case 'QueryV2':
          return 4;
        default:
          return 8;
      }
    case 'not':
      return cost(node.operand);
    default: {
      let c = 0;
      for (const child of node.children) c += cost(child);
      return c;
    }
  }
}

function all(ms: RuleMatcher[]): RuleMatcher {
  const [a, b, c] = ms as [RuleMatcher, RuleMatcher, RuleMatcher];
  if (ms.length === 2) return (r) => a(r) && b(r);
  if (ms.length === 3) return (r) => a(r) && b(r) && c(r);
  return (r) => {
    for (let i = 0; i < ms.length; i++) if (!ms[i]!(r)) return false;
    return true;
  };
}

function any(ms: RuleMatcher[]): RuleMatcher {
  const [a, b, c] = ms as [RuleMatcher, RuleMatcher, RuleMatcher];
  if (ms.length === 2) return (r) => a(r) || b(r);
  if (ms.length === 3) return (r) => a(r) || b(r) || c(r);
  return (r) => {
    for (let i = 0; i < ms.length; i++) if (ms[i]!(r)) return true;
    return false;
  };
}

class CompileError extends Error {
  readonly error: RuleError;
  constructor(error: RuleError) {
    super(error.message);
    this.error = error;
  }
}

const TRUE: RuleMatcher = () => true;

/** A closure, or a constant when what is known of the host decides the node. Throws CompileError. */
function build(node: RuleAst, ctx: CompileContext, host: HostKnowledge): RuleMatcher | boolean {
  switch (node.type) {
    case 'matcher': {
      if (host?.exact !== undefined && (node.name === 'Host' || node.name === 'HostRegexp')) {
        const p = compileHostPredicate(node, ctx);
        if (!p.ok) throw new CompileError(p.error);
        return p.test(host.exact);
      }
      if (host?.parent !== undefined && node.name === 'Host') {
        const known = hostLeafUnderParent(node.args[0]!.value, host.parent);
        if (known !== undefined) return known;
      }
      const m = compileMatcher(node, ctx);
      if (!m.ok) throw new CompileError(m.error);
      return m.match;
    }
    case 'not': {
      const inner = build(node.operand, ctx, host);
      if (typeof inner === 'boolean') return !inner;
      return (r) => !inner(r);
    }
    case 'and':
    case 'or': {
      const isAnd = node.type === 'and';
      // Every child is built (errors in source order) before folding.
      const built = node.children.map((child) => ({ b: build(child, ctx, host), cost: cost(child) }));
      const open: { m: RuleMatcher; cost: number }[] = [];
      let decided = false;
      for (const { b, cost: c } of built) {
        if (typeof b === 'boolean') {
          if (b !== isAnd) decided = true;
        } else {
          open.push({ m: b, cost: c });
        }
      }
      if (decided) return !isAnd;
      if (open.length === 0) return isAnd;
      if (open.length === 1) return open[0]!.m;
      open.sort((x, y) => x.cost - y.cost);
      const ms = open.map((x) => x.m);
      return isAnd ? all(ms) : any(ms);
    }
  }
}

function toMatcher(b: RuleMatcher | boolean): RuleMatcher {
  return typeof b === 'boolean' ? (b ? TRUE : () => false) : b;
}

/**
 * Parses and compiles a rule. Pass one context to every rule of a router to share caches.
 * `syntax`: the router's `ruleSyntax` (`v2` reads Traefik v2's matchers; anything else, v3's).
 */
export function compileRule(
  rule: string,
  ctx: CompileContext = createCompileContext(),
  syntax?: string,
): CompileResult {
  const parsed = parseRuleSyntax(rule, syntax);
  if (!parsed.ok) return parsed;
  const ast = parsed.ast;
  let match: RuleMatcher;
  try {
    match = toMatcher(build(ast, ctx, undefined));
  } catch (e) {
    if (e instanceof CompileError) return { ok: false, error: e.error };
    throw e;
  }
  let hints = ruleHints(ast);
  if (ctx.cnameFlattening === true && hints.hosts.kind !== 'any') hints = { ...hints, hosts: ANY_HOST };
  return {
    ok: true,
    match,
    hosts: hints.hosts,
    hints,
    // Cannot throw: the same matchers compiled above.
    forHost: (host) => build(ast, ctx, { exact: host }),
    forWildcardParent: (parent) => build(ast, ctx, { parent }),
  };
}

/**
 * Traefik's default priority (pkg/muxer/http/mux.go GetRulePriority): the rule's length in bytes
 * (Go's len() of the UTF-8 string), less 2 for each positive Host value `**.…` (v3.8,
 * traefik/traefik#13882, muxer.DoubleWildcardPenalty: its stars do not count, so that it ranks
 * below the single-label wildcard and the exact hosts it covers). Traefik reads those values with
 * ParseDomains, v3's grammar whatever the router's syntax; a rule it cannot parse keeps its length.
 */
export function defaultPriority(rule: string): number {
  const length = Buffer.byteLength(rule, 'utf8');
  if (!rule.includes('**.')) return length;
  const parsed = parseRuleSyntax(rule, undefined);
  if (!parsed.ok) return length;
  let priority = length;
  for (const h of hostMatcherValues(parsed.ast)) if (h.startsWith('**.')) priority -= 2;
  return priority;
}
