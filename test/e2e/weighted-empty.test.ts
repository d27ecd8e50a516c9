/**
 * A `weighted` or `highestRandomWeight` service without children loads and answers 503 `no
 * available server`, as Traefik's balancers with no handler (pkg/server/service/loadbalancer/wrr
 * and hrw nextServer: errNoAvailableServer). The service is `enabled` in the API. (`weighted: {}`
 * is another matter: Traefik's file decoder refuses an empty struct it does not tag allowEmpty.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('weighted services without children', () => {
  let proxy: ProxyProcess;
  before(async () => {
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
api: {}
http:
  routers:
    a:
      rule: "Path(\`/a\`)"
      service: empty
    c:
      rule: "Path(\`/c\`)"
      service: hrw
  services:
    empty:
      weighted: { services: [] }
    hrw:
      highestRandomWeight: { services: [] }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
  });

  for (const [path, service] of [
    ['/a', 'empty@file'],
    ['/c', 'hrw@file'],
  ] as const) {
    it(`${service}: 503 no available server, enabled in the API`, async () => {
      const r = await fetch(`http://127.0.0.1:${proxy.ports['web']}${path}`);
      assert.equal(r.status, 503);
      assert.equal((await r.text()).trim(), 'no available server');
      const api = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/http/services/${service}`);
      assert.equal(api.status, 200);
      const s = (await api.json()) as Record<string, unknown>;
      assert.equal(s['status'], 'enabled');
      assert.equal(s['error'], undefined);
    });
  }
});
