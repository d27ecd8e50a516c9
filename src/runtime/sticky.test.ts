import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readCookie, StickyCookie, stickyValue } from './sticky.ts';

const base = { secure: false, httpOnly: false, sameSite: '' as const, maxAge: 0, path: '/' };

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
    assert.equal(s.lookup(`srv=${stickyValue('api@file', 'http://b:2')}`), 1);
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

  it('marks SameSite=None cookies Secure, as browsers require', () => {
    const s = new StickyCookie({ ...base, name: 'lb', sameSite: 'none' }, 'x@file', ['http://a:1']);
    assert.match(s.setCookieLine(0), /; Secure; SameSite=None/);
  });

  it('derives a stable default name from the service name', () => {
    const a = new StickyCookie(base, 'api@file', ['http://a:1']);
    const b = new StickyCookie(base, 'api@file', ['http://a:1']);
    assert.match(a.name, /^_[0-9a-f]{6}$/);
    assert.equal(a.name, b.name);
  });
});
