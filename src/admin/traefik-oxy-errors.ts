/**
 * Traefik's error for a `circuitBreaker` `expression` or a `buffering` `retryExpression`, word for
 * word: vulcand/oxy's parseExpression (cbreaker/predicates.go, buffer/threshold.go, oxy v2.1.0 as
 * Traefik v3.6–v3.8 build it) returns vulcand/predicate v1.2.0's error unwrapped, and Traefik's
 * circuitbreaker and buffering New return oxy's:
 *
 * 1. Go's go/parser.ParseExpr text (`1:23: expected operand, found 'EOF'`);
 * 2. predicate's parse (parse.go): `unsupported function: Foo`, `x is not defined`, `! is not
 *    supported` (neither definition has NOT), `- is not supported`, `*ast.ParenExpr is not
 *    supported` (an argument in parentheses), `unsupported function argument type: 'CHAR'`,
 *    `failed to parse argument: …` (strconv's);
 * 3. callFunction's recovered reflect panic for oxy's functions and operators (Go 1.19's texts):
 *    `reflect: Call with too many input arguments` (`NetworkErrorRatio(1)`), `… too few …`
 *    (`LatencyAtQuantileMS()`), `reflect: Call using int as type float64`
 *    (`LatencyAtQuantileMS(50)`), `reflect: cannot use cbreaker.toFloat64 as type
 *    cbreaker.hpredicate in Call` (a bare metric under `&&`);
 * 4. oxy's operators: `expected int, got float64` (an int metric against a float; oxy's
 *    float64LT and float64GT say `expected int` for a float metric too, its float64EQ `expected
 *    float64`), `gt: unsupported argument: int` (cbreaker, a number on the left), `unsupported
 *    argument: buffer.toString` (buffer), and parseExpression's own `expected predicate, got
 *    cbreaker.toFloat64` (a bare metric).
 *
 * Undefined when Traefik accepts the expression or this reading cannot tell (what
 * traefik-rule-errors.ts's Go reading does not follow). Computed when the API is asked, never per
 * request.
 */

import {
  type Expr,
  GO_TYPE,
  goNumberLiteral,
  goParseExpr,
  PredicateError,
  predicateCallName,
  selector,
} from './traefik-rule-errors.ts';

/** oxy's package of the expression: `cbreaker` (circuitBreaker) or `buffer` (buffering). */
export type OxyPackage = 'cbreaker' | 'buffer';

/** A Go value of predicate's parse, by its type's text (`int`, `cbreaker.toFloat64`…). */
type Value = { readonly type: string };

class NotFollowed extends Error {}

const INT: Value = { type: 'int' };
const FLOAT: Value = { type: 'float64' };
const STRING: Value = { type: 'string' };

/** oxy's functions: their parameters' types and what they return (a mapper or a predicate). */
const FUNCTIONS: Record<OxyPackage, Record<string, { params: readonly string[]; returns: string }>> = {
  cbreaker: {
    LatencyAtQuantileMS: { params: ['float64'], returns: 'toInt' },
    NetworkErrorRatio: { params: [], returns: 'toFloat64' },
    ResponseCodeRatio: { params: ['int', 'int', 'int', 'int'], returns: 'toFloat64' },
  },
  buffer: {
    RequestMethod: { params: [], returns: 'toString' },
    IsNetworkError: { params: [], returns: 'hpredicate' },
    Attempts: { params: [], returns: 'toInt' },
    ResponseCode: { params: [], returns: 'toInt' },
  },
};

/** reflect.Value.Call's checks for a function of fixed parameters (count, then each type). */
function reflectCall(params: readonly string[], args: readonly Value[]): void {
  if (args.length < params.length) throw new PredicateError('reflect: Call with too few input arguments');
  if (args.length > params.length) throw new PredicateError('reflect: Call with too many input arguments');
  params.forEach((p, i) => {
    if (args[i]!.type !== p) throw new PredicateError(`reflect: Call using ${args[i]!.type} as type ${p}`);
  });
}

/** oxy's comparison operators (eq, neq, lt, le, gt, ge) on a mapper `m` and a value `v`. */
function compare(pkg: OxyPackage, op: string, m: Value, v: Value): Value {
  const pred = { type: `${pkg}.hpredicate` };
  const expect = (want: string, word = want): Value => {
    if (v.type !== want) throw new PredicateError(`expected ${word}, got ${v.type}`);
    return pred;
  };
  const eq = (): Value => {
    if (m.type === `${pkg}.toInt`) return expect('int');
    if (pkg === 'cbreaker' && m.type === 'cbreaker.toFloat64') return expect('float64');
    if (pkg === 'buffer' && m.type === 'buffer.toString') return expect('string');
    throw new PredicateError(`${pkg === 'cbreaker' ? 'eq: ' : ''}unsupported argument: ${m.type}`);
  };
  // lt and gt: cbreaker's float64LT/GT say `expected int` for a float64 metric too.
  const order = (name: string): Value => {
    if (m.type === `${pkg}.toInt`) return expect('int');
    if (pkg === 'cbreaker' && m.type === 'cbreaker.toFloat64') return expect('float64', 'int');
    throw new PredicateError(`${pkg === 'cbreaker' ? `${name}: ` : ''}unsupported argument: ${m.type}`);
  };
  switch (op) {
    case '==':
    case '!=':
      return eq();
    case '<':
    case '>':
      return order(op === '<' ? 'lt' : 'gt');
    default: {
      // le, ge: lt or gt, then eq.
      order(op === '<=' ? 'lt' : 'gt');
      return eq();
    }
  }
}

const COMPARISONS = ['==', '!=', '<', '<=', '>', '>='];

/** predicate's parse with oxy's definition. */
function parse(pkg: OxyPackage, x: Expr): Value {
  switch (x.t) {
    case 'binary': {
      const a = parse(pkg, x.x);
      const b = parse(pkg, x.y);
      if (x.op === 'and' || x.op === 'or') {
        // and/or(fns ...hpredicate), called by reflect.
        for (const v of [a, b])
          if (v.type !== `${pkg}.hpredicate`)
            throw new PredicateError(`reflect: cannot use ${v.type} as type ${pkg}.hpredicate in Call`);
        return a;
      }
      if (!COMPARISONS.includes(x.op)) throw new PredicateError(`${x.op} is not supported`);
      return compare(pkg, x.op, a, b);
    }
    case 'paren':
      return parse(pkg, x.x);
    case 'not':
      throw new PredicateError('! is not supported');
    case 'unary':
      throw new PredicateError(`${x.op} is not supported`);
    default:
      return evaluate(pkg, x);
  }
}

/** predicate's evaluateExpr with oxy's functions. */
function evaluate(pkg: OxyPackage, x: Expr): Value {
  switch (x.t) {
    case 'lit':
      if (x.kind === 'CHAR') throw new PredicateError("unsupported function argument type: 'CHAR'");
      if (x.value === undefined) throw new NotFollowed();
      if (x.kind === 'STRING') return STRING;
      return goNumberLiteral(x.kind, x.value).go === 'int' ? INT : FLOAT;
    case 'ident':
      throw new PredicateError(`${x.name} is not defined`);
    case 'sel':
      throw new PredicateError(`${selector(x)} is not defined`);
    case 'index':
      throw new PredicateError('properties are not supported');
    case 'call': {
      const name = predicateCallName(x.fun);
      const fn = Object.hasOwn(FUNCTIONS[pkg], name) ? FUNCTIONS[pkg][name] : undefined;
      if (fn === undefined) throw new PredicateError(`unsupported function: ${name}`);
      const args = x.args.map((a) => evaluate(pkg, a));
      reflectCall(fn.params, args);
      return { type: `${pkg}.${fn.returns}` };
    }
    default:
      throw new PredicateError(`${GO_TYPE[x.t]} is not supported`);
  }
}

/**
 * Traefik's error for oxy expression `expr` of package `pkg` (circuitBreaker: `cbreaker`,
 * buffering: `buffer`); undefined when Traefik accepts it or this reading cannot tell.
 */
export function traefikOxyExpressionError(expr: string, pkg: OxyPackage): string | undefined {
  const parsed = goParseExpr(expr);
  if (parsed === undefined) return undefined;
  if (!parsed.ok) return parsed.text;
  try {
    const out = parse(pkg, parsed.x);
    return out.type === `${pkg}.hpredicate` ? undefined : `expected predicate, got ${out.type}`;
  } catch (e) {
    if (e instanceof PredicateError) return e.message;
    if (e instanceof NotFollowed) return undefined;
    throw e;
  }
}
