import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { middlewareSchemas } from '../config/dynamic/middlewares.ts';
import type { DirectResponse } from '../core/request.ts';
import { joinPath } from './path.ts';
import { build, makeRequest, makeResponse } from './test-request.ts';

/* The middlewares of the Gateway API's HTTPRoute filters (header-modifier, request-redirect, url-rewrite). */

const location = (r: unknown): [number, string | undefined] => {
  const d = r as DirectResponse;
  return [d.status, d.headers?.find(([n]) => n === 'Location')?.[1]];
};

describe('requestHeaderModifier / responseHeaderModifier', () => {
  it('sets, then adds, then removes request fields', () => {
    const req = makeRequest('http://a.test/', {
      headers: [
        ['X-Set', 'old'],
        ['X-Add', 'first'],
        ['X-Gone', 'x'],
      ],
    });
    build('requestHeaderModifier', {
      set: { 'X-Set': 'new' },
      add: { 'X-Add': 'second' },
      remove: ['x-gone'],
    }).onRequest!(req);
    assert.deepEqual(req.headers.getAll('x-set'), ['new']);
    assert.deepEqual(req.headers.getAll('x-add'), ['first', 'second']);
    assert.equal(req.headers.has('x-gone'), false);
  });

  it('leaves Host alone: Traefik edits Go`s req.Header, whose Host key is never sent upstream', () => {
    const req = makeRequest('http://a.test/', { headers: [['X-A', '1']] });
    const mw = build('requestHeaderModifier', { set: { HOST: 'evil.test' }, add: { host: 'x' }, remove: [] });
    mw.onRequest!(req);
    assert.deepEqual(req.headers.getAll('host'), ['a.test']);
    build('requestHeaderModifier', { set: {}, add: {}, remove: ['Host', 'X-A'] }).onRequest!(req);
    assert.deepEqual(req.headers.getAll('host'), ['a.test']);
    assert.equal(req.headers.has('x-a'), false);
  });

  it('edits the response head', () => {
    const res = makeResponse(200, [
      ['Server', 'app'],
      ['X-V', '1'],
    ]);
    build('responseHeaderModifier', { set: { 'X-V': '2' }, add: { 'X-New': 'y' }, remove: ['Server'] })
      .onResponse!(makeRequest('http://a.test/'), res);
    assert.equal(res.headers.get('x-v'), '2');
    assert.equal(res.headers.get('x-new'), 'y');
    assert.equal(res.headers.has('server'), false);
  });
});

describe('requestRedirect', () => {
  const redirect = (conf: unknown, url: string, method = 'GET') =>
    location(build('requestRedirect', conf).onRequest!(makeRequest(url, { method })));

  it('answers 302 by default with the request`s URL, scheme-relative without a scheme (Traefik`s), and the configured status for any method', () => {
    assert.deepEqual(redirect({ hostname: 'b.test' }, 'http://a.test:8000/p?q=1'), [
      302,
      '//b.test:8000/p?q=1',
    ]);
    assert.deepEqual(redirect({ statusCode: 301, hostname: 'b.test' }, 'http://a.test/p', 'POST'), [
      301,
      '//b.test/p',
    ]);
  });

  it('puts in scheme and port, writing any port that is not empty, as Traefik`s JoinHostPort', () => {
    assert.deepEqual(redirect({ scheme: 'https', port: '' }, 'http://a.test:8000/x'), [
      302,
      'https://a.test/x',
    ]);
    assert.deepEqual(redirect({ scheme: 'https', port: 8443 }, 'http://a.test:8000/x'), [
      302,
      'https://a.test:8443/x',
    ]);
    // Traefik's request_redirect_test "simple redirection": https with port 443 keeps `:443`.
    assert.deepEqual(redirect({ scheme: 'https', port: 443 }, 'http://a.test/x'), [
      302,
      'https://a.test:443/x',
    ]);
    // The Host's own port when none is configured, the default one too ("HTTP to HTTP" keeps :80).
    assert.deepEqual(redirect({ hostname: 'b.test' }, 'http://a.test:80/x'), [302, '//b.test:80/x']);
  });

  it('replaces the full path, or only the matched prefix (keeping a trailing slash)', () => {
    assert.deepEqual(redirect({ path: '/new' }, 'http://a.test/old/x?y=1'), [302, '//a.test/new?y=1']);
    const prefix = { path: '/v2', pathPrefix: '/v1/' };
    assert.deepEqual(redirect(prefix, 'http://a.test/v1/a/b'), [302, '//a.test/v2/a/b']);
    assert.deepEqual(redirect(prefix, 'http://a.test/v1'), [302, '//a.test/v2']);
    assert.deepEqual(redirect(prefix, 'http://a.test/v1/a/'), [302, '//a.test/v2/a/']);
    assert.deepEqual(redirect({ path: '/', pathPrefix: '/v1' }, 'http://a.test/v1/z'), [302, '//a.test/z']);
  });

  it('answers 303, 307 and 308 too (Traefik since #13360), with Go`s status text, and refuses others', () => {
    for (const [code, text] of [
      [303, 'See Other'],
      [307, 'Temporary Redirect'],
      [308, 'Permanent Redirect'],
    ] as const) {
      const r = build('requestRedirect', { statusCode: code, scheme: 'https' }).onRequest!(
        makeRequest('http://a.test/p', { method: 'POST' }),
      ) as { status: number; body?: string; headers?: readonly (readonly [string, string])[] };
      assert.equal(r.status, code);
      assert.equal(r.body, text);
      assert.deepEqual(r.headers?.[0], ['Location', 'https://a.test/p']);
    }
    for (const code of [300, 304, 305, 306, 309])
      assert.equal(middlewareSchemas.requestRedirect.safeParse({ statusCode: code }).success, false);
  });
});

describe('urlRewrite', () => {
  const rewrite = (conf: unknown, url: string) => {
    const req = makeRequest(url);
    const r = build('urlRewrite', conf).onRequest!(req);
    return { r, path: req.path, query: req.query, host: req.headers.get('host') };
  };

  it('replaces the whole path and keeps the query, without X-Replaced-Path', () => {
    const out = rewrite({ path: '/new' }, 'http://a.test/old/x?q=1');
    assert.deepEqual([out.path, out.query], ['/new', 'q=1']);
  });

  it('replaces the matched prefix only, as Go`s JoinPath joins and cleans', () => {
    assert.equal(
      rewrite({ path: '/backend', pathPrefix: '/api' }, 'http://a.test/api/users').path,
      '/backend/users',
    );
    assert.equal(rewrite({ path: '/backend', pathPrefix: '/api/' }, 'http://a.test/api').path, '/backend');
    assert.equal(rewrite({ path: '/', pathPrefix: '/api' }, 'http://a.test/api/users/').path, '/users/');
    assert.equal(rewrite({ path: '', pathPrefix: '/api' }, 'http://a.test/api').path, '/');
  });

  it('answers 400 when the result would still hold a dot segment', () => {
    const out = rewrite({ path: '/b', pathPrefix: '/api' }, 'http://a.test/api/%2e%2e/etc');
    assert.equal((out.r as DirectResponse | undefined)?.status, 400);
  });

  it('sets the Host sent upstream', () => {
    assert.equal(rewrite({ hostname: 'internal.svc' }, 'http://a.test/x').host, 'internal.svc');
  });

  it('needs a hostname or a path', () => {
    assert.equal(middlewareSchemas.urlRewrite.safeParse({}).success, false);
  });

  it('joinPath is Go`s path.Join', () => {
    assert.equal(joinPath('/a/', '/b//c/../d'), '/a/b/d');
    assert.equal(joinPath('/', '../x'), '/x');
    assert.equal(joinPath('', ''), '');
  });
});
