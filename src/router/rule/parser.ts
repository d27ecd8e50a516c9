/**
 * Recursive-descent parser for the Traefik v3 rule grammar:
 *
 *   rule    = or ;  or = and { "||" and } ;  and = unary { "&&" unary } ;
 *   unary   = "!" unary | "(" or ")" | matcher ;
 *   matcher = NAME "(" value { "," value } [ "," ] ")" ;
 *
 * `&&` binds tighter than `||`. Matcher names are accepted in the spellings Traefik registers
 * (`PathPrefix`, `pathprefix`, `PATHPREFIX`, `Pathprefix`). A trailing comma before `)` is
 * accepted because Go's expression parser, which Traefik uses, accepts it.
 */
import {
  MATCHER_ARITY,
  type MatcherName,
  type RuleArg,
  type RuleAst,
  type RuleError,
  type RuleGrammar,
  type V3MatcherName,
} from './ast.ts';
import { type Token, tokenize } from './lexer.ts';

export type ParseResult<N extends string = MatcherName> =
  | { ok: true; ast: RuleAst<N> }
  | { ok: false; error: RuleError };

/** Deeper nesting than this is certainly not a hand-written rule; refuse it before the stack does. */
const MAX_DEPTH = 200;

/**
 * The spellings Traefik registers for each matcher name (as written, lower, upper, Capitalised:
 * rules.NewParser's function names).
 */
export function matcherSpellings<N extends string>(names: readonly N[]): Map<string, N> {
  const m = new Map<string, N>();
  for (const name of names) {
    const lower = name.toLowerCase();
    m.set(name, name);
    m.set(lower, name);
    m.set(name.toUpperCase(), name);
    m.set(lower[0]!.toUpperCase() + lower.slice(1), name);
  }
  return m;
}

/** The HTTP rule language; Traefik v2 names that v3 removed or renamed get a hint (docs/content/migrate/v2-to-v3-details.md). */
export const HTTP_GRAMMAR: RuleGrammar<V3MatcherName> = {
  arity: MATCHER_ARITY,
  hints: {
    Headers: 'use Header (Traefik v3 renamed it)',
    HeadersRegexp: 'use HeaderRegexp (Traefik v3 renamed it)',
    HostHeader: 'use Host (HostHeader was removed in Traefik v3)',
    HostSNI: 'HostSNI is a TCP matcher',
    HostSNIRegexp: 'HostSNIRegexp is a TCP matcher',
    ALPN: 'ALPN is a TCP matcher',
  },
};

const compiledSpellings = new WeakMap<RuleGrammar<string>, ReadonlyMap<string, string>>();

class RuleSyntaxError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of rule';
    case 'string':
      return 'a string';
    case 'ident':
      return JSON.stringify(t.text);
    default:
      return `"${t.text}"`;
  }
}

class Parser<N extends string> {
  readonly #tokens: Token[];
  readonly #grammar: RuleGrammar<N>;
  readonly #names: ReadonlyMap<string, N>;
  #pos = 0;
  #depth = 0;

  constructor(tokens: Token[], grammar: RuleGrammar<N>, names: ReadonlyMap<string, N>) {
    this.#tokens = tokens;
    this.#grammar = grammar;
    this.#names = names;
  }

  #peek(): Token {
    return this.#tokens[this.#pos]!;
  }

  #next(): Token {
    const t = this.#tokens[this.#pos]!;
    if (t.kind !== 'eof') this.#pos++;
    return t;
  }

  parseRule(): RuleAst<N> {
    const ast = this.#parseOr();
    const t = this.#peek();
    if (t.kind === 'rparen') throw new RuleSyntaxError('unbalanced parenthesis: unexpected ")"', t.offset);
    if (t.kind !== 'eof') {
      throw new RuleSyntaxError(
        `unexpected ${describe(t)}; expected "&&", "||" or the end of the rule`,
        t.offset,
      );
    }
    return ast;
  }

  #parseOr(): RuleAst<N> {
    const first = this.#parseAnd();
    if (this.#peek().kind !== 'or') return first;
    const children = [first];
    while (this.#peek().kind === 'or') {
      this.#next();
      children.push(this.#parseAnd());
    }
    return { type: 'or', children, offset: first.offset };
  }

  #parseAnd(): RuleAst<N> {
    const first = this.#parseUnary();
    if (this.#peek().kind !== 'and') return first;
    const children = [first];
    while (this.#peek().kind === 'and') {
      this.#next();
      children.push(this.#parseUnary());
    }
    return { type: 'and', children, offset: first.offset };
  }

  #parseUnary(): RuleAst<N> {
    const t = this.#next();
    if (++this.#depth > MAX_DEPTH) throw new RuleSyntaxError('rule is nested too deeply', t.offset);
    try {
      switch (t.kind) {
        case 'not':
          return { type: 'not', operand: this.#parseUnary(), offset: t.offset };
        case 'lparen': {
          const inner = this.#parseOr();
          const close = this.#next();
          if (close.kind === 'rparen') return inner;
          if (close.kind === 'eof') {
            throw new RuleSyntaxError(
              `unbalanced parenthesis: "(" at offset ${t.offset} is never closed`,
              t.offset,
            );
          }
          throw new RuleSyntaxError(
            `unexpected ${describe(close)}; expected "&&", "||" or ")"`,
            close.offset,
          );
        }
        case 'ident':
          return this.#parseMatcher(t);
        case 'eof':
          if (this.#tokens.length === 1) throw new RuleSyntaxError('empty rule', 0);
          throw new RuleSyntaxError('unexpected end of rule; expected a matcher, "!" or "("', t.offset);
        case 'rparen':
          throw new RuleSyntaxError('unexpected ")"; expected a matcher, "!" or "("', t.offset);
        case 'string':
          throw new RuleSyntaxError('unexpected string; a value must be the argument of a matcher', t.offset);
        default:
          throw new RuleSyntaxError(`unexpected ${describe(t)}; expected a matcher, "!" or "("`, t.offset);
      }
    } finally {
      this.#depth--;
    }
  }

  #parseMatcher(ident: Token): RuleAst<N> {
    const name = this.#names.get(ident.text);
    if (name === undefined) {
      const hint = this.#grammar.hints[ident.text];
      throw new RuleSyntaxError(
        `unknown matcher ${JSON.stringify(ident.text)}${hint ? `; ${hint}` : ''}`,
        ident.offset,
      );
    }
    const open = this.#next();
    if (open.kind !== 'lparen') {
      throw new RuleSyntaxError(`expected "(" after ${name}, found ${describe(open)}`, open.offset);
    }
    const args: RuleArg[] = [];
    let close: Token;
    for (;;) {
      const t = this.#next();
      if (t.kind === 'rparen') {
        close = t;
        break;
      }
      if (t.kind !== 'string') {
        if (t.kind === 'eof') {
          throw new RuleSyntaxError(
            `unbalanced parenthesis: "(" at offset ${open.offset} is never closed`,
            open.offset,
          );
        }
        throw new RuleSyntaxError(
          `${name}: expected a quoted string argument, found ${describe(t)}`,
          t.offset,
        );
      }
      args.push({ value: t.text, offset: t.offset, raw: t.raw });
      const sep = this.#next();
      if (sep.kind === 'rparen') {
        close = sep;
        break;
      }
      if (sep.kind === 'eof') {
        throw new RuleSyntaxError(
          `unbalanced parenthesis: "(" at offset ${open.offset} is never closed`,
          open.offset,
        );
      }
      if (sep.kind !== 'comma') {
        throw new RuleSyntaxError(`${name}: expected "," or ")", found ${describe(sep)}`, sep.offset);
      }
    }
    const arity = this.#grammar.arity[name];
    // An empty list: any number of arguments, at least one (Traefik v2's matchers; rules.CheckRule).
    if (arity.length === 0 && args.length === 0) {
      throw new RuleSyntaxError(`${name} expects at least 1 argument, got 0`, close.offset);
    }
    if (arity.length > 0 && !arity.includes(args.length)) {
      const expected = arity.length === 1 ? `${arity[0]}` : arity.join(' or ');
      const plural = arity[arity.length - 1] === 1 ? 'argument' : 'arguments';
      const extra = args[arity[arity.length - 1]!];
      let message = `${name} expects ${expected} ${plural}, got ${args.length}`;
      if (extra && arity[arity.length - 1] === 1) message += `; combine several values with "||"`;
      throw new RuleSyntaxError(message, extra ? extra.offset : close.offset);
    }
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a.value === '') throw new RuleSyntaxError(`${name}: argument ${i + 1} is empty`, a.offset);
    }
    return { type: 'matcher', name, args, offset: ident.offset };
  }
}

export function parseRule(rule: string): ParseResult {
  return parseRuleWith(rule, HTTP_GRAMMAR);
}

/** Parses a rule of the language `grammar` describes (the same syntax for HTTP and TCP rules). */
export function parseRuleWith<N extends string>(rule: string, grammar: RuleGrammar<N>): ParseResult<N> {
  const lexed = tokenize(rule);
  if (!lexed.ok) return lexed;
  let names = compiledSpellings.get(grammar) as ReadonlyMap<string, N> | undefined;
  if (names === undefined) {
    names = matcherSpellings(Object.keys(grammar.arity) as N[]);
    compiledSpellings.set(grammar, names);
  }
  try {
    return { ok: true, ast: new Parser(lexed.tokens, grammar, names).parseRule() };
  } catch (e) {
    if (e instanceof RuleSyntaxError) return { ok: false, error: { message: e.message, offset: e.offset } };
    throw e;
  }
}
