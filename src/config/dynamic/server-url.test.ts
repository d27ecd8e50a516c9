import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverUrlParseError, serverUrlPath, unusableServerUrl } from './server-url.ts';

describe('server URLs as Traefik reads them (Go url.Parse, then its transport)', () => {
  it('refuses only what Go url.Parse refuses', () => {
    const refused: [string, RegExp][] = [
      ['10.0.0.1:80', /first path segment in URL cannot contain colon/],
      ['http://h:8o', /invalid port ":8o" after host/],
      ['http://h/%zz', /invalid URL escape/],
      ['http://h/a\tb', /invalid control character in URL/],
      [':80', /missing protocol scheme/],
      // Go's parseHost (net/url unescape with encodeHost): a placeholder left in the host.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder is the case
      ['https://judge.${DOMAIN}', /: invalid character "\{" in host name$/],
      ['http://a b', /: invalid character " " in host name$/],
      ['http://h%41', /: invalid URL escape "%41"$/],
      ['http://[::1', /: missing '\]' in host$/],
      ['http://us{er}@h', /: net\/url: invalid userinfo$/],
    ];
    for (const [url, why] of refused) assert.match(serverUrlParseError(url) ?? '', why, url);
    for (const url of [
      'localhost',
      'localhost:8080',
      'ftp://h',
      'http://',
      'http://h:8080/p?q',
      'http://[::1]:80',
      'http://a!$&\'()*+,;=<>"~_-.b:80',
      'http://h%c3%a9',
      'http://bücher.example',
      'http://u-s.e_r:p~a!s$s@h',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: only the host is checked so
      'http://h/${PATH}?q={x}',
    ])
      assert.equal(serverUrlParseError(url), undefined, url);
  });

  it("says why a URL that loads cannot carry a request, in Go's transport's words", () => {
    assert.equal(unusableServerUrl('localhost'), 'unsupported protocol scheme ""');
    // Go reads `localhost:8080` as scheme `localhost` with an opaque part.
    assert.equal(unusableServerUrl('localhost:8080'), 'unsupported protocol scheme "localhost"');
    assert.equal(unusableServerUrl('FTP://h'), 'unsupported protocol scheme "ftp"');
    assert.equal(unusableServerUrl('http://'), 'http: no Host in request URL');
    assert.equal(unusableServerUrl('http:h'), 'http: no Host in request URL');
    for (const url of ['http://h', 'https://h:8443/p', 'h2c://h:80', 'HTTP://H', 'http://[::1]:8080'])
      assert.equal(unusableServerUrl(url), undefined, url);
  });

  it('gives no path for an unusable URL', () => {
    assert.equal(serverUrlPath('localhost/x'), '');
    assert.equal(serverUrlPath('http://h/api/'), '/api/');
  });
});
