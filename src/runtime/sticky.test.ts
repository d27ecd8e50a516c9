import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  defaultCookieName,
  fnv64Hex,
  readCookie,
  StickyCookie,
  sanitizeCookieName,
  stickyValue,
} from './sticky.ts';

const base = { secure: false, httpOnly: false, sameSite: '' as const, maxAge: 0, expires: 0, path: '/' };

describe('sticky cookies', () => {
  it('reads one cookie among several, quoted or not', () => {
    assert.equal(readCookie('a=1; srv=abc; b=2', 'srv'), 'abc');
    assert.equal(readCookie('srv="abc"', 'srv'), 'abc');
    assert.equal(readCookie('xsrv=1; srvx=2', 'srv'), undefined);
    assert.equal(readCookie('', 'srv'), undefined);
    assert.equal(readCookie('srv=', 'srv'), '');
  });

  it('maps a cookie value back to its server and rejects unknown values', () => {
    const s = new StickyCookie({ ...base, name: 'srv' }, 'api@file', ['http://a:1', 'http://b:2']);
    // index × 2: the value is of the current form.
    assert.equal(s.lookup(`srv=${stickyValue('http://b:2')}`), 2);
    assert.equal(s.lookup('srv=0123456789abcdef'), -1);
    assert.equal(s.lookup(undefined), -1);
  });

  it('never puts the server address in the cookie', () => {
    const s = new StickyCookie({ ...base, name: 'srv' }, 'api@file', ['http://10.1.2.3:8080']);
    const line = s.setCookieLine(0);
    assert.doesNotMatch(line, /10\.1\.2\.3|8080/);
    assert.match(line, /^Set-Cookie: srv=[0-9a-f]{16}; Path=\/\r\n$/);
  });

  it('writes every configured attribute', () => {
    const s = new StickyCookie(
      {
        name: 'lb',
        secure: true,
        httpOnly: true,
        sameSite: 'strict',
        maxAge: 60,
        expires: 0,
        path: '/app',
        domain: 'example.com',
      },
      'x@file',
      ['http://a:1'],
    );
    assert.match(
      s.setCookieLine(0),
      /; Path=\/app; Domain=example.com; Max-Age=60; HttpOnly; Secure; SameSite=Strict\r\n$/,
    );
  });

  it('writes Expires that many seconds past each response, between Domain and Max-Age (Traefik #13496)', () => {
    const s = new StickyCookie(
      { ...base, name: 'lb', maxAge: 60, expires: 30, domain: '.example.com' },
      'x@file',
      ['http://a:1'],
    );
    const m =
      /^Set-Cookie: lb=[0-9a-f]{16}; Path=\/; Domain=\.example\.com; Expires=(.+ GMT); Max-Age=60\r\n$/.exec(
        s.setCookieLine(0),
      );
    assert.ok(m, s.setCookieLine(0));
    // Go's http.TimeFormat, computed at each call from the clock: never before now + 30 s.
    const at = Date.parse(m[1]!);
    assert.match(m[1]!, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    assert.ok(at >= Math.floor(Date.now() / 1000) * 1000 + 29_000);
  });

  it('marks SameSite=None cookies Secure, as browsers require', () => {
    const s = new StickyCookie({ ...base, name: 'lb', sameSite: 'none' }, 'x@file', ['http://a:1']);
    assert.match(s.setCookieLine(0), /; Secure; SameSite=None/);
  });

  it("derives the default name from the service name as Traefik's cookie.GenerateName does", () => {
    // Traefik's own test vectors (pkg/server/cookie/cookie_test.go).
    assert.equal(defaultCookieName('backend'), '_76eb3');
    assert.equal(defaultCookieName('/my/BACKEND-v1.0~rc1'), '_5f7bc');
    assert.equal(new StickyCookie(base, 'backend', ['http://a:1']).name, '_76eb3');
    // An empty configured name counts as none.
    assert.equal(new StickyCookie({ ...base, name: '' }, 'backend', ['http://a:1']).name, '_76eb3');
  });

  it("turns what a cookie name cannot hold into '_', as Traefik's sanitizeName does", () => {
    assert.equal(sanitizeCookieName('/my/BACKEND-v1.0~rc1'), '_my_BACKEND-v1.0~rc1');
    assert.equal(sanitizeCookieName("!#$%&'()*+-./:<=>?@[]^_`{|}~"), "!#$%&'__*+-._________^_`_|_~");
    // One '_' per character, not per UTF-8 byte (Go's strings.Map works on runes).
    assert.equal(sanitizeCookieName('sé'), 's_');
    const s = new StickyCookie({ ...base, name: 'my session' }, 'x@file', ['http://a:1']);
    assert.equal(s.name, 'my_session');
    assert.match(s.setCookieLine(0), /^Set-Cookie: my_session=/);
  });

  it("values a server by the SHA-256 of its URL, Traefik's sha256Hash", () => {
    const url = 'http://10.0.0.7:8080';
    const expected = createHash('sha256').update(url).digest('hex').slice(0, 16);
    assert.equal(stickyValue(url), expected);
    const s = new StickyCookie({ ...base, name: 'srv' }, 'api@file', ['http://a:1', url]);
    assert.equal(s.setCookieLine(1), `Set-Cookie: srv=${expected}; Path=/\r\n`);
  });

  it('keeps pinning with the values older Traefik versions wrote, and asks for the cookie anew', () => {
    // FNV-1, 64 bits, as Go's hash/fnv New64: the published test vectors.
    assert.equal(fnv64Hex(''), 'cbf29ce484222325');
    assert.equal(fnv64Hex('a'), 'af63bd4c8601b7be');
    const urls = ['http://a:1', 'http://b:2', 'http://c:3'];
    const s = new StickyCookie({ ...base, name: 'srv' }, 'api@file', urls);
    // index × 2 + 1: pinned, and the cookie is to be rewritten with the current value.
    assert.equal(s.lookup('srv=http://b:2'), 3);
    assert.equal(s.lookup(`srv=${fnv64Hex('http://c:3')}`), 5);
    assert.equal(s.lookup(`srv=${fnv64Hex(fnv64Hex('http://a:1'))}`), 1);
    assert.equal(s.lookup(`srv=${stickyValue('http://c:3')}`), 4);
  });

  it('keeps the leading dot of the domain, as Traefik v3.7.13 (#13456)', () => {
    const s = new StickyCookie({ ...base, name: 'lb', domain: '.example.com' }, 'x@file', ['http://a:1']);
    assert.match(s.setCookieLine(0), /; Domain=\.example\.com\r\n$/);
  });
});
