/**
 * Traefik v2's HTTP rule syntax (`ruleSyntax: v2`, or the static `core.defaultRuleSyntax: v2`),
 * as Traefik v3 still reads it: pkg/muxer/http/matcher_v2.go (httpFuncsV2) with the same
 * expression grammar as v3 (pkg/rules/parser.go: `&&`, `||`, `!`, parentheses, the four
 * spellings of each name), every matcher taking one or more non-empty arguments
 * (rules.CheckRule). A v2 rule is parsed with our one parser, then rewritten into the v3 matchers
 * it means, so that it compiles to the same closures and indexes as a v3 rule:
 *
 *   Host(`a`, `b`) / HostHeader(…)  → Host(`a`) || Host(`b`)   (lower-cased; ASCII only)
 *   HostRegexp(`{sub:[a-z]+}.a.com`) → HostRegexp(`(?i)^(?:[a-z]+)\.a\.com$`)   (a mux template;
 *                                       with a `:` in it, HostRegexpV2Port: the host with its port)
 *   Path(`/a`) / PathPrefix(`/a`)    → the same; with `{name:re}` → PathRegexp(`^…$` / `^…`)
 *   Method(`get`, `POST`)           → Method(`GET`) || Method(`POST`)
 *   Headers(`K`, `v`, `K2`, `v2`)   → Header(`K`, `v`) && Header(`K2`, `v2`)   (pairs)
 *   HeadersRegexp(`K`, `re`)        → HeaderRegexp(`K`, `re`)
 *   Query(`k=v`, `k2=`)             → QueryV2: the first value of `k` is `v`, `k2` is present
 *   ClientIP(`a`, `b`)              → ClientIP(`a`) || ClientIP(`b`)
 */
import type { MatcherName, RuleArg, RuleAst, RuleError, RuleGrammar } from './ast.ts';
import { MUX_DEFAULT_PATTERN, muxTemplate, quoteMeta } from './mux-template.ts';
import { HTTP_GRAMMAR, type ParseResult, parseRuleWith } from './parser.ts';
import { isAscii } from './text.ts';

export type V2MatcherName =
  | 'Host'
  | 'HostHeader'
  | 'HostRegexp'
  | 'ClientIP'
  | 'Path'
  | 'PathPrefix'
  | 'Method'
  | 'Headers'
  | 'HeadersRegexp'
  | 'Query';

const ANY: readonly number[] = [];

export const HTTP_V2_GRAMMAR: RuleGrammar<V2MatcherName> = {
  arity: {
    Host: ANY,
    HostHeader: ANY,
    HostRegexp: ANY,
    ClientIP: ANY,
    Path: ANY,
    PathPrefix: ANY,
    Method: ANY,
    Headers: ANY,
    HeadersRegexp: ANY,
    Query: ANY,
  },
  hints: {
    Header: 'Header is a v3 matcher; the v2 syntax names it Headers',
    HeaderRegexp: 'HeaderRegexp is a v3 matcher; the v2 syntax names it HeadersRegexp',
    PathRegexp: 'PathRegexp is a v3 matcher; in the v2 syntax write Path(`/a/{name:regexp}`)',
    QueryRegexp: 'QueryRegexp is a v3 matcher; in the v2 syntax write Query(`key={name:regexp}`)',
    HostSNI: 'HostSNI is a TCP matcher',
    HostSNIRegexp: 'HostSNIRegexp is a TCP matcher',
    ALPN: 'ALPN is a TCP matcher',
  },
};

/** A v2 argument the translation refuses (thrown by a translate, returned by parseV2). */
export class V2Error extends Error {
  readonly error: RuleError;
  constructor(message: string, offset: number) {
    super(message);
    this.error = { message, offset };
  }
}

/**
 * A v2 rule (HTTP or TCP): parsed with its grammar, then each matcher rewritten by `translate`
 * into the v3 matchers it means, so that it compiles as a v3 rule does.
 */
export function parseV2<In extends string, Out extends string>(
  rule: string,
  grammar: RuleGrammar<In>,
  translate: (m: Extract<RuleAst<In>, { type: 'matcher' }>) => RuleAst<Out>,
): ParseResult<Out> {
  const walk = (node: RuleAst<In>): RuleAst<Out> => {
    switch (node.type) {
      case 'matcher':
        return translate(node);
      case 'not':
        return { type: 'not', operand: walk(node.operand), offset: node.offset };
      default:
        return { type: node.type, children: node.children.map(walk), offset: node.offset };
    }
  };
  const parsed = parseRuleWith(rule, grammar);
  if (!parsed.ok) return parsed;
  try {
    return { ok: true, ast: walk(parsed.ast) };
  } catch (e) {
    if (e instanceof V2Error) return { ok: false, error: e.error };
    throw e;
  }
}

type Node = RuleAst<MatcherName>;

function leaf(name: MatcherName, args: RuleArg[], offset: number): Node {
  return { type: 'matcher', name, args, offset };
}

/** An argument with a rewritten value: error offsets then point at the argument's quote. */
function rewritten(value: string, from: RuleArg): RuleArg {
  return value === from.value ? from : { value, offset: from.offset, raw: false };
}

function oneOf(children: Node[], offset: number): Node {
  return children.length === 1 ? children[0]! : { type: 'or', children, offset };
}

function allOf(children: Node[], offset: number): Node {
  return children.length === 1 ? children[0]! : { type: 'and', children, offset };
}

function pairs(name: string, args: readonly RuleArg[], offset: number): void {
  if (args.length % 2 !== 0) {
    throw new V2Error(
      `${name} takes name, value pairs (gorilla/mux: the number of arguments must be a multiple of 2), got ${args.length}`,
      args[args.length - 1]?.offset ?? offset,
    );
  }
}

function template(
  name: string,
  a: RuleArg,
  value: string,
  defaultPattern: string,
): { source: string; hasVars: boolean } {
  const t = muxTemplate(value, defaultPattern);
  if (!t.ok) throw new V2Error(`${name}: ${t.message}`, a.offset);
  return t;
}

/**
 * Whether gorilla's host pattern has a `:`: the literal text or a variable's pattern has one (the
 * `:` between a variable's name and its pattern is not part of the pattern).
 */
function hasColonOutsideNames(tpl: string): boolean {
  let level = 0;
  let inName = false;
  for (let i = 0; i < tpl.length; i++) {
    const c = tpl[i];
    if (c === '{') {
      if (++level === 1) inName = true;
    } else if (c === '}') {
      if (--level === 0) inName = false;
    } else if (c === ':') {
      if (level === 1 && inName) inName = false;
      else return true;
    }
  }
  return false;
}

/** One v2 matcher as v3 matchers (matcher_v2.go, each function's reading of its arguments). */
function translate(node: Extract<RuleAst<V2MatcherName>, { type: 'matcher' }>): Node {
  const { args, offset } = node;
  switch (node.name) {
    case 'Host':
    case 'HostHeader':
      return oneOf(
        args.map((a) => {
          if (!isAscii(a.value)) {
            throw new V2Error(
              `Host: non-ASCII characters are not allowed in ${JSON.stringify(a.value)}; use the punycode form`,
              a.offset,
            );
          }
          const host = a.value.toLowerCase();
          // v2's Host compares names literally: `*.a.com` is no wildcard there (hostV2).
          if (host.includes('*')) {
            const bare = host.endsWith('.') ? host.slice(0, -1) : host;
            return leaf('HostRegexp', [rewritten(`^${quoteMeta(bare)}$`, a)], offset);
          }
          return leaf('Host', [a], offset);
        }),
        offset,
      );
    case 'HostRegexp':
      return oneOf(
        args.map((a) => {
          if (!isAscii(a.value)) {
            throw new V2Error('HostRegexp: non-ASCII characters are not allowed', a.offset);
          }
          // containous/mux host templates match case-insensitively, the whole host; without a `:`
          // in the template the request's port is left out, with one it is kept (wildcardHostPort).
          const t = template('HostRegexp', a, a.value, MUX_DEFAULT_PATTERN.host);
          const name = hasColonOutsideNames(a.value) ? 'HostRegexpV2Port' : 'HostRegexp';
          return leaf(name, [rewritten(`(?i)^${t.source}$`, a)], offset);
        }),
        offset,
      );
    case 'Path':
    case 'PathPrefix': {
      const name = node.name;
      return oneOf(
        args.map((a) => {
          if (!a.value.startsWith('/')) {
            throw new V2Error(
              `${name}: mux: path must start with a slash, got ${JSON.stringify(a.value)}`,
              a.offset,
            );
          }
          const t = template(name, a, a.value, MUX_DEFAULT_PATTERN.path);
          if (!t.hasVars) return leaf(name, [a], offset);
          const source = name === 'Path' ? `^${t.source}$` : `^${t.source}`;
          return leaf('PathRegexp', [rewritten(source, a)], offset);
        }),
        offset,
      );
    }
    case 'Method':
      return oneOf(
        args.map((a) => leaf('Method', [a], offset)),
        offset,
      );
    case 'ClientIP':
      return oneOf(
        args.map((a) => leaf('ClientIP', [a], offset)),
        offset,
      );
    case 'Headers':
    case 'HeadersRegexp': {
      pairs(node.name, args, offset);
      const name = node.name === 'Headers' ? 'Header' : 'HeaderRegexp';
      const out: Node[] = [];
      for (let i = 0; i < args.length; i += 2) out.push(leaf(name, [args[i]!, args[i + 1]!], offset));
      return allOf(out, offset);
    }
    case 'Query': {
      // queryV2: each argument split at its first `=`, the pieces read as key, value pairs.
      const pieces: RuleArg[] = [];
      for (const a of args) {
        const eq = a.value.indexOf('=');
        if (eq === -1) pieces.push(a);
        else {
          pieces.push(rewritten(a.value.slice(0, eq), a));
          pieces.push(rewritten(a.value.slice(eq + 1), a));
        }
      }
      pairs('Query', pieces, offset);
      const out: Node[] = [];
      for (let i = 0; i < pieces.length; i += 2) {
        const k = pieces[i]!;
        const v = pieces[i + 1]!;
        const t = template('Query', k, `${k.value}=${v.value}`, MUX_DEFAULT_PATTERN.query);
        if (!t.hasVars && v.value !== '') {
          out.push(leaf('QueryV2', [k, v], offset));
        } else {
          // An empty value means any value (gorilla appends the default pattern).
          const source = `^${t.source}${v.value === '' ? MUX_DEFAULT_PATTERN.query : ''}$`;
          out.push(leaf('QueryV2Regexp', [k, rewritten(source, v)], offset));
        }
      }
      return allOf(out, offset);
    }
  }
}

/** Parses a `ruleSyntax: v2` rule into the v3 matchers it means. */
export function parseRuleV2(rule: string): ParseResult<MatcherName> {
  return parseV2(rule, HTTP_V2_GRAMMAR, translate);
}

/**
 * The parser of a router's `ruleSyntax`, as Traefik picks it (pkg/muxer/http/parser.go
 * SyntaxParser.parse): `v2` is v2's; any other value, empty or unknown, is v3's.
 */
export function parseRuleSyntax(rule: string, syntax?: string): ParseResult<MatcherName> {
  return syntax === 'v2' ? parseRuleV2(rule) : parseRuleWith(rule, HTTP_GRAMMAR);
}
