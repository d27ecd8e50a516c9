import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build, makeRequest } from './test-request.ts';

describe('stripPrefix', () => {
  it('strips a matching prefix and keeps the query string', () => {
    const req = makeRequest('http://a.test/api/users?page=2');
    assert.equal(build('stripPrefix', { prefixes: ['/api'] }).onRequest!(req), undefined);
    assert.equal(req.path, '/users');
    assert.equal(req.query, 'page=2');
  });

  it('sets X-Forwarded-Prefix to the stripped prefix', () => {
    const req = makeRequest('http://a.test/api/users');
    build('stripPrefix', { prefixes: ['/api'] }).onRequest!(req);
    assert.equal(req.headers.get('x-forwarded-prefix'), '/api');
  });

  it('uses the first matching prefix in list order, not the longest (as Traefik)', () => {
    const req = makeRequest('http://a.test/api/v1/users');
    build('stripPrefix', { prefixes: ['/api', '/api/v1'] }).onRequest!(req);
    assert.equal(req.path, '/v1/users');
    assert.equal(req.headers.get('x-forwarded-prefix'), '/api');
  });

  it('returns / when the whole path is the prefix', () => {
    const req = makeRequest('http://a.test/api');
    build('stripPrefix', { prefixes: ['/api'] }).onRequest!(req);
    assert.equal(req.path, '/');
  });

  it('adds a leading slash when the prefix ends inside a segment', () => {
    const req = makeRequest('http://a.test/apiv2/x');
    build('stripPrefix', { prefixes: ['/api'] }).onRequest!(req);
    assert.equal(req.path, '/v2/x');
  });

  it('leaves a path without a matching prefix and adds no header', () => {
    const req = makeRequest('http://a.test/other');
    build('stripPrefix', { prefixes: ['/api'] }).onRequest!(req);
    assert.equal(req.path, '/other');
    assert.equal(req.headers.has('x-forwarded-prefix'), false);
  });

  it('matches the decoded path and strips the encoded bytes it stands for', () => {
    const req = makeRequest('http://a.test/%61pi/a%2Fb');
    build('stripPrefix', { prefixes: ['/api'] }).onRequest!(req);
    assert.equal(req.path, '/a%2Fb');
  });

  it('matches non-ASCII prefixes against UTF-8 percent-encoding', () => {
    const req = makeRequest('http://a.test/caf%C3%A9/menu');
    build('stripPrefix', { prefixes: ['/café'] }).onRequest!(req);
    assert.equal(req.path, '/menu');
    assert.equal(req.headers.get('x-forwarded-prefix'), Buffer.from('/café').toString('latin1'));
  });

  it('accepts the deprecated forceSlash key', () => {
    const req = makeRequest('http://a.test/api');
    build('stripPrefix', { prefixes: ['/api'], forceSlash: false }).onRequest!(req);
    assert.equal(req.path, '/');
  });

  // Traefik's pkg/middlewares/stripprefix/strip_prefix_test.go TestStripPrefix, as data:
  // [prefixes, path, status (200: passed on), the path sent upstream, X-Forwarded-Prefix]. Go's
  // empty Path goes out as `/`; with a RawPath, the raw form goes out.
  const TRAEFIK_CASES: readonly [string[], string, number, string, string | undefined][] = [
    [[], '/noprefixes', 200, '/noprefixes', undefined],
    [['/'], '/', 200, '/', '/'],
    [['/stat'], '/stat', 200, '/', '/stat'],
    [['/stat/'], '/stat/', 200, '/', '/stat/'],
    [['/stat/'], '/stat/us', 200, '/us', '/stat/'],
    [['/stat/'], '/status', 200, '/status', undefined],
    [['/stat'], '/stat/', 200, '/', '/stat'],
    [['/stat', '/stat/us'], '/stat/us', 200, '/us', '/stat'],
    [['/mismatch', '/stat'], '/stat', 200, '/', '/stat'],
    [['/stat'], '/status', 200, '/us', '/stat'],
    [['/stat'], '/stat/a%2Fb', 200, '/a%2Fb', '/stat'],
    [['/api/'], '/ap%69/a%2Fb', 200, '/a%2Fb', '/api/'],
    [['/api'], '/api./foo', 400, '', undefined],
    [['/api'], '/api../foo', 400, '', undefined],
  ];

  it("strips Traefik's own test cases as Traefik does", () => {
    for (const [prefixes, path, status, want, header] of TRAEFIK_CASES) {
      for (const forceSlash of [false, true]) {
        const req = makeRequest(`http://localhost${path}`);
        const res = build('stripPrefix', { prefixes, forceSlash }).onRequest!(req);
        const what = `${JSON.stringify(prefixes)} ${path} forceSlash=${forceSlash}`;
        assert.equal(res?.status ?? 200, status, what);
        if (status !== 200) continue;
        assert.equal(req.path === '' ? '/' : req.path, want, what);
        assert.equal(req.headers.get('x-forwarded-prefix'), header, what);
      }
    }
  });
});
