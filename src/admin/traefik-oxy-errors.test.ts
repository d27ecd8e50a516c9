import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { traefikOxyExpressionError } from './traefik-oxy-errors.ts';

// The texts a copy of vulcand/predicate v1.2.0's parse with oxy v2.1.0's definitions printed
// under Go 1.19 (go/parser, reflect).
describe("Traefik's circuitBreaker and buffering expression errors (traefik-oxy-errors.ts)", () => {
  it("words a circuit breaker's expression as oxy's cbreaker parseExpression", () => {
    const cases: [string, string | undefined][] = [
      ['NetworkErrorRatio() > 0.5', undefined],
      ['ResponseCodeRatio(500, 600, 0, 600) > 0.25', undefined],
      ['LatencyAtQuantileMS(50.0) > 100', undefined],
      ['NetworkErrorRatio() > 1e3 || LatencyAtQuantileMS(.5) >= 10', undefined],
      ['NetworkErrorRatio() > 00.5', undefined],
      ['NetworkErrorRatio(1)', 'reflect: Call with too many input arguments'],
      ['NetworkErrorRatio(1) > 0.5', 'reflect: Call with too many input arguments'],
      ['LatencyAtQuantileMS()', 'reflect: Call with too few input arguments'],
      ['LatencyAtQuantileMS() > 5', 'reflect: Call with too few input arguments'],
      ['LatencyAtQuantileMS(50) > 100', 'reflect: Call using int as type float64'],
      ['LatencyAtQuantileMS("a") > 1', 'reflect: Call using string as type float64'],
      ['LatencyAtQuantileMS(50.0) > 100.5', 'expected int, got float64'],
      ['Foo() > 0.5', 'unsupported function: Foo'],
      ['networkErrorRatio() > 0.5', 'unsupported function: networkErrorRatio'],
      ['a.b() > 1', 'unsupported function: a.b'],
      ['ResponseCodeRatio(500, 600, 0) > 0.5', 'reflect: Call with too few input arguments'],
      ['ResponseCodeRatio(500, 600, 0, 600.0) > 0.5', 'reflect: Call using float64 as type int'],
      ['NetworkErrorRatio() > 1', 'expected int, got int'],
      ['NetworkErrorRatio() <= 1', 'expected int, got int'],
      ['NetworkErrorRatio() >= 1', 'expected int, got int'],
      ['NetworkErrorRatio() > 05', 'expected int, got int'],
      ['NetworkErrorRatio() == 1', 'expected float64, got int'],
      ['NetworkErrorRatio() != 1', 'expected float64, got int'],
      ['NetworkErrorRatio() > "a"', 'expected int, got string'],
      ['NetworkErrorRatio() > NetworkErrorRatio()', 'expected int, got cbreaker.toFloat64'],
      ['NetworkErrorRatio()', 'expected predicate, got cbreaker.toFloat64'],
      ['ResponseCodeRatio(500, 600, 0, 600)', 'expected predicate, got cbreaker.toFloat64'],
      [
        'NetworkErrorRatio() > 0.5 && NetworkErrorRatio()',
        'reflect: cannot use cbreaker.toFloat64 as type cbreaker.hpredicate in Call',
      ],
      ['NetworkErrorRatio() > 0.5 && 1', 'reflect: cannot use int as type cbreaker.hpredicate in Call'],
      ['0.5 < NetworkErrorRatio()', 'lt: unsupported argument: float64'],
      ['1 > 2', 'gt: unsupported argument: int'],
      ['NetworkErrorRatio() > 0.5 || 1 > 2', 'gt: unsupported argument: int'],
      ['(NetworkErrorRatio() > 0.5) > 1', 'gt: unsupported argument: cbreaker.hpredicate'],
      ['!(NetworkErrorRatio() > 0.5)', '! is not supported'],
      ['NetworkErrorRatio() > 0.5 & NetworkErrorRatio() > 0.1', '& is not supported'],
      ['NetworkErrorRatio() > 0.5 + 1', '+ is not supported'],
      ['NetworkErrorRatio() > -0.5', '- is not supported'],
      ['NetworkErrorRatio() > x', 'x is not defined'],
      ['NetworkErrorRatio() > a[0]', 'properties are not supported'],
      ["NetworkErrorRatio() > 'a'", "unsupported function argument type: 'CHAR'"],
      [
        'LatencyAtQuantileMS(50.0) > 99999999999999999999',
        'failed to parse argument: 99999999999999999999, error: strconv.Atoi: parsing "99999999999999999999": value out of range',
      ],
      [
        'NetworkErrorRatio() > 1e400',
        'failed to parse argument: 1e400, error: strconv.ParseFloat: parsing "1e400": value out of range',
      ],
      ['NetworkErrorRatio() > ', "1:23: expected operand, found 'EOF'"],
      [
        'NetworkErrorRatio() > 0x1',
        'failed to parse argument: 0x1, error: strconv.Atoi: parsing "0x1": invalid syntax',
      ],
      // Go's number forms not followed here: undefined (ours kept).
      ['NetworkErrorRatio() > 0x1p-2', undefined],
    ];
    for (const [x, want] of cases) assert.equal(traefikOxyExpressionError(x, 'cbreaker'), want, x);
  });

  it("words a buffering retryExpression as oxy's buffer parseExpression", () => {
    const cases: [string, string | undefined][] = [
      ['IsNetworkError() && Attempts() <= 2', undefined],
      ['Attempts() < 2', undefined],
      ['RequestMethod() == "GET" && ResponseCode() >= 500', undefined],
      ['Attempts() < 2.5', 'expected int, got float64'],
      ['ResponseCode() >= 500.0', 'expected int, got float64'],
      ['Attempts() == "a"', 'expected int, got string'],
      ['RequestMethod() == 1', 'expected string, got int'],
      ['RequestMethod() != 5', 'expected string, got int'],
      ['RequestMethod() < "a"', 'unsupported argument: buffer.toString'],
      ['IsNetworkError() == 1', 'unsupported argument: buffer.hpredicate'],
      ['Attempts()', 'expected predicate, got buffer.toInt'],
      ['IsNetworkError(1)', 'reflect: Call with too many input arguments'],
      ['Foo()', 'unsupported function: Foo'],
      ['!IsNetworkError()', '! is not supported'],
    ];
    for (const [x, want] of cases) assert.equal(traefikOxyExpressionError(x, 'buffer'), want, x);
  });
});
