import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopback, isLoopbackHost } from '../core/loopback.ts';
import type { RequestHead } from '../core/request.ts';
import { explainRequestHead } from './explain.ts';

function head(url: string, headers: string[] = [], method?: string): RequestHead {
  const r = explainRequestHead({ url, headers, entryPoint: 'web', ...(method ? { method } : {}) });
  if ('error' in r) assert.fail(r.error);
  return r;
}

describe('explainRequestHead', () => {
  it('builds the head a listener would: host lowercased without port or trailing dot, raw path', () => {
    const h = head('https://API.Example.:8443/a/%2e%2e/b?x=1&y');
    assert.equal(h.method, 'GET');
    assert.equal(h.scheme, 'https');
    assert.equal(h.host, 'api.example');
    assert.equal(h.hostPort, '8443');
    assert.equal(h.path, '/a/%2e%2e/b');
    assert.equal(h.query, 'x=1&y');
    assert.equal(h.headers.get('host'), 'API.Example.:8443');
    assert.equal(h.entryPoint, 'web');
  });

  it('defaults the path to / and keeps IPv6 hosts in brackets', () => {
    const h = head('http://[::1]:80');
    assert.equal(h.path, '/');
    assert.equal(h.host, '[::1]');
    assert.equal(h.hostPort, '80');
  });

  it('lets a Host header win over the URL, as on the wire', () => {
    const h = head('http://127.0.0.1/', ['Host: b.example', 'X-A:  1 '], 'POST');
    assert.equal(h.host, 'b.example');
    assert.equal(h.method, 'POST');
    assert.equal(h.headers.get('x-a'), '1');
  });

  it('refuses what a client could not send', () => {
    for (const [url, headers, method] of [
      ['ftp://x/', [], 'GET'],
      ['http:///x', [], 'GET'],
      ['http://a b/', [], 'GET'],
      ['http://x/ y', [], 'GET'],
      ['http://u@x/', [], 'GET'],
      ['http://x:99999/', [], 'GET'],
      ['http://x/', ['Bad Name: v'], 'GET'],
      ['http://x/', [], 'G T'],
    ] as const) {
      const r = explainRequestHead({ url, headers, method, entryPoint: 'web' });
      assert.ok('error' in r, url);
    }
  });
});

describe('loopback checks', () => {
  it('knows loopback peers, IPv4-mapped included', () => {
    assert.equal(isLoopback('127.0.0.1'), true);
    assert.equal(isLoopback('127.3.2.1'), true);
    assert.equal(isLoopback('::1'), true);
    assert.equal(isLoopback('::ffff:127.0.0.1'), true);
    assert.equal(isLoopback('10.0.0.1'), false);
    assert.equal(isLoopback('::ffff:10.0.0.1'), false);
    assert.equal(isLoopback(undefined), false);
  });

  it('knows Host values that name loopback', () => {
    for (const h of [
      'localhost',
      'LOCALHOST:8080',
      'app.localhost',
      '127.0.0.1:1',
      '[::1]:8080',
      'localhost.',
    ])
      assert.equal(isLoopbackHost(h), true, h);
    for (const h of ['example.com', 'localhost.example.com', '127.0.0.1.nip.io', undefined])
      assert.equal(isLoopbackHost(h), false, String(h));
  });
});
