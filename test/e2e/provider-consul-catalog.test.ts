/**
 * The Consul Catalog provider in the real proxy against a Consul API on loopback
 * (test/helpers/fake-consul.ts, blocking queries with X-Consul-Index): a service registered with
 * Traefik tags is routed to its instances; an instance whose check turns critical is taken out,
 * and put back when it passes; a tag typo is reported with the service and the tag; Consul going
 * away leaves the last good configuration serving, shows the provider down in the API and the
 * metrics, and it recovers by itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeConsul, startFakeConsul } from '../helpers/fake-consul.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { untilApplied, waitForLogFrom } from '../helpers/wait.ts';

describe('Consul Catalog provider (e2e, Consul API on loopback)', () => {
  let b1: Backend;
  let b2: Backend;
  let b3: Backend;
  let consul: FakeConsul;
  let proxy: ProxyProcess;
  let web = 0;
  let admin = 0;

  before(async () => {
    [b1, b2, b3, consul] = await Promise.all([
      startBackend((req, res) => res.end(`one ${req.url}`)),
      startBackend((req, res) => res.end(`two ${req.url}`)),
      startBackend((req, res) => {
        const failed = /^\/oops\/fail\/(\d{3})$/.exec(req.url ?? '');
        res.statusCode = failed === null ? 200 : Number(failed[1]);
        res.end(failed === null ? `page ${req.url}` : 'failed');
      }),
      startFakeConsul(),
    ]);
    proxy = await startProxy({
      entryPoints: 2,
      config: `${providersHead('50ms')}  consulCatalog:
    watch: true
    exposedByDefault: false
    endpoint:
      address: "${consul.endpoint}"
`,
    });
    web = proxy.ports['web'] ?? 0;
    admin = proxy.ports['traefik'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([b1?.close(), b2?.close(), b3?.close(), consul?.close()]);
  });

  const get = async (port: number, path: string): Promise<{ status: number; text: string }> => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: r.status, text: await r.text() };
  };
  const until = (from: number, check: () => Promise<boolean>): Promise<void> =>
    untilApplied(proxy, from, check);
  const tags = ['traefik.enable=true', 'traefik.http.routers.shop.rule=PathPrefix(`/shop`)'];
  const texts = async (): Promise<string[]> => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await get(web, '/shop')).text);
    return [...seen].sort();
  };

  it('routes a registered service to its passing instances, and follows their health', async () => {
    const from = proxy.logs.length;
    consul.register({ id: 'shop-1', name: 'shop', address: '127.0.0.1', port: b1.port, tags });
    consul.register({ id: 'shop-2', name: 'shop', address: '127.0.0.1', port: b2.port, tags });
    consul.register({ id: 'hidden-1', name: 'hidden', address: '127.0.0.1', port: b1.port, tags: [] });
    await until(from, async () => (await texts()).length === 2);
    assert.deepEqual(await texts(), ['one /shop', 'two /shop']);
    let at = proxy.logs.length;
    consul.setHealth('shop-2', 'critical');
    await until(at, async () => (await texts()).length === 1);
    assert.deepEqual(await texts(), ['one /shop']);
    at = proxy.logs.length;
    consul.setHealth('shop-2', 'passing');
    await until(at, async () => (await texts()).length === 2);
    assert.equal((await get(web, '/hidden')).status, 404, 'exposedByDefault: false');
  });

  it('reports a tag typo with the service and the tag', async () => {
    const from = proxy.logs.length;
    consul.register({
      id: 'typo-1',
      name: 'typo',
      address: '127.0.0.1',
      port: b1.port,
      tags: ['traefik.enable=true', 'traefik.http.routers.typo.rulee=PathPrefix(`/typo`)'],
    });
    const line = await waitForLogFrom(
      proxy,
      from,
      (l) => typeof l.issue === 'string' && l.issue.includes('traefik.http.routers.typo.rulee'),
    );
    assert.match(
      String(line.issue),
      /^consul service typo label traefik\.http\.routers\.typo\.rulee: .*unknown key/,
    );
  });

  // Traefik's label decoder (paerser) splits a list value on commas, as its documentation writes
  // `errors.status=500,501,503,505-599`.
  it('reads a comma-separated status list in an errors middleware label', async () => {
    const from = proxy.logs.length;
    consul.register({
      id: 'oops-1',
      name: 'oops',
      address: '127.0.0.1',
      port: b3.port,
      tags: [
        'traefik.enable=true',
        'traefik.http.routers.oops.rule=PathPrefix(`/oops`)',
        'traefik.http.routers.oops.middlewares=pages',
        'traefik.http.middlewares.pages.errors.status=418, 500-599',
        'traefik.http.middlewares.pages.errors.service=oops',
        'traefik.http.middlewares.pages.errors.query=/page/{status}',
      ],
    });
    await until(from, async () => (await get(web, '/oops/ok')).status === 200);
    assert.deepEqual(await get(web, '/oops/fail/503'), { status: 503, text: 'page /page/503' });
    assert.deepEqual(await get(web, '/oops/fail/418'), { status: 418, text: 'page /page/418' });
    assert.deepEqual(await get(web, '/oops/fail/404'), { status: 404, text: 'failed' });
  });

  it('keeps serving while Consul is gone, shows it down, and recovers by itself', async () => {
    let from = proxy.logs.length;
    await consul.stop();
    await waitForLogFrom(
      proxy,
      from,
      (l) =>
        l.msg === 'provider failed: its last configuration keeps serving' && l.provider === 'consulcatalog',
    );
    const states = (await (await fetch(`http://127.0.0.1:${admin}/api/providers`)).json()) as {
      name: string;
      phase: string;
    }[];
    assert.equal(states.find((s) => s.name === 'consulcatalog')?.phase, 'down');
    assert.equal((await get(web, '/shop')).status, 200, 'the last good configuration');
    assert.match((await get(admin, '/metrics')).text, /^traffic_provider_up\{provider="consulcatalog"\} 0$/m);
    from = proxy.logs.length;
    await consul.start();
    await waitForLogFrom(
      proxy,
      from,
      (l) => l.msg === 'provider recovered' && l.provider === 'consulcatalog',
      60_000,
    );
    const at = proxy.logs.length;
    consul.deregister('shop-1');
    consul.deregister('shop-2');
    await until(at, async () => (await get(web, '/shop')).status === 404);
    assert.match((await get(admin, '/metrics')).text, /^traffic_provider_up\{provider="consulcatalog"\} 1$/m);
  });
});
