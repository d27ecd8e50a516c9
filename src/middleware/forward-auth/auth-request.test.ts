import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeRequest } from '../test-request.ts';
import { AuthRequest } from './auth-request.ts';
import { canonicalHeaderKey } from './forward-auth.ts';

function fields(a: AuthRequest): Record<string, string> {
  return Object.fromEntries(a.headers.entries());
}

/** As the entry point leaves a request: X-Forwarded-For without the peer (the proxy appends it upstream). */
const client = () =>
  makeRequest('http://app.test:8080/p/q?x=1', {
    method: 'DELETE',
    clientIp: '192.0.2.10',
    headers: [
      ['Host', 'app.test:8080'],
      ['Cookie', 'a=1'],
      ['Connection', 'keep-alive'],
      ['X-Forwarded-For', '203.0.113.1'],
      ['X-Forwarded-Proto', 'https'],
      ['X-Forwarded-Uri', '/forged'],
      ['X-Forwarded-Port', '443'],
    ],
  });

describe('forwardAuth request', () => {
  it('copies the client fields and describes the request in X-Forwarded-* (trustForwardHeader not set)', () => {
    const a = new AuthRequest(
      client(),
      '/verify?v=1',
      { method: 'GET', allowed: [], trust: undefined },
      null,
    );
    assert.equal(a.method, 'GET');
    assert.equal(a.target, '/verify?v=1');
    assert.deepEqual(fields(a), {
      Cookie: 'a=1',
      'X-Forwarded-For': '192.0.2.10',
      'X-Forwarded-Proto': 'http',
      'X-Forwarded-Uri': '/p/q?x=1',
      'X-Forwarded-Port': '443',
      'X-Forwarded-Method': 'DELETE',
      'X-Forwarded-Host': 'app.test:8080',
    });
    assert.equal(a.h1Fields().includes('Content-Length'), false);
  });

  it('keeps the request X-Forwarded-* values with trustForwardHeader', () => {
    const a = new AuthRequest(client(), '/', { method: null, allowed: [], trust: true }, null);
    const f = fields(a);
    assert.equal(a.method, 'DELETE');
    assert.equal(f['X-Forwarded-For'], '203.0.113.1, 192.0.2.10');
    assert.equal(f['X-Forwarded-Proto'], 'https');
    assert.equal(f['X-Forwarded-Uri'], '/forged');
  });

  it('appends the peer to X-Forwarded-For itself with trustForwardHeader, notAppendXForwardedFor or not', () => {
    // Traefik's forward.go writeHeader appends RemoteAddr itself; it never reads the option, and
    // the field it reads has no peer yet (Traefik's proxy appends that to the upstream request).
    const req = (xff: string | null) =>
      makeRequest('http://app.test/', {
        clientIp: '192.0.2.10',
        headers: xff === null ? [] : [['X-Forwarded-For', xff]],
      });
    const trusted = (xff: string | null) =>
      fields(new AuthRequest(req(xff), '/', { method: null, allowed: [], trust: true }, null))[
        'X-Forwarded-For'
      ];
    assert.equal(trusted('203.0.113.1'), '203.0.113.1, 192.0.2.10');
    assert.equal(trusted(null), '192.0.2.10');
    const untrusted = new AuthRequest(
      req('203.0.113.1'),
      '/',
      { method: null, allowed: [], trust: false },
      null,
    );
    assert.equal(fields(untrusted)['X-Forwarded-For'], '192.0.2.10');
  });

  it('copies only authRequestHeaders when given, and frames a body', () => {
    const a = new AuthRequest(
      client(),
      '/',
      { method: 'POST', allowed: ['cookie'], trust: undefined },
      Buffer.from('hello'),
    );
    assert.deepEqual(Object.keys(fields(a)).sort(), [
      'Cookie',
      'X-Forwarded-For',
      'X-Forwarded-Host',
      'X-Forwarded-Method',
      'X-Forwarded-Proto',
      'X-Forwarded-Uri',
    ]);
    assert.match(a.h1Fields(), /Content-Length: 5\r\n\r\n$/);
  });

  it('drops every X- field Traefik manages with trustForwardHeader: false, and sets X-Forwarded-Port', () => {
    const req = makeRequest('http://app.test/p', {
      clientIp: '192.0.2.10',
      headers: [
        ['Host', 'app.test'],
        ['X-Forwarded-For', '203.0.113.1, 192.0.2.10'],
        ['X-Forwarded-Prefix', '/admin'],
        ['X-Forwarded-Port', '8443'],
        ['X_Forwarded_Server', 'forged'],
        ['X-Real-Ip', '203.0.113.1'],
        ['Forwarded', 'for=203.0.113.1'],
      ],
    });
    const a = new AuthRequest(req, '/', { method: 'GET', allowed: [], trust: false }, null);
    assert.deepEqual(fields(a), {
      Forwarded: 'for=203.0.113.1',
      'X-Forwarded-For': '192.0.2.10',
      'X-Forwarded-Method': 'GET',
      'X-Forwarded-Proto': 'http',
      'X-Forwarded-Port': '80',
      'X-Forwarded-Host': 'app.test',
      'X-Forwarded-Uri': '/p',
    });
    const port = new AuthRequest(client(), '/', { method: 'GET', allowed: [], trust: false }, null);
    assert.equal(fields(port)['X-Forwarded-Port'], '8080', "the Host's port");
  });

  it('computes X-Forwarded-Port without the request X-Forwarded-Proto with trustForwardHeader: false (GHSA-3q9r-p662-5j8m)', () => {
    // From a peer the entry point trusts, its X-Forwarded-Proto survives: not a source here.
    const req = makeRequest('http://app.test/p', {
      clientIp: '192.0.2.10',
      headers: [
        ['Host', 'app.test'],
        ['X-Forwarded-Proto', 'https'],
      ],
    });
    const f = fields(new AuthRequest(req, '/', { method: 'GET', allowed: [], trust: false }, null));
    assert.equal(f['X-Forwarded-Proto'], 'http');
    assert.equal(f['X-Forwarded-Port'], '80');
    const tls = makeRequest('https://app.test/p', { headers: [['Host', 'app.test']] });
    const t = fields(new AuthRequest(tls, '/', { method: 'GET', allowed: [], trust: false }, null));
    assert.equal(t['X-Forwarded-Port'], '443');
  });

  it('lets the X- fields through authRequestHeaders with trustForwardHeader: true', () => {
    const a = new AuthRequest(client(), '/', { method: 'GET', allowed: ['cookie'], trust: true }, null);
    assert.deepEqual(fields(a), {
      Cookie: 'a=1',
      'X-Forwarded-For': '203.0.113.1, 192.0.2.10',
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Uri': '/forged',
      'X-Forwarded-Port': '443',
      'X-Forwarded-Method': 'DELETE',
      'X-Forwarded-Host': 'app.test:8080',
    });
  });

  it('canonicalises header names as Go does', () => {
    assert.equal(canonicalHeaderKey('x-auth-user'), 'X-Auth-User');
    assert.equal(canonicalHeaderKey('WWW-authenticate'), 'Www-Authenticate');
  });
});
