// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Go replacement templates are written ${1} / ${name}
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DirectResponse } from '../core/request.ts';
import { build, makeRequest } from './test-request.ts';

function location(res: DirectResponse | undefined): string | undefined {
  return res?.headers?.find(([n]) => n === 'Location')?.[1];
}

describe('redirectRegex', () => {
  it('matches the full URL and redirects to the replacement', () => {
    const m = build('redirectRegex', {
      regex: '^http://localhost/(.*)',
      replacement: 'http://mydomain/${1}',
    });
    const res = m.onRequest!(makeRequest('http://localhost/a/b?c=d'));
    assert.equal(res?.status, 302);
    assert.equal(location(res), 'http://mydomain/a/b?c=d');
  });

  it('answers statusCode whatever the method (Traefik`s StatusCode, set for ingress-nginx`s redirect codes)', () => {
    const m = build('redirectRegex', { regex: '.*', replacement: 'https://new.test/', statusCode: 308 });
    for (const method of ['GET', 'POST']) {
      const res = m.onRequest!(makeRequest('http://a.test/x', { method }));
      assert.deepEqual(
        [res?.status, location(res), res?.body],
        [308, 'https://new.test/', 'Permanent Redirect'],
      );
    }
    const seeOther = build('redirectRegex', {
      regex: '.*',
      replacement: 'https://new.test/',
      statusCode: 303,
    });
    assert.deepEqual(
      [
        seeOther.onRequest!(makeRequest('http://a.test/x'))?.status,
        seeOther.onRequest!(makeRequest('http://a.test/x'))?.body,
      ],
      [303, 'See Other'],
    );
  });

  it('includes the Host port in the matched URL', () => {
    const m = build('redirectRegex', {
      regex: '^http://a\\.test:8080/(.*)',
      replacement: 'https://b.test/$1',
    });
    assert.equal(location(m.onRequest!(makeRequest('http://a.test:8080/x'))), 'https://b.test/x');
    assert.equal(m.onRequest!(makeRequest('http://a.test/x')), undefined);
  });

  it('uses https as scheme on a TLS connection', () => {
    const m = build('redirectRegex', { regex: '^https://(.*)', replacement: 'https://www.$1' });
    assert.equal(location(m.onRequest!(makeRequest('https://a.test/x'))), 'https://www.a.test/x');
  });

  it('uses 301 for GET and 308 otherwise when permanent', () => {
    const m = build('redirectRegex', {
      regex: '^http://a\\.test/old',
      replacement: 'http://a.test/new',
      permanent: true,
    });
    assert.equal(m.onRequest!(makeRequest('http://a.test/old'))?.status, 301);
    assert.equal(m.onRequest!(makeRequest('http://a.test/old', { method: 'POST' }))?.status, 308);
  });

  it('does not redirect when the replacement gives the same URL', () => {
    const m = build('redirectRegex', { regex: '^(http://a\\.test/.*)$', replacement: '$1' });
    assert.equal(m.onRequest!(makeRequest('http://a.test/x')), undefined);
  });

  it('does not redirect when the regex does not match', () => {
    const m = build('redirectRegex', { regex: '^https://', replacement: 'http://' });
    assert.equal(m.onRequest!(makeRequest('http://a.test/x')), undefined);
  });

  it('percent-encodes spaces and non-ASCII introduced by the replacement', () => {
    const m = build('redirectRegex', { regex: '^http://a\\.test/x$', replacement: 'http://a.test/ü x' });
    assert.equal(location(m.onRequest!(makeRequest('http://a.test/x'))), 'http://a.test/%C3%BC%20x');
  });

  it('answers 500 rather than send a Location with a control character', () => {
    const m = build('redirectRegex', { regex: '^http://a\\.test/x$', replacement: 'http://a.test/\t' });
    assert.equal(m.onRequest!(makeRequest('http://a.test/x'))?.status, 500);
  });
});
