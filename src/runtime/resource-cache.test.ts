import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SecureContext } from 'node:tls';
import { Ticker } from '../core/ticker.ts';
import type { PoolOptions } from '../upstream/pool.ts';
import type { UpstreamTls } from '../upstream/transport-tls.ts';
import { poolKey, ResourceCache } from './resource-cache.ts';

const plain: PoolOptions = {
  host: '10.0.0.1',
  port: 443,
  maxIdle: 200,
  maxConns: 0,
  idleTimeoutMs: 90_000,
  connectTimeoutMs: 30_000,
  responseHeaderTimeoutMs: 0,
  maxResponseHeaderBytes: 65_536,
};

function tls(id: string): UpstreamTls {
  return {
    id,
    serverName: undefined,
    insecureSkipVerify: false,
    checkServerIdentity: undefined,
    secureContext: {} as SecureContext,
  };
}

describe('poolKey', () => {
  it('tells a TLS pool from a plain one to the same address', () => {
    assert.notEqual(poolKey(plain), poolKey({ ...plain, tls: tls('a') }));
  });

  it('keys TLS pools by their settings digest, not by the context object', () => {
    assert.equal(poolKey({ ...plain, tls: tls('a') }), poolKey({ ...plain, tls: tls('a') }));
    assert.notEqual(poolKey({ ...plain, tls: tls('a') }), poolKey({ ...plain, tls: tls('b') }));
  });
});

describe('ResourceCache.pool', () => {
  it('keeps the pool (and its warm connections) when a reload brings the same TLS settings', () => {
    const ticker = new Ticker();
    const cache = new ResourceCache(ticker);
    const first = cache.pool({ ...plain, tls: tls('a') });
    assert.equal(cache.pool({ ...plain, tls: tls('a') }), first);
    assert.notEqual(cache.pool({ ...plain, tls: tls('b') }), first);
    assert.notEqual(cache.pool(plain), first);
    cache.closeAll();
    ticker.stop();
  });
});
