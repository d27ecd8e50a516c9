/**
 * An HTTP router's `using` in the API, as Traefik's RouterInfo.Using (pkg/config/runtime
 * runtime_http.go GetRoutersByEntryPoints): the entry points it is served on, sorted, once each;
 * a router without `entryPoints` is on the default ones (every entry point but `traefik`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('HTTP router views: using', () => {
  let proxy: ProxyProcess;
  before(async () => {
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  websecure:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
http:
  routers:
    both:
      rule: "Path(\`/both\`)"
      service: noop@internal
      entryPoints: [websecure, traefik, websecure]
    defaults:
      rule: "Path(\`/defaults\`)"
      service: noop@internal
`,
    });
  });
  after(() => proxy?.stop());

  const get = async (path: string) => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}${path}`);
    assert.equal(r.status, 200, path);
    return r.json() as Promise<unknown>;
  };

  it('lists the entry points each router is served on', async () => {
    const both = (await get('/api/http/routers/both@file')) as { using: string[] };
    assert.deepEqual(both.using, ['traefik', 'websecure']);
    const list = (await get('/api/http/routers')) as { name: string; using: string[] }[];
    assert.deepEqual(
      list.map((r) => [r.name, r.using]),
      [
        ['both@file', ['traefik', 'websecure']],
        ['defaults@file', ['web', 'websecure']],
      ],
    );
  });
});
