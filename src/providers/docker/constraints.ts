import { type ConfigIssue, issue } from '../../config/issues.ts';
import { compileRe2 } from '../../core/re2/index.ts';

/** A compiled constraint: does a container with these labels pass? */
export type Constraint = (labels: Readonly<Record<string, string>>) => boolean;

type Token =
  | { kind: 'name'; value: string; at: number }
  | { kind: 'string'; value: string; at: number }
  | { kind: 'op'; value: '!' | '&&' | '||' | '(' | ')' | ','; at: number };

/**
 * Traefik's constraints expression for label providers (pkg/provider/constraints): matchers
 * ``Label(`key`, `value`)`` and ``LabelRegex(`key`, `regexp`)`` (a Go regexp found anywhere in the
 * value, as Traefik's regexp.MatchString: anchor it with `^…$` to match the whole; a missing label
 * is the empty value for both), combined with `!`, `&&`, `||` and parentheses (`&&` binds tighter). Strings are
 * quoted with backticks or double quotes. An empty expression lets every container through.
 * Returns an error with the offset of the problem; a regexp that does not compile is a warning
 * and a matcher that is always false (Traefik's).
 */
export function compileConstraints(
  src: string,
  matchers: 'labels' | 'tags' = 'labels',
  /** Receives what loads but is worth saying (a regular expression that does not compile). */
  warnings: string[] = [],
): Constraint | { error: string } {
  if (src.trim() === '') return () => true;
  const names = matchers === 'tags' ? 'Tag, TagRegex' : 'Label, LabelRegex';
  let tokens: Token[];
  try {
    tokens = lex(src);
  } catch (e) {
    return { error: (e as Error).message };
  }
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const fail = (msg: string, t = peek()): never => {
    throw new Error(`${msg} at offset ${t?.at ?? src.length}`);
  };
  /**
   * A regular expression that does not compile makes its matcher false, not the expression
   * wrong: Traefik compiles it when matching and reads an error as no match
   * (pkg/provider/constraints labelRegexFn, tagRegexFn), so `!LabelRegex(…)` lets everything
   * through. Said once, as a warning.
   */
  const badRegexp = (re: string, message: string, t: Token): Constraint => {
    warnings.push(
      `invalid regular expression ${JSON.stringify(re)} at offset ${t.at}: ${message}; it matches nothing, as in Traefik`,
    );
    return () => false;
  };
  const expectOp = (v: string): void => {
    const t = peek();
    if (t?.kind !== 'op' || t.value !== v) fail(`expected \`${v}\``);
    pos++;
  };
  const str = (): string => {
    const t = peek();
    if (t?.kind !== 'string') return fail('expected a quoted string');
    pos++;
    return t.value;
  };
  const or = (): Constraint => {
    let left = and();
    while (peek()?.kind === 'op' && peek()?.value === '||') {
      pos++;
      const l = left;
      const r = and();
      left = (x) => l(x) || r(x);
    }
    return left;
  };
  const and = (): Constraint => {
    let left = unary();
    while (peek()?.kind === 'op' && peek()?.value === '&&') {
      pos++;
      const l = left;
      const r = unary();
      left = (x) => l(x) && r(x);
    }
    return left;
  };
  const unary = (): Constraint => {
    const t = peek();
    if (t?.kind === 'op' && t.value === '!') {
      pos++;
      const inner = unary();
      return (x) => !inner(x);
    }
    if (t?.kind === 'op' && t.value === '(') {
      pos++;
      const inner = or();
      expectOp(')');
      return inner;
    }
    if (t?.kind !== 'name') return fail(`expected ${names}, \`!\` or \`(\``);
    pos++;
    expectOp('(');
    if (matchers === 'tags') {
      // Consul Catalog's ``Tag(`t`)`` and ``TagRegex(`re`)``: the tags are the keys of `x`.
      const v = str();
      expectOp(')');
      if (t.value === 'Tag') return (x) => Object.hasOwn(x, v);
      if (t.value === 'TagRegex') {
        const re = compileRe2(v);
        if (!re.ok) return badRegexp(v, re.message, t);
        const regexp = re.regexp;
        return (x) => Object.keys(x).some((k) => regexp.test(k));
      }
      return fail(`unknown matcher \`${t.value}\` (Tag or TagRegex)`, t);
    }
    const key = str();
    expectOp(',');
    const value = str();
    expectOp(')');
    // A missing label reads as "" (a Go map's zero value).
    if (t.value === 'Label') return (x) => (x[key] ?? '') === value;
    if (t.value === 'LabelRegex') {
      const re = compileRe2(value);
      if (!re.ok) return badRegexp(value, re.message, t);
      const regexp = re.regexp;
      return (x) => regexp.test(x[key] ?? '');
    }
    return fail(`unknown matcher \`${t.value}\` (Label or LabelRegex)`, t);
  };
  try {
    const c = or();
    if (pos < tokens.length) fail('unexpected text');
    return c;
  } catch (e) {
    return { error: (e as Error).message };
  }
}

function lex(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '`' || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end === -1) throw new Error(`unterminated string at offset ${i}`);
      out.push({ kind: 'string', value: src.slice(i + 1, end), at: i });
      i = end + 1;
    } else if (src.startsWith('&&', i) || src.startsWith('||', i)) {
      out.push({ kind: 'op', value: src.slice(i, i + 2) as '&&' | '||', at: i });
      i += 2;
    } else if ('!(),'.includes(c)) {
      out.push({ kind: 'op', value: c as '!' | '(' | ')' | ',', at: i });
      i++;
    } else if (/[A-Za-z]/.test(c)) {
      const m = /^[A-Za-z]+/.exec(src.slice(i))![0];
      out.push({ kind: 'name', value: m, at: i });
      i += m.length;
    } else {
      throw new Error(`unexpected \`${c}\` at offset ${i}`);
    }
  }
  return out;
}

/** The constraints' warnings as issues of `providers.<name>.constraints`. */
export function constraintIssues(warnings: readonly string[], provider: string): ConfigIssue[] {
  return warnings.map((w) => issue('warning', w, ['providers', provider, 'constraints']));
}
