import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { middlewareSchemas } from '../config/dynamic/middlewares.ts';
import { build, makeRequest } from './test-request.ts';

function location(res: ReturnType<NonNullable<ReturnType<typeof build>['onRequest']>>): string | undefined {
  return res?.headers?.find(([n]) => n === 'Location')?.[1];
}

describe('redirectScheme', () => {
  it('redirects http to https with 301 when permanent, keeping path and query', () => {
    const res = build('redirectScheme', { scheme: 'https', permanent: true }).onRequest!(
      makeRequest('http://a.test/p/q%20r?x=1&y'),
    );
    assert.equal(res?.status, 301);
    assert.equal(location(res), 'https://a.test/p/q%20r?x=1&y');
  });

  it('redirects with 302 when not permanent', () => {
    const res = build('redirectScheme', { scheme: 'https' }).onRequest!(makeRequest('http://a.test/'));
    assert.equal(res?.status, 302);
  });

  it('uses 308 and 307 for methods other than GET, HEAD included (as Traefik)', () => {
    const permanent = build('redirectScheme', { scheme: 'https', permanent: true });
    const temporary = build('redirectScheme', { scheme: 'https' });
    assert.equal(permanent.onRequest!(makeRequest('http://a.test/', { method: 'POST' }))?.status, 308);
    assert.equal(temporary.onRequest!(makeRequest('http://a.test/', { method: 'PUT' }))?.status, 307);
    assert.equal(temporary.onRequest!(makeRequest('http://a.test/', { method: 'HEAD' }))?.status, 307);
  });

  it('answers 308 whatever the method with forcePermanentRedirect (Traefik`s, set for ingress-nginx`s ssl-redirect)', () => {
    const forced = build('redirectScheme', { scheme: 'https', forcePermanentRedirect: true });
    for (const method of ['GET', 'POST', 'HEAD'])
      assert.equal(forced.onRequest!(makeRequest('http://a.test/', { method }))?.status, 308, method);
  });

  it('does not redirect when already https', () => {
    assert.equal(
      build('redirectScheme', { scheme: 'https' }).onRequest!(makeRequest('https://a.test/x')),
      undefined,
    );
  });

  it('does not redirect when X-Forwarded-Proto says https', () => {
    const req = makeRequest('http://a.test/x', { headers: [['X-Forwarded-Proto', 'https']] });
    assert.equal(build('redirectScheme', { scheme: 'https' }).onRequest!(req), undefined);
  });

  it('drops the client port and omits the default port of the target scheme', () => {
    const m = build('redirectScheme', { scheme: 'https', port: '443' });
    assert.equal(location(m.onRequest!(makeRequest('http://a.test:8080/x'))), 'https://a.test/x');
  });

  it('adds a configured non-default port, accepting it as a YAML number', () => {
    const m = build('redirectScheme', { scheme: 'https', port: 8443 });
    assert.equal(location(m.onRequest!(makeRequest('http://a.test/x'))), 'https://a.test:8443/x');
  });

  it('redirects https on another port to the configured port', () => {
    const m = build('redirectScheme', { scheme: 'https', port: '8443' });
    assert.equal(location(m.onRequest!(makeRequest('https://a.test/x'))), 'https://a.test:8443/x');
    assert.equal(m.onRequest!(makeRequest('https://a.test:8443/x')), undefined);
  });

  it('keeps the brackets of an IPv6 host', () => {
    const res = build('redirectScheme', { scheme: 'https' }).onRequest!(
      makeRequest('http://[2001:db8::1]/x'),
    );
    assert.equal(location(res), 'https://[2001:db8::1]/x');
  });

  it('requires a scheme', () => {
    assert.equal(middlewareSchemas.redirectScheme.safeParse({ permanent: true }).success, false);
  });

  // Traefik's pkg/middlewares/redirect/redirect_scheme_test.go TestRedirectSchemeHandler, as data
  // (url, config, X-Forwarded-Proto, the Location or undefined when the request goes on). Go
  // URLs have no path there; ours always has `/`.
  const TRAEFIK_CASES: readonly [
    string,
    { scheme: string; port?: string; permanent?: boolean },
    string | undefined,
    string | undefined,
    number?,
  ][] = [
    ['http://foo', { scheme: 'https' }, undefined, 'https://foo/'],
    ['http://foo', { scheme: 'https' }, 'http', 'https://foo/'],
    ['http://foo', { scheme: 'https' }, 'https', undefined],
    ['http://foo', { scheme: 'https' }, 'bar', 'https://foo/'],
    ['http://foo', { scheme: 'https' }, 'ws', 'https://foo/'],
    ['http://foo', { scheme: 'https' }, 'wss', undefined],
    ['http://foo:8080', { scheme: 'https' }, undefined, 'https://foo/'],
    ['http://foo', { scheme: 'https', port: '8443' }, undefined, 'https://foo:8443/'],
    ['http://foo:8000', { scheme: 'https', port: '8443' }, undefined, 'https://foo:8443/'],
    ['https://foo:8000', { scheme: 'https', port: '8443' }, undefined, 'https://foo:8443/'],
    ['https://foo:8000', { scheme: 'https' }, undefined, 'https://foo/'],
    ['https://foo:8000/theother', { scheme: 'https' }, undefined, 'https://foo/theother'],
    ['http://foo', { scheme: 'https', port: '8443', permanent: true }, undefined, 'https://foo:8443/', 301],
    ['http://foo:80', { scheme: 'http', port: '80' }, undefined, undefined],
    ['https://foo:443', { scheme: 'https', port: '443' }, undefined, undefined],
    ['http://foo', { scheme: 'wss', port: '9443' }, undefined, 'wss://foo:9443/'],
    ['http://foo', { scheme: 'wss' }, undefined, 'wss://foo/'],
    ['http://foo:5678', { scheme: 'wss' }, undefined, 'wss://foo/'],
    ['http://foo:443', { scheme: 'https' }, undefined, 'https://foo/'],
    ['http://foo:8080', { scheme: 'http', port: '8181' }, undefined, 'http://foo:8181/'],
    ['https://foo:80', { scheme: 'https' }, undefined, 'https://foo/'],
    ['http://[::1]', { scheme: 'https' }, undefined, 'https://[::1]/'],
    ['http://[::1]', { scheme: 'https', port: '8443' }, undefined, 'https://[::1]:8443/'],
    ['http://[::1]:80', { scheme: 'https' }, undefined, 'https://[::1]/'],
    ['http://[::1]:80', { scheme: 'https', port: '8443' }, undefined, 'https://[::1]:8443/'],
  ];

  it("answers Traefik's own test cases as Traefik does", () => {
    for (const [url, config, xfp, want, status] of TRAEFIK_CASES) {
      const headers: [string, string][] = xfp === undefined ? [] : [['X-Forwarded-Proto', xfp]];
      const res = build('redirectScheme', config).onRequest!(makeRequest(url, { headers }));
      const what = `${url} ${JSON.stringify(config)} ${xfp ?? ''}`;
      assert.equal(location(res), want, what);
      if (want !== undefined) assert.equal(res?.status, status ?? 302, what);
    }
  });
});
