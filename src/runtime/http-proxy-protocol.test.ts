import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { dynamicConfigSchema } from '../config/dynamic/schema.ts';
import { silentLogger } from '../core/logger.ts';
import { Ticker } from '../core/ticker.ts';
import { buildSnapshot } from './build-snapshot.ts';
import { mergeProviders } from './merge-providers.ts';
import { ResourceCache } from './resource-cache.ts';

const ticker = new Ticker();
const cache = new ResourceCache(ticker);
after(() => {
  cache.closeAll();
  ticker.stop();
});

/** The errors of a configuration whose one service uses a transport that sends PROXY headers. */
function errorsFor(url: string, transport: Record<string, unknown>): string[] {
  const merged = mergeProviders(
    new Map([
      [
        'file',
        dynamicConfigSchema.parse({
          http: {
            routers: { r: { rule: 'PathPrefix(`/`)', service: 's' } },
            services: { s: { loadBalancer: { servers: [{ url }], serversTransport: 'pp' } } },
            serversTransports: { pp: { proxyProtocol: { version: 1 }, ...transport } },
          },
        }),
      ],
    ]),
  );
  const r = buildSnapshot(merged, 1, cache, silentLogger);
  return r.issues.filter((i) => i.severity === 'error').map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('PROXY protocol to HTTP servers', () => {
  it('is accepted for http:// servers and https:// ones with disableHTTP2', () => {
    assert.deepEqual(errorsFor('http://127.0.0.1:9', {}), []);
    assert.deepEqual(errorsFor('https://127.0.0.1:9', { disableHTTP2: true }), []);
  });

  it('is refused for servers reached over HTTP/2, whose one session carries many clients', () => {
    for (const url of ['h2c://127.0.0.1:9', 'https://127.0.0.1:9']) {
      const errors = errorsFor(url, {});
      assert.equal(errors.length, 1, `${url}: ${errors.join('; ')}`);
      assert.match(errors[0]!, /^http\.services\.s@file\.loadBalancer\.servers\.0\.url: /);
      assert.match(errors[0]!, /PROXY protocol header, which needs HTTP\/1\.1 connections/);
    }
  });
});
