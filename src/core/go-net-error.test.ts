import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ProxyError } from './errors.ts';
import { goClientTimeout, goNetError, goUrlError, joinHostPort } from './go-net-error.ts';

/** A node error as libuv and getaddrinfo give them. */
const nodeError = (fields: Record<string, unknown>): Error => Object.assign(new Error('x'), fields);

/** The first nameserver of this machine's resolv.conf, as Go's resolver would name it. */
function expectedServer(): string {
  try {
    const m = /^\s*nameserver\s+(\S+)/m.exec(readFileSync('/etc/resolv.conf', 'latin1'));
    if (m !== null) return joinHostPort(m[1]!, 53);
  } catch {}
  return '127.0.0.1:53';
}

describe('goNetError', () => {
  it("words a refused dial as Go's net.OpError, the address from the node error", () => {
    const e = new ProxyError('UPSTREAM_REFUSED', 'refused', {
      cause: nodeError({ code: 'ECONNREFUSED', address: '::1', port: 9 }),
    });
    assert.equal(goNetError(e, 'connect', 'localhost:9'), 'dial tcp [::1]:9: connect: connection refused');
  });

  it("words a name that does not resolve as Go's DNS error", () => {
    const e = new ProxyError('UPSTREAM_DNS', 'dns', {
      cause: nodeError({ code: 'ENOTFOUND', hostname: 'auth.invalid' }),
    });
    assert.equal(
      goNetError(e, 'connect', 'auth.invalid:80'),
      `dial tcp: lookup auth.invalid on ${expectedServer()}: no such host`,
    );
  });

  it("names an established connection's two ends in a reset, as Go's net.OpError with its Source", () => {
    const e = new ProxyError('UPSTREAM_RESET', 'reset', { cause: nodeError({ code: 'ECONNRESET' }) });
    e.addresses = '127.0.0.1:51234->127.0.0.1:9000';
    assert.equal(
      goNetError(e, 'head', '127.0.0.1:9000'),
      'read tcp 127.0.0.1:51234->127.0.0.1:9000: read: connection reset by peer',
    );
    // Without them (a pool that does not keep them), the address dialled.
    const bare = new ProxyError('UPSTREAM_RESET', 'reset', { cause: nodeError({ code: 'ECONNRESET' }) });
    assert.equal(goNetError(bare, 'body', 'h:80'), 'read tcp h:80: read: connection reset by peer');
  });

  it('says EOF for a close before the answer, unexpected EOF in the body, else our message', () => {
    const closed = new ProxyError('UPSTREAM_RESET', 'upstream closed the connection before responding');
    assert.equal(goNetError(closed, 'head', 'h:80'), 'EOF');
    assert.equal(goNetError(closed, 'body', 'h:80'), 'unexpected EOF');
    const other = new ProxyError('UPSTREAM_BAD_RESPONSE', 'malformed status line');
    assert.equal(goNetError(other, 'head', 'h:80'), 'malformed status line');
  });
});

describe('goUrlError and goClientTimeout', () => {
  it("writes Go's url.Error: the method as urlErrorOp, the URL quoted, its password hidden", () => {
    assert.equal(goUrlError('GET', 'http://a:b@h/p', 'EOF'), 'Get "http://a:***@h/p": EOF');
    assert.equal(goUrlError('DELETE', 'https://h/p', 'EOF'), 'Delete "https://h/p": EOF');
  });

  it("writes Client.Timeout's errors", () => {
    assert.match(
      goClientTimeout(false),
      /^context deadline exceeded \(Client\.Timeout exceeded while awaiting headers\)$/,
    );
    assert.match(goClientTimeout(true), /while reading body\)$/);
  });
});
