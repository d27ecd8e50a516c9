/**
 * The `buffering` middleware's `retryExpression` (oxy's buffer retry predicate, buffer/threshold.go):
 * `Attempts()` and `ResponseCode()` compared with an integer (a Go int: `2`, not `2.0`, as oxy's
 * intLT takes), `RequestMethod()` with a string
 * (`==` or `!=` only, as oxy's stringEQ), `IsNetworkError()` alone, joined by `&&`, `||` and
 * parentheses, e.g. `IsNetworkError() && Attempts() < 2 && RequestMethod() == "GET"`.
 * Same lexer as the circuit breaker's expressions (the same Go-expression subset).
 */
import {
  type ComparisonOp,
  describeToken,
  LexError,
  type Token,
  tokenize,
} from '../resilience/circuit-breaker/expression-lexer.ts';

/**
 * attempts made so far (the first counts), the try's status, whether it was a network error, the
 * request's method.
 */
export type RetryPredicate = (
  attempts: number,
  status: number,
  networkError: boolean,
  method: string,
) => boolean;

export type RetryCompile =
  | { readonly ok: true; readonly predicate: RetryPredicate }
  | { readonly ok: false; readonly error: string };

class ParseError extends Error {}

function compare(op: ComparisonOp, a: number, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

class Parser {
  readonly #t: readonly Token[];
  #i = 0;

  constructor(t: readonly Token[]) {
    this.#t = t;
  }

  #peek(): Token {
    return this.#t[this.#i]!;
  }

  #take(): Token {
    const t = this.#t[this.#i]!;
    if (t.kind !== 'end') this.#i++;
    return t;
  }

  all(): RetryPredicate {
    if (this.#peek().kind === 'end') throw new ParseError('the expression is empty');
    const e = this.#or();
    const rest = this.#peek();
    if (rest.kind !== 'end')
      throw new ParseError(`unexpected ${describeToken(rest)} at offset ${rest.offset}`);
    return e;
  }

  #or(): RetryPredicate {
    const parts = [this.#and()];
    while (this.#peek().kind === '||') {
      this.#take();
      parts.push(this.#and());
    }
    return parts.length === 1 ? parts[0]! : (a, s, n, m) => parts.some((p) => p(a, s, n, m));
  }

  #and(): RetryPredicate {
    const parts = [this.#primary()];
    while (this.#peek().kind === '&&') {
      this.#take();
      parts.push(this.#primary());
    }
    return parts.length === 1 ? parts[0]! : (a, s, n, m) => parts.every((p) => p(a, s, n, m));
  }

  #primary(): RetryPredicate {
    const t = this.#take();
    if (t.kind === '(') {
      const inner = this.#or();
      const close = this.#take();
      if (close.kind !== ')')
        throw new ParseError(`expected ')' at offset ${close.offset}, found ${describeToken(close)}`);
      return inner;
    }
    if (t.kind !== 'ident')
      throw new ParseError(`expected a condition at offset ${t.offset}, found ${describeToken(t)}`);
    this.#call(t);
    if (t.text === 'IsNetworkError') return (_a, _s, n) => n;
    if (t.text === 'RequestMethod') return this.#method();
    if (t.text !== 'Attempts' && t.text !== 'ResponseCode') {
      throw new ParseError(
        `unknown function ${t.text}() at offset ${t.offset}: Attempts, ResponseCode, RequestMethod or IsNetworkError`,
      );
    }
    const op = this.#take();
    if (op.kind !== 'op')
      throw new ParseError(`${t.text}() must be compared with a number, e.g. '${t.text}() < 2'`);
    const v = this.#take();
    if (v.kind !== 'number')
      throw new ParseError(`expected a number after '${op.op}', found ${describeToken(v)}`);
    // oxy's intEQ/intLT/intGT take the Go int vulcand/predicate reads digits as (`2`, not `2.0`).
    if (!/^[0-9]+$/.test(v.text))
      throw new ParseError(
        `${t.text}() is compared with a Go int (such as 2), as oxy's operators take; found '${v.text}'`,
      );
    const value = v.value;
    const o = op.op;
    return t.text === 'Attempts' ? (a) => compare(o, a, value) : (_a, s) => compare(o, s, value);
  }

  /** `RequestMethod() == "GET"` or `!=`: oxy compares the method as written, case included. */
  #method(): RetryPredicate {
    const op = this.#take();
    if (op.kind !== 'op' || (op.op !== '==' && op.op !== '!=')) {
      throw new ParseError(
        `RequestMethod() must be compared with '==' or '!=' and a string, e.g. 'RequestMethod() == "GET"'`,
      );
    }
    const v = this.#take();
    if (v.kind !== 'string')
      throw new ParseError(`expected a string after '${op.op}', found ${describeToken(v)}`);
    const method = v.value;
    return op.op === '==' ? (_a, _s, _n, m) => m === method : (_a, _s, _n, m) => m !== method;
  }

  #call(name: Token & { kind: 'ident' }): void {
    const open = this.#take();
    const close = this.#take();
    if (open.kind !== '(' || close.kind !== ')')
      throw new ParseError(`expected '${name.text}()' at offset ${name.offset}`);
  }
}

export function compileRetryExpression(src: string): RetryCompile {
  try {
    return { ok: true, predicate: new Parser(tokenize(src)).all() };
  } catch (e) {
    if (e instanceof ParseError || e instanceof LexError) return { ok: false, error: e.message };
    throw e;
  }
}
