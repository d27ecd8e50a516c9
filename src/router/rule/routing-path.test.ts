import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRoutingPath, RoutingPathCache } from './routing-path.ts';

describe('routing path', () => {
  it('leaves a path without escapes as the same string', () => {
    const p = '/api/v1';
    assert.equal(decodeRoutingPath(p), p);
  });

  it('decodes escapes of unreserved characters', () => {
    assert.equal(decodeRoutingPath('/foo%20bar/%7Bx%7d'), '/foo bar/{x}');
    assert.equal(decodeRoutingPath('/caf%C3%A9'), '/caf\xc3\xa9');
  });

  it('keeps reserved characters and % encoded, in either hex case', () => {
    assert.equal(decodeRoutingPath('/a%2Fb%2fc%3F%25%41'), '/a%2Fb%2fc%3F%25A');
  });

  it('keeps malformed escapes as they are', () => {
    assert.equal(decodeRoutingPath('/a%zz%4'), '/a%zz%4');
  });

  it('memoizes the last path and notices a different one', () => {
    const cache = new RoutingPathCache();
    assert.equal(cache.get('/a%41'), '/aA');
    assert.equal(cache.get('/a%41'), '/aA');
    assert.equal(cache.get('/b%42'), '/bB');
    assert.equal(cache.get('/plain'), '/plain');
  });
});
