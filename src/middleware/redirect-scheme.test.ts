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
});
