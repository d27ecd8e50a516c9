// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go replacement templates are written ${1} / ${name}
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build, makeRequest } from './test-request.ts';

describe('replacePathRegex', () => {
  it('rewrites with $1 groups, keeps the query and sets X-Replaced-Path', () => {
    const req = makeRequest('http://a.test/foo/bar?x=1');
    build('replacePathRegex', { regex: '^/foo/(.*)', replacement: '/bar/$1' }).onRequest!(req);
    assert.equal(req.path, '/bar/bar');
    assert.equal(req.query, 'x=1');
    assert.equal(req.headers.get('x-replaced-path'), '/foo/bar');
  });

  it('supports ${name} groups', () => {
    const req = makeRequest('http://a.test/users/42');
    build('replacePathRegex', { regex: '^/users/(?P<id>[0-9]+)$', replacement: '/u?id=${id}' }).onRequest!(
      req,
    );
    assert.equal(req.path, '/u%3Fid=42');
  });

  it('reads $1x as the group named 1x, as Go does', () => {
    const req = makeRequest('http://a.test/a/b');
    build('replacePathRegex', { regex: '^/a/(.*)', replacement: '/$1x' }).onRequest!(req);
    assert.equal(req.path, '/');
  });

  it('replaces every match, not only the first', () => {
    const req = makeRequest('http://a.test/a-b-c');
    build('replacePathRegex', { regex: '-', replacement: '_' }).onRequest!(req);
    assert.equal(req.path, '/a_b_c');
  });

  it('leaves the request alone when the regex does not match', () => {
    const req = makeRequest('http://a.test/zzz');
    build('replacePathRegex', { regex: '^/foo', replacement: '/bar' }).onRequest!(req);
    assert.equal(req.path, '/zzz');
    assert.equal(req.headers.has('x-replaced-path'), false);
  });

  it('refuses with 400 a rewritten path that climbs with ..', () => {
    const req = makeRequest('http://a.test/public/../admin');
    const res = build('replacePathRegex', { regex: '^/public/(.*)', replacement: '/static/$1' }).onRequest!(
      req,
    );
    assert.equal(res?.status, 400);
  });

  it('refuses with 400 an encoded dot segment too', () => {
    const req = makeRequest('http://a.test/public/%2e%2E/admin');
    const res = build('replacePathRegex', { regex: '^/public/(.*)', replacement: '/static/$1' }).onRequest!(
      req,
    );
    assert.equal(res?.status, 400);
  });

  it('answers 500 when the rewritten path has a broken escape', () => {
    const req = makeRequest('http://a.test/x');
    const res = build('replacePathRegex', { regex: '^/x', replacement: '/%zz' }).onRequest!(req);
    assert.equal(res?.status, 500);
  });

  // Traefik's pkg/middlewares/replacepathregex/replace_path_regex_test.go TestReplacePathRegex, as
  // data: [path, regex, replacement, the path sent upstream (RawPath, else Path), X-Replaced-Path
  // or undefined when nothing matched]. The regex sees the escaped path.
  const TRAEFIK_CASES: readonly [string, string, string, string, string | undefined][] = [
    ['/whoami/and/whoami', '^/whoami/(.*)', '/who-am-i/$1', '/who-am-i/and/whoami', '/whoami/and/whoami'],
    ['/whoami/and/whoami', '/whoami', '/who-am-i', '/who-am-i/and/who-am-i', '/whoami/and/whoami'],
    ['/whoami/and/whoami', '/whoami', '', '/and', '/whoami/and/whoami'],
    ['/whoami/and/whoami', '/no-match', '/whoami', '/whoami/and/whoami', undefined],
    [
      '/downloads/src/source.go',
      '^(?i)/downloads/([^/]+)/([^/]+)$',
      '/downloads/$1-$2',
      '/downloads/src-source.go',
      '/downloads/src/source.go',
    ],
    ['/aaa/bbb', '/aaa/bbb', '/foo%2Fbar', '/foo%2Fbar', '/aaa/bbb'],
    ['/aaa%2Fbbb', '/aaa%2Fbbb', '/foo/bar', '/foo/bar', '/aaa%2Fbbb'],
    ['/aaa%2Fbbb', '/aaa/bbb', '/foo/bar', '/aaa%2Fbbb', undefined],
    ['/foo/%08bar', '^/foo/(.*)', '/$1', '/%08bar', '/foo/%08bar'],
  ];

  it("rewrites Traefik's own test cases as Traefik does", () => {
    for (const [path, regex, replacement, want, header] of TRAEFIK_CASES) {
      const req = makeRequest(`http://a.test${path}`);
      const res = build('replacePathRegex', { regex, replacement }).onRequest!(req);
      assert.equal(res, undefined, `${path} ${regex}`);
      assert.equal(req.path, want, `${path} ${regex}`);
      assert.equal(req.headers.get('x-replaced-path'), header, `${path} ${regex}`);
    }
    // "invalid regular expression": a configuration error.
    assert.throws(() =>
      build('replacePathRegex', { regex: '^(?err)/invalid/regexp/([^/]+)$', replacement: '/x' }),
    );
  });
});
