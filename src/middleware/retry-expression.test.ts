import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRetryExpression } from './retry-expression.ts';

function pred(src: string) {
  const r = compileRetryExpression(src);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.predicate;
}

describe('retryExpression', () => {
  it("reads Traefik's documented example", () => {
    const p = pred('IsNetworkError() && Attempts() < 2');
    assert.equal(p(1, 502, true, 'GET'), true);
    assert.equal(p(2, 502, true, 'GET'), false);
    assert.equal(p(1, 500, false, 'GET'), false);
  });

  it('compares ResponseCode() and groups with parentheses', () => {
    const p = pred('(ResponseCode() >= 500 && ResponseCode() != 501) || Attempts() <= 0');
    assert.equal(p(1, 503, false, 'GET'), true);
    assert.equal(p(1, 501, false, 'GET'), false);
    assert.equal(p(1, 404, false, 'GET'), false);
  });

  it('compares RequestMethod() with a Go string literal, as oxy does (case included)', () => {
    const p = pred('IsNetworkError() && RequestMethod() == "GET"');
    assert.equal(p(1, 502, true, 'GET'), true);
    assert.equal(p(1, 502, true, 'POST'), false);
    assert.equal(p(1, 502, true, 'get'), false);
    const q = pred('RequestMethod() != `POST` && Attempts() < 3');
    assert.equal(q(1, 500, false, 'PUT'), true);
    assert.equal(q(1, 500, false, 'POST'), false);
    assert.equal(pred('RequestMethod() == "\\x47ET"')(1, 0, false, 'GET'), true);
  });

  it('refuses what it cannot read, saying why', () => {
    for (const [src, want] of [
      ['', /empty/],
      ['Attempts()', /must be compared/],
      ['Foo() < 1', /unknown function Foo/],
      ['IsNetworkError() &&', /expected a condition/],
      ['Attempts() < 2 extra', /unexpected/],
      ['IsNetworkError', /expected 'IsNetworkError\(\)'/],
      ['Attempts() = 2', /'=='/],
      ['RequestMethod() < "GET"', /'==' or '!='/],
      ['RequestMethod() == GET', /expected a string/],
      ['RequestMethod() == "GET', /unterminated double-quoted string/],
      ['RequestMethod() == "G\\q"', /unknown escape sequence/],
      ['Attempts() < "2"', /expected a number/],
      // oxy's intLT takes a Go int (Traefik: `expected int, got float64`).
      ['Attempts() < 2.5', /compared with a Go int .* found '2.5'/],
      ['ResponseCode() >= 500.0', /compared with a Go int/],
    ] as const) {
      const r = compileRetryExpression(src);
      assert.equal(r.ok, false, src);
      if (!r.ok) assert.match(r.error, want, src);
    }
  });
});
