import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { middlewareSchemas } from '../config/dynamic/middlewares.ts';
import { build, makeRequest } from './test-request.ts';

describe('stripPrefixRegex', () => {
  it('strips the matched prefix and sets X-Forwarded-Prefix to the matched text', () => {
    const req = makeRequest('http://a.test/tenant-42/orders?x=1');
    build('stripPrefixRegex', { regex: ['/tenant-[0-9]+'] }).onRequest!(req);
    assert.equal(req.path, '/orders');
    assert.equal(req.query, 'x=1');
    assert.equal(req.headers.get('x-forwarded-prefix'), '/tenant-42');
  });

  it('ignores a match that is not at the start of the path', () => {
    const req = makeRequest('http://a.test/a/tenant-1/x');
    build('stripPrefixRegex', { regex: ['/tenant-[0-9]+'] }).onRequest!(req);
    assert.equal(req.path, '/a/tenant-1/x');
    assert.equal(req.headers.has('x-forwarded-prefix'), false);
  });

  it('tries the regexes in order and stops at the first that strips', () => {
    const req = makeRequest('http://a.test/v1/api/x');
    build('stripPrefixRegex', { regex: ['/nope', '/v[0-9]', '/v1/api'] }).onRequest!(req);
    assert.equal(req.path, '/api/x');
  });

  it('honours (?i) as case-insensitive', () => {
    const req = makeRequest('http://a.test/API/x');
    build('stripPrefixRegex', { regex: ['(?i)^/api'] }).onRequest!(req);
    assert.equal(req.path, '/x');
  });

  it('strips the encoded form of a match on the decoded path', () => {
    const req = makeRequest('http://a.test/a%20b/c');
    build('stripPrefixRegex', { regex: ['^/a b'] }).onRequest!(req);
    assert.equal(req.path, '/c');
  });

  it('rejects a regex that does not compile, with the pattern in the message', () => {
    const r = middlewareSchemas.stripPrefixRegex.safeParse({ regex: ['/(unclosed'] });
    assert.equal(r.success, false);
    assert.match(r.error!.issues[0]!.message, /invalid regular expression "\/\(unclosed"/);
  });
});
