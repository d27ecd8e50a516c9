/**
 * Traefik's circuit-breaker expression (`circuitBreaker.expression`), parsed and compiled once per
 * configuration into a predicate over the rolling metrics.
 *
 *   expr       := and ('||' and)*
 *   and        := primary ('&&' primary)*
 *   primary    := '(' expr ')' | comparison
 *   comparison := call ('<' | '<=' | '>' | '>=' | '==' | '!=') number
 *   call       := NetworkErrorRatio() | ResponseCodeRatio(int, int, int, int) | LatencyAtQuantileMS(float)
 *
 * This is the subset of Go expressions that oxy's predicate definition accepts: the metric is on the
 * left of the comparison, a bare metric is not a condition, and there is no negation. Numbers have
 * Go's types as vulcand/predicate reads them (an `int` without `.` or exponent, else a `float64`)
 * and must have the type oxy's functions and operators take (cbreaker/predicates.go, oxy v2.1.0):
 * ResponseCodeRatio's arguments are ints, LatencyAtQuantileMS's a float64 (`50.0`, not `50`), a
 * ratio is compared with a float64 (`> 0.5`, `>= 1.0`), a latency with an int (`> 100`).
 */
import { type ComparisonOp, describeToken, LexError, type Token, tokenize } from './expression-lexer.ts';

/** What an expression can read; implemented by RollingMetrics. */
export interface BreakerMetricsView {
  networkErrorRatio(): number;
  responseCodeRatio(from: number, to: number, dFrom: number, dTo: number): number;
  latencyAtQuantileMs(q: number): number;
}

export type BreakerPredicate = (m: BreakerMetricsView) => boolean;

export type CompileResult =
  | { readonly ok: true; readonly expr: BreakerPredicate }
  | { readonly ok: false; readonly error: string; readonly offset: number };

type Metric = (m: BreakerMetricsView) => number;

/** A Go number type of oxy's functions. */
type GoNumberType = 'int' | 'float64';

interface FunctionDef {
  /** The Go types of the arguments, as reflect checks them (oxy's function signatures). */
  readonly params: readonly GoNumberType[];
  /** What the metric is compared with: oxy's toInt or toFloat64 mapper. */
  readonly result: GoNumberType;
  readonly example: string;
  readonly build: (args: readonly number[]) => Metric;
}

const FUNCTIONS: Readonly<Record<string, FunctionDef>> = {
  NetworkErrorRatio: {
    params: [],
    result: 'float64',
    example: 'NetworkErrorRatio() > 0.30',
    build: () => (m) => m.networkErrorRatio(),
  },
  ResponseCodeRatio: {
    params: ['int', 'int', 'int', 'int'],
    result: 'float64',
    example: 'ResponseCodeRatio(500, 600, 0, 600) > 0.25',
    build:
      ([from = 0, to = 0, dFrom = 0, dTo = 0]) =>
      (m) =>
        m.responseCodeRatio(from, to, dFrom, dTo),
  },
  LatencyAtQuantileMS: {
    params: ['float64'],
    result: 'int',
    example: 'LatencyAtQuantileMS(50.0) > 100',
    // oxy compares whole milliseconds (a Go int), so 100.7 ms is not `> 100`.
    build:
      ([q = 0]) =>
      (m) =>
        Math.trunc(m.latencyAtQuantileMs(q)),
  },
};

const FUNCTION_NAMES = Object.keys(FUNCTIONS);
const FUNCTION_LIST = 'NetworkErrorRatio, ResponseCodeRatio or LatencyAtQuantileMS';

/** A number's Go type as vulcand/predicate's literalToValue reads it (INT: digits only). */
function goNumberType(text: string): GoNumberType {
  return /^[0-9]+$/.test(text) ? 'int' : 'float64';
}

const GO_EXAMPLE: Record<GoNumberType, string> = { int: 'such as 100', float64: 'such as 0.5 or 1.0' };

class ParseError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

function comparison(metric: Metric, op: ComparisonOp, value: number): BreakerPredicate {
  switch (op) {
    case '<':
      return (m) => metric(m) < value;
    case '<=':
      return (m) => metric(m) <= value;
    case '>':
      return (m) => metric(m) > value;
    case '>=':
      return (m) => metric(m) >= value;
    case '==':
      return (m) => metric(m) === value;
    case '!=':
      return (m) => metric(m) !== value;
    default: {
      const unknown: never = op;
      throw new TypeError(`unknown operator ${String(unknown)}`);
    }
  }
}

function any(parts: readonly BreakerPredicate[]): BreakerPredicate {
  if (parts.length === 1) return parts[0]!;
  return (m) => {
    for (const p of parts) if (p(m)) return true;
    return false;
  };
}

function all(parts: readonly BreakerPredicate[]): BreakerPredicate {
  if (parts.length === 1) return parts[0]!;
  return (m) => {
    for (const p of parts) if (!p(m)) return false;
    return true;
  };
}

class Parser {
  readonly #tokens: readonly Token[];
  #pos = 0;
  /** The first number of a type oxy refuses, reported once the syntax is read (Go parses first). */
  #typeError: ParseError | undefined;

  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens;
  }

  #peek(): Token {
    return this.#tokens[this.#pos]!;
  }

  #take(): Token {
    const token = this.#tokens[this.#pos]!;
    if (token.kind !== 'end') this.#pos++;
    return token;
  }

  parseAll(): BreakerPredicate {
    const first = this.#peek();
    if (first.kind === 'end') throw new ParseError('the expression is empty', 0);
    const expr = this.#or();
    const rest = this.#peek();
    if (rest.kind === ')') throw new ParseError("unmatched ')'", rest.offset);
    if (rest.kind !== 'end') {
      throw new ParseError(
        `unexpected ${describeToken(rest)} after a complete condition; join conditions with '&&' or '||'`,
        rest.offset,
      );
    }
    if (this.#typeError !== undefined) throw this.#typeError;
    return expr;
  }

  #or(): BreakerPredicate {
    const parts = [this.#and()];
    while (this.#peek().kind === '||') {
      this.#take();
      parts.push(this.#and());
    }
    return any(parts);
  }

  #and(): BreakerPredicate {
    const parts = [this.#primary()];
    while (this.#peek().kind === '&&') {
      this.#take();
      parts.push(this.#primary());
    }
    return all(parts);
  }

  #primary(): BreakerPredicate {
    const token = this.#peek();
    if (token.kind === '(') {
      this.#take();
      const inner = this.#or();
      const close = this.#peek();
      if (close.kind !== ')') {
        throw new ParseError(
          `expected ')' to close the '(' at offset ${token.offset}, found ${describeToken(close)}`,
          close.offset,
        );
      }
      this.#take();
      return inner;
    }
    if (token.kind === 'ident') return this.#comparison(token);
    if (token.kind === 'number') {
      throw new ParseError(
        `expected a metric function (${FUNCTION_LIST}) on the left of the comparison, found ${describeToken(token)}`,
        token.offset,
      );
    }
    throw new ParseError(`expected a condition, found ${describeToken(token)}`, token.offset);
  }

  #comparison(name: Token & { kind: 'ident' }): BreakerPredicate {
    const metric = this.#call(name);
    const opToken = this.#take();
    if (opToken.kind !== 'op') {
      const def = FUNCTIONS[name.text]!;
      const found = opToken.kind === 'end' ? '' : `, found ${describeToken(opToken)}`;
      throw new ParseError(
        `${name.text}() must be compared with a number (missing comparison operator${found}), e.g. '${def.example}'`,
        opToken.offset,
      );
    }
    const valueToken = this.#take();
    if (valueToken.kind !== 'number') {
      throw new ParseError(
        `expected a number after '${opToken.op}', found ${describeToken(valueToken)}`,
        valueToken.offset,
      );
    }
    const want = FUNCTIONS[name.text]!.result;
    if (goNumberType(valueToken.text) !== want) {
      this.#typeError ??= new ParseError(
        `${name.text}() is compared with a Go ${want} (${GO_EXAMPLE[want]}), as oxy's operators take; found '${valueToken.text}'`,
        valueToken.offset,
      );
    }
    return comparison(metric, opToken.op, valueToken.value);
  }

  #call(name: Token & { kind: 'ident' }): Metric {
    this.#take();
    const def = Object.hasOwn(FUNCTIONS, name.text) ? FUNCTIONS[name.text] : undefined;
    if (def === undefined) {
      const lower = name.text.toLowerCase();
      const near = FUNCTION_NAMES.find((f) => f.toLowerCase() === lower);
      const hint = near === undefined ? `expected ${FUNCTION_LIST}` : `did you mean ${near}?`;
      throw new ParseError(`unknown function '${name.text}'; ${hint}`, name.offset);
    }
    const open = this.#take();
    if (open.kind !== '(') {
      throw new ParseError(`expected '(' after ${name.text}, found ${describeToken(open)}`, open.offset);
    }
    const args: number[] = [];
    if (this.#peek().kind !== ')') {
      for (;;) {
        const arg = this.#take();
        if (arg.kind !== 'number') {
          throw new ParseError(
            `expected a number as argument ${args.length + 1} of ${name.text}, found ${describeToken(arg)}`,
            arg.offset,
          );
        }
        const want = def.params[args.length];
        if (want !== undefined && goNumberType(arg.text) !== want) {
          this.#typeError ??= new ParseError(
            want === 'int'
              ? `argument ${args.length + 1} of ${name.text} must be an integer status code (a Go int such as 500), found '${arg.text}'`
              : `argument ${args.length + 1} of ${name.text} must be a Go float64 (such as 50.0), found '${arg.text}'`,
            arg.offset,
          );
        }
        args.push(arg.value);
        const sep = this.#peek();
        if (sep.kind === ')') break;
        if (sep.kind !== ',') {
          throw new ParseError(
            `expected ',' or ')' in the arguments of ${name.text}, found ${describeToken(sep)}`,
            sep.offset,
          );
        }
        this.#take();
      }
    }
    this.#take();
    if (args.length !== def.params.length) {
      const n = def.params.length;
      throw new ParseError(
        `${name.text} takes ${n} argument${n === 1 ? '' : 's'}, got ${args.length}, e.g. '${def.example}'`,
        name.offset,
      );
    }
    return def.build(args);
  }
}

/**
 * Parses and compiles an expression. On failure, `offset` is the 0-based index in `src` of the
 * character where the problem is (`src.length` for a premature end); `error` does not repeat it.
 */
export function compileBreakerExpression(src: string): CompileResult {
  try {
    return { ok: true, expr: new Parser(tokenize(src)).parseAll() };
  } catch (e) {
    if (e instanceof ParseError || e instanceof LexError)
      return { ok: false, error: e.message, offset: e.offset };
    throw e;
  }
}
