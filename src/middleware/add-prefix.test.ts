import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { middlewareSchemas } from '../config/dynamic/middlewares.ts';
import { build, makeRequest } from './test-request.ts';

describe('addPrefix', () => {
  it('prepends the prefix and keeps the query string', () => {
    const req = makeRequest('http://a.test/users?x=1');
    build('addPrefix', { prefix: '/api' }).onRequest!(req);
    assert.equal(req.path, '/api/users');
    assert.equal(req.query, 'x=1');
  });

  it('adds the leading slash a prefix lacks', () => {
    const req = makeRequest('http://a.test/users');
    build('addPrefix', { prefix: 'api' }).onRequest!(req);
    assert.equal(req.path, '/api/users');
  });

  it('percent-encodes characters of the prefix that may not appear in a path', () => {
    const req = makeRequest('http://a.test/x');
    build('addPrefix', { prefix: '/a b' }).onRequest!(req);
    assert.equal(req.path, '/a%20b/x');
  });

  it('refuses an empty prefix', () => {
    assert.equal(middlewareSchemas.addPrefix.safeParse({ prefix: '' }).success, false);
  });
});
