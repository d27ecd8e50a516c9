import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DirectResponse } from '../core/request.ts';
import { build, makeRequest } from './test-request.ts';

// Cases of Traefik's pkg/middlewares/ingressnginx/rewritetarget/rewrite_target_test.go.
describe('rewriteTarget (Traefik v3.7, the Ingress NGINX provider`s rewrite-target)', () => {
  it('replaces the matched path, keeps the query, adds no X-Replaced-Path', () => {
    const req = makeRequest('http://a.test/API/v1?x=1');
    const r = build('rewriteTarget', { regex: '(?i)/api(/|$)(.*)', replacement: '/$2' }).onRequest!(req);
    assert.equal(r, undefined);
    assert.equal(req.path, '/v1');
    assert.equal(req.query, 'x=1');
    assert.equal(req.headers.get('x-replaced-path'), undefined);
  });

  it('leaves a path the regex does not match, and replaces the whole path without a regex', () => {
    const req = makeRequest('http://a.test/other');
    build('rewriteTarget', { regex: '^/api', replacement: '/x' }).onRequest!(req);
    assert.equal(req.path, '/other');
    const all = makeRequest('http://a.test/any/thing');
    build('rewriteTarget', { replacement: '/fixed' }).onRequest!(all);
    assert.equal(all.path, '/fixed');
  });

  it('sets X-Forwarded-Prefix from the same match', () => {
    const req = makeRequest('http://a.test/prefix/sub/rest');
    build('rewriteTarget', {
      regex: '(?i)/(prefix)/(sub)/(.*)',
      replacement: '/$3',
      xForwardedPrefix: '/$1/$2',
    }).onRequest!(req);
    assert.equal(req.path, '/rest');
    assert.equal(req.headers.get('x-forwarded-prefix'), '/prefix/sub');
  });

  it('answers a 302 to a replacement with a scheme, the request`s query added unless it has one', () => {
    const req = makeRequest('http://a.test/OLD/page?x=1');
    const r = build('rewriteTarget', {
      regex: '/old(/|$)(.*)',
      replacement: 'https://new.example/$2',
    }).onRequest!(req) as DirectResponse;
    assert.equal(r.status, 302);
    assert.deepEqual(r.headers?.[0], ['Location', 'https://new.example/page?x=1']);
    const own = build('rewriteTarget', { regex: '/old', replacement: 'https://new.example/?t=a' }).onRequest!(
      makeRequest('http://a.test/old/rest?x=1'),
    ) as DirectResponse;
    // Without groups the regex takes the rest of the path too (#12931).
    assert.deepEqual(own.headers?.[0], ['Location', 'https://new.example/?t=a']);
  });

  it('never redirects to a URL a capture brought (#12977), answers 500 to an empty result', () => {
    const req = makeRequest('http://a.test/go/https:%2F%2Fevil.example');
    const r = build('rewriteTarget', { regex: '/go/(.*)', replacement: '$1' }).onRequest!(req);
    assert.notEqual((r as DirectResponse | undefined)?.status, 302);
    const empty = build('rewriteTarget', { regex: '/e(.*)', replacement: '$1' }).onRequest!(
      makeRequest('http://a.test/e'),
    ) as DirectResponse;
    assert.equal(empty.status, 500);
  });

  it('drops $n from the replacement without a regex', () => {
    const req = makeRequest('http://a.test/x');
    build('rewriteTarget', { replacement: '/fixed/$1' }).onRequest!(req);
    assert.equal(req.path, '/fixed/');
  });

  it('refuses an empty replacement when built', () => {
    assert.throws(
      () => build('rewriteTarget', { regex: '/a', replacement: '' }),
      /replacement cannot be empty/,
    );
  });
});
