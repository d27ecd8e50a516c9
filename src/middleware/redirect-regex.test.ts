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

  it('answers 502 rather than send a Location with a control character (url.Parse refuses it)', () => {
    const m = build('redirectRegex', { regex: '^http://a\\.test/x$', replacement: 'http://a.test/\t' });
    assert.equal(m.onRequest!(makeRequest('http://a.test/x'))?.status, 502);
  });

  // Traefik's pkg/middlewares/redirect/redirect_regex_test.go TestRedirectRegexHandler, as data:
  // [url, regex, replacement, permanent, method, Location (undefined: passes), status]. Go's test
  // URLs have no path; ours always has `/`, which the regexes carry along.
  const TRAEFIK_CASES: readonly [string, string, string, boolean, string, string | undefined, number][] = [
    [
      'http://foo.com:80',
      '^(?:http?:\\/\\/)(foo)(\\.com)(:\\d+)(.*)$',
      'https://${1}bar$2:443$4',
      false,
      'GET',
      'https://foobar.com:443/',
      302,
    ],
    [
      'http://bar.com:80',
      '^(?:http?:\\/\\/)(foo)(\\.com)(:\\d+)(.*)$',
      'https://${1}bar$2:443$4',
      false,
      'GET',
      undefined,
      0,
    ],
    ['http://foo', '^http://', 'https://$1', true, 'GET', 'https://foo/', 301],
    ['https://foo', 'https://foo', 'http://foo', true, 'GET', 'http://foo/', 301],
    ['http://foo:80', 'http://foo:80', 'https://foo:443', false, 'GET', 'https://foo:443/', 302],
    ['https://foo:443', 'https://foo:443', 'http://foo:80', false, 'GET', 'http://foo:80/', 302],
    ['http://foo:80', 'http://foo:80', 'http://foo:88', false, 'GET', 'http://foo:88/', 302],
    ['http://foo', '^http://', 'https://$1', false, 'POST', 'https://foo/', 307],
    ['http://foo', '^http://', 'https://$1', true, 'POST', 'https://foo/', 308],
  ];

  it("answers Traefik's own test cases as Traefik does", () => {
    for (const [url, regex, replacement, permanent, method, want, status] of TRAEFIK_CASES) {
      const res = build('redirectRegex', { regex, replacement, permanent }).onRequest!(
        makeRequest(url, { method }),
      );
      assert.equal(location(res), want, `${url} ${regex}`);
      if (want !== undefined) assert.equal(res?.status, status, `${url} ${regex}`);
    }
    // "invalid rewritten URL": url.Parse refuses the bad escape, oxy's handler answers 502.
    const bad = build('redirectRegex', { regex: '^(.*)$', replacement: 'http://192.168.0.%31/' });
    assert.equal(bad.onRequest!(makeRequest('http://foo.com:80'))?.status, 502);
  });
});
