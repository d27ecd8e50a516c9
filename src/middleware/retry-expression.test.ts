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
    assert.equal(p(1, 502, true), true);
    assert.equal(p(2, 502, true), false);
    assert.equal(p(1, 500, false), false);
  });

  it('compares ResponseCode() and groups with parentheses', () => {
    const p = pred('(ResponseCode() >= 500 && ResponseCode() != 501) || Attempts() <= 0');
    assert.equal(p(1, 503, false), true);
    assert.equal(p(1, 501, false), false);
    assert.equal(p(1, 404, false), false);
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
    ] as const) {
      const r = compileRetryExpression(src);
      assert.equal(r.ok, false, src);
      if (!r.ok) assert.match(r.error, want, src);
    }
  });
});
