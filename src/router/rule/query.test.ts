import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { queryUnescape, someQueryValue } from './query.ts';

function values(query: string, key: string): string[] {
  const out: string[] = [];
  someQueryValue(query, key, (v) => {
    out.push(v);
    return false;
  });
  return out;
}

describe('query scanning like Go url.ParseQuery', () => {
  it('finds every value of a key in order', () => {
    assert.deepEqual(values('q=a&x=1&q=b', 'q'), ['a', 'b']);
  });

  it('gives the empty value for a key without =', () => {
    assert.deepEqual(values('mobile&q=1', 'mobile'), ['']);
    assert.deepEqual(values('mobile=', 'mobile'), ['']);
  });

  it('percent-decodes keys and values and reads + as space', () => {
    assert.deepEqual(values('a%20b=c+d%2Be', 'a b'), ['c d+e']);
    assert.deepEqual(values('k=%C3%A9', 'k'), ['\xc3\xa9']);
  });

  it('drops pairs with bad escapes or semicolons', () => {
    assert.deepEqual(values('q=%zz&q=ok', 'q'), ['ok']);
    assert.deepEqual(values('q%=1&q=2', 'q'), ['2']);
    assert.deepEqual(values('q=1;x=2&q=3', 'q'), ['3']);
  });

  it('ignores empty pairs and keys are case-sensitive', () => {
    assert.deepEqual(values('&&q=1&', 'q'), ['1']);
    assert.deepEqual(values('Q=1', 'q'), []);
    assert.deepEqual(values('', 'q'), []);
  });

  it('stops at the first value the test accepts', () => {
    let calls = 0;
    const found = someQueryValue('q=a&q=b&q=c', 'q', (v) => {
      calls++;
      return v === 'b';
    });
    assert.ok(found);
    assert.equal(calls, 2);
  });

  it('unescapes like QueryUnescape', () => {
    assert.equal(queryUnescape('a+b%41', 0, 6), 'a bA');
    assert.equal(queryUnescape('%4', 0, 2), undefined);
    assert.equal(queryUnescape('x%41y', 1, 4), 'A');
  });
});
