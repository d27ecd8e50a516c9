import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BreakerMetricsView, type BreakerPredicate, compileBreakerExpression } from './expression.ts';

interface FakeMetrics extends BreakerMetricsView {
  net: number;
  codes: (from: number, to: number, dFrom: number, dTo: number) => number;
  latency: (q: number) => number;
  readonly calls: string[];
}

function metrics(init: Partial<Pick<FakeMetrics, 'net' | 'codes' | 'latency'>> = {}): FakeMetrics {
  const m: FakeMetrics = {
    net: init.net ?? 0,
    codes: init.codes ?? (() => 0),
    latency: init.latency ?? (() => 0),
    calls: [],
    networkErrorRatio() {
      m.calls.push('net');
      return m.net;
    },
    responseCodeRatio(from, to, dFrom, dTo) {
      m.calls.push(`codes(${from},${to},${dFrom},${dTo})`);
      return m.codes(from, to, dFrom, dTo);
    },
    latencyAtQuantileMs(q) {
      m.calls.push(`latency(${q})`);
      return m.latency(q);
    },
  };
  return m;
}

function compile(src: string): BreakerPredicate {
  const result = compileBreakerExpression(src);
  if (!result.ok) assert.fail(`${src}: ${result.error} at ${result.offset}`);
  return result.expr;
}

function failure(src: string): { error: string; offset: number } {
  const result = compileBreakerExpression(src);
  if (result.ok) assert.fail(`${src} compiled but should not`);
  return { error: result.error, offset: result.offset };
}

describe('compileBreakerExpression', () => {
  describe('Traefik documentation examples', () => {
    it('trips NetworkErrorRatio() > 0.30 above 30 % network errors only', () => {
      const expr = compile('NetworkErrorRatio() > 0.30');
      assert.equal(expr(metrics({ net: 0.31 })), true);
      assert.equal(expr(metrics({ net: 0.3 })), false);
    });

    it('passes the four bounds of ResponseCodeRatio(500, 600, 0, 600) > 0.25 through', () => {
      const expr = compile('ResponseCodeRatio(500, 600, 0, 600) > 0.25');
      const m = metrics({
        codes: (from, to, dFrom, dTo) =>
          from === 500 && to === 600 && dFrom === 0 && dTo === 600 ? 0.26 : 0,
      });
      assert.equal(expr(m), true);
      assert.deepEqual(m.calls, ['codes(500,600,0,600)']);
      assert.equal(expr(metrics({ codes: () => 0.25 })), false);
    });

    it('reads the median for LatencyAtQuantileMS(50.0) > 100', () => {
      const expr = compile('LatencyAtQuantileMS(50.0) > 100');
      const m = metrics({ latency: (q) => (q === 50 ? 150 : 0) });
      assert.equal(expr(m), true);
      assert.deepEqual(m.calls, ['latency(50)']);
      assert.equal(expr(metrics({ latency: () => 99 })), false);
    });

    it('compares whole milliseconds like oxy, so 100.9 ms is not > 100', () => {
      const expr = compile('LatencyAtQuantileMS(99.9) > 100');
      assert.equal(expr(metrics({ latency: () => 100.9 })), false);
      assert.equal(expr(metrics({ latency: () => 101 })), true);
    });

    it('trips ResponseCodeRatio(500, 600, 0, 600) > 0.30 || NetworkErrorRatio() > 0.10 on either side', () => {
      const expr = compile('ResponseCodeRatio(500, 600, 0, 600) > 0.30 || NetworkErrorRatio() > 0.10');
      assert.equal(expr(metrics({ codes: () => 0.5 })), true);
      assert.equal(expr(metrics({ net: 0.2 })), true);
      assert.equal(expr(metrics({ codes: () => 0.3, net: 0.1 })), false);
    });
  });

  describe('comparison operators', () => {
    const cases: [string, number, boolean][] = [
      ['<', 0.4, true],
      ['<', 0.5, false],
      ['<=', 0.5, true],
      ['<=', 0.6, false],
      ['>', 0.6, true],
      ['>', 0.5, false],
      ['>=', 0.5, true],
      ['>=', 0.4, false],
      ['==', 0.5, true],
      ['==', 0.4, false],
      ['!=', 0.4, true],
      ['!=', 0.5, false],
    ];
    for (const [op, net, expected] of cases) {
      it(`evaluates NetworkErrorRatio() ${op} 0.5 to ${expected} for a ratio of ${net}`, () => {
        assert.equal(compile(`NetworkErrorRatio() ${op} 0.5`)(metrics({ net })), expected);
      });
    }

    it('accepts Go number forms: integers, leading dot and exponents', () => {
      assert.equal(compile('NetworkErrorRatio() >= 1.0')(metrics({ net: 1 })), true);
      assert.equal(compile('NetworkErrorRatio() > .5')(metrics({ net: 0.6 })), true);
      assert.equal(compile('NetworkErrorRatio() > 5e-1')(metrics({ net: 0.6 })), true);
      assert.equal(compile('LatencyAtQuantileMS(5e1) > 1000')(metrics({ latency: () => 1001 })), true);
      assert.equal(compile('LatencyAtQuantileMS(50.) > 1000')(metrics({ latency: () => 1000 })), false);
    });

    it("refuses a number of the Go type oxy's function or operator does not take (oxy v2.1.0 cbreaker)", () => {
      const cases: [string, RegExp, number][] = [
        ['NetworkErrorRatio() >= 1', /compared with a Go float64 .* found '1'/, 23],
        ['ResponseCodeRatio(500, 600, 0, 600) == 0', /compared with a Go float64/, 39],
        ['LatencyAtQuantileMS(50.0) > 1e3', /compared with a Go int .* found '1e3'/, 28],
        ['LatencyAtQuantileMS(50.0) > 100.5', /compared with a Go int/, 28],
        ['LatencyAtQuantileMS(50) > 100', /argument 1 of LatencyAtQuantileMS must be a Go float64/, 20],
        ['ResponseCodeRatio(500, 600, 0, 600.0) > 0.5', /argument 4 .* integer .* found '600.0'/, 31],
        // The first one wins, after the syntax: a syntax error later on is reported first.
        ['NetworkErrorRatio() > 1 || LatencyAtQuantileMS(50) > 1', /found '1'$/, 22],
        ['NetworkErrorRatio() > 1 ||', /expected a condition/, 26],
      ];
      for (const [src, message, offset] of cases) {
        const r = compileBreakerExpression(src);
        assert.equal(r.ok, false, src);
        if (!r.ok) {
          assert.match(r.error, message, src);
          assert.equal(r.offset, offset, src);
        }
      }
    });
  });

  describe('logical operators', () => {
    it('binds && tighter than ||', () => {
      // Read as A || (B && C): true with A alone; read as (A || B) && C it would be false.
      const expr = compile(
        'NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(50.0) > 10 && ResponseCodeRatio(500, 600, 0, 600) > 0.5',
      );
      assert.equal(expr(metrics({ net: 0.9 })), true);
      assert.equal(expr(metrics({ latency: () => 20 })), false);
      assert.equal(expr(metrics({ latency: () => 20, codes: () => 0.9 })), true);
    });

    it('lets parentheses override precedence', () => {
      const expr = compile(
        '(NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(50.0) > 10) && ResponseCodeRatio(500, 600, 0, 600) > 0.5',
      );
      assert.equal(expr(metrics({ net: 0.9 })), false);
      assert.equal(expr(metrics({ net: 0.9, codes: () => 0.9 })), true);
    });

    it('accepts nested parentheses and any whitespace, newlines included', () => {
      const expr = compile(' ( (\tNetworkErrorRatio ( ) >0.5 ) )\n&&\r\nLatencyAtQuantileMS( 50.0 )>10 ');
      assert.equal(expr(metrics({ net: 0.9, latency: () => 11 })), true);
      assert.equal(expr(metrics({ net: 0.9, latency: () => 10 })), false);
    });

    it('short-circuits: && stops at the first false, || at the first true', () => {
      const and = metrics();
      compile('NetworkErrorRatio() > 0.5 && LatencyAtQuantileMS(50.0) > 10')(and);
      assert.deepEqual(and.calls, ['net']);
      const or = metrics({ net: 1 });
      compile('NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(50.0) > 10')(or);
      assert.deepEqual(or.calls, ['net']);
    });
  });

  describe('errors', () => {
    const cases: [string, string, RegExp, number][] = [
      ['an empty expression', '', /empty/, 0],
      ['a blank expression', '   ', /empty/, 0],
      ['an unknown function', 'NetworkErrorRatio() > 0.5 || Foo() > 1', /unknown function 'Foo'/, 29],
      ['a function in the wrong case', 'networkErrorRatio() > 0.5', /did you mean NetworkErrorRatio\?/, 0],
      [
        'too few arguments',
        'ResponseCodeRatio(500, 600) > 0.5',
        /ResponseCodeRatio takes 4 arguments, got 2/,
        0,
      ],
      ['an argument to NetworkErrorRatio', '  NetworkErrorRatio(1) > 0.5', /takes 0 arguments, got 1/, 2],
      [
        'a missing argument to LatencyAtQuantileMS',
        'LatencyAtQuantileMS() > 1',
        /takes 1 argument, got 0/,
        0,
      ],
      [
        'a fractional status code',
        'ResponseCodeRatio(500.5, 600, 0, 600) > 0.5',
        /argument 1 .* integer/,
        18,
      ],
      [
        'a non-number argument',
        'ResponseCodeRatio(500, x, 0, 600) > 0.5',
        /argument 2 of ResponseCodeRatio, found 'x'/,
        23,
      ],
      ['a trailing comma', 'LatencyAtQuantileMS(50,) > 1', /argument 2 .* found '\)'/, 23],
      ['an unclosed argument list', 'LatencyAtQuantileMS(50 > 1', /expected ',' or '\)'.*found '>'/, 23],
      ['a bare function', 'NetworkErrorRatio()', /must be compared with a number/, 19],
      [
        'a bare function joined by &&',
        'NetworkErrorRatio() && LatencyAtQuantileMS(50) > 1',
        /missing comparison operator, found '&&'/,
        20,
      ],
      [
        'a number with no operator',
        'NetworkErrorRatio() 0.5',
        /missing comparison operator, found '0.5'/,
        20,
      ],
      ['a missing number', 'NetworkErrorRatio() >', /expected a number after '>', found the end/, 21],
      [
        'a function on the right',
        'NetworkErrorRatio() > LatencyAtQuantileMS(50)',
        /expected a number after '>'/,
        22,
      ],
      ['a number on the left', '0.5 < NetworkErrorRatio()', /metric function .* on the left/, 0],
      [
        'a function name without call',
        'NetworkErrorRatio > 0.5',
        /expected '\(' after NetworkErrorRatio/,
        18,
      ],
      [
        'trailing input',
        'NetworkErrorRatio() > 0.5 LatencyAtQuantileMS(50) > 1',
        /unexpected 'LatencyAtQuantileMS' after a complete condition/,
        26,
      ],
      [
        'a chained comparison',
        'NetworkErrorRatio() > 0.1 > 0.2',
        /unexpected '>' after a complete condition/,
        26,
      ],
      ['a dangling &&', 'NetworkErrorRatio() > 0.5 &&', /expected a condition, found the end/, 28],
      ['an unmatched )', 'NetworkErrorRatio() > 0.5)', /unmatched '\)'/, 25],
      ['an unclosed (', '(NetworkErrorRatio() > 0.5', /expected '\)' to close the '\(' at offset 0/, 26],
      ['a parenthesised metric', '(NetworkErrorRatio()) > 0.5', /must be compared with a number/, 20],
      [
        'a single &',
        'NetworkErrorRatio() > 0.5 & LatencyAtQuantileMS(50) > 1',
        /logical operator is '&&'/,
        26,
      ],
      [
        'a single |',
        'NetworkErrorRatio() > 0.5 | LatencyAtQuantileMS(50) > 1',
        /logical operator is '\|\|'/,
        26,
      ],
      ['a single =', 'NetworkErrorRatio() = 0.5', /equality operator is '=='/, 20],
      ['negation', '!(NetworkErrorRatio() > 0.5)', /negation is not supported/, 0],
      ['a negative number', 'NetworkErrorRatio() > -1', /unexpected character '-'/, 22],
      ['a malformed number', 'NetworkErrorRatio() > 0.5.1', /malformed number/, 22],
      ['an unknown character', 'NetworkErrorRatio() > 0.5 ; x', /unexpected character ';'/, 26],
    ];
    for (const [what, src, message, offset] of cases) {
      it(`rejects ${what} at offset ${offset}`, () => {
        const result = failure(src);
        assert.match(result.error, message);
        assert.equal(result.offset, offset, `offset of "${result.error}" in ${JSON.stringify(src)}`);
      });
    }

    it('does not treat Object.prototype members as functions', () => {
      assert.match(failure('constructor() > 1').error, /unknown function 'constructor'/);
    });
  });
});
