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

  // Traefik's pkg/middlewares/stripprefixregex/strip_prefix_regex_test.go TestStripPrefixRegex,
  // as data: [path, the path sent upstream (an empty Path goes out as `/`, a RawPath as is),
  // X-Forwarded-Prefix].
  const TRAEFIK_REGEX = ['/a/api/', '/b/([a-z0-9]+)/', '/c/[a-z0-9]+/[0-9]+/'];
  const TRAEFIK_CASES: readonly [string, string, string | undefined][] = [
    ['/a/test', '/a/test', undefined],
    ['/a/test/', '/a/test/', undefined],
    ['/a/api/', '/', '/a/api/'],
    ['/a/api/test', '/test', '/a/api/'],
    ['/a/api/test/', '/test/', '/a/api/'],
    ['/b/api/', '/', '/b/api/'],
    ['/b/api', '/b/api', undefined],
    ['/b/api/test1', '/test1', '/b/api/'],
    ['/b/api2/test2', '/test2', '/b/api2/'],
    ['/c/api/123/', '/', '/c/api/123/'],
    ['/c/api/123', '/c/api/123', undefined],
    ['/c/api/123/test3', '/test3', '/c/api/123/'],
    ['/c/api/abc/test4', '/c/api/abc/test4', undefined],
    ['/a/api/a%2Fb', '/a%2Fb', '/a/api/'],
  ];

  it("strips Traefik's own test cases as Traefik does", () => {
    const m = build('stripPrefixRegex', { regex: TRAEFIK_REGEX });
    for (const [path, want, header] of TRAEFIK_CASES) {
      const req = makeRequest(`http://localhost${path}`);
      assert.equal(m.onRequest!(req), undefined, path);
      assert.equal(req.path === '' ? '/' : req.path, want, path);
      assert.equal(req.headers.get('x-forwarded-prefix'), header, path);
    }
  });
});
