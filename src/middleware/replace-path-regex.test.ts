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
});
