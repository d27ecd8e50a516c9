/**
 * The KV providers in the real proxy, against real engines: etcd (Debian's etcd-server) and Redis
 * (redis-server), and a Consul KV API on loopback (test/helpers/fake-consul.ts). Keys in Traefik's
 * layout become routes; a router in Redis uses a service of etcd (`app@etcd`); a typo is reported
 * with its key; etcd killed: the last good configuration keeps serving, the provider shows down in
 * /api/providers and the metrics, and recovers by itself when etcd is back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Etcd } from '../helpers/etcd.ts';
import type { FakeConsul } from '../helpers/fake-consul.ts';
import { get, type KvEngines, type ProviderJson, startKvEngines } from '../helpers/kv-engines.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import type { Redis } from '../helpers/redis.ts';
import { waitForLogFrom } from '../helpers/wait.ts';
import type { ZooKeeper } from '../helpers/zookeeper.ts';

describe('KV providers: etcd, Redis, Consul, ZooKeeper (e2e)', () => {
  let kv: KvEngines;
  let etcd: Etcd;
  let redis: Redis;
  let consul: FakeConsul;
  let zk: ZooKeeper;
  let proxy: ProxyProcess;
  let web = 0;
  let admin = 0;

  before(async () => {
    kv = await startKvEngines();
    ({ etcd, redis, consul, zk } = kv);
    proxy = await startProxy({ config: kv.proxyConfig() });
    web = proxy.ports['web'] ?? 0;
    admin = proxy.ports['traefik'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await kv?.close();
  });

  const providers = async (): Promise<ProviderJson[]> =>
    (await fetch(`http://127.0.0.1:${admin}/api/providers`)).json() as Promise<ProviderJson[]>;
  const applied = (l: LogLine): boolean => l.msg === 'configuration applied';
  /**
   * The answer for `path` once an applied configuration serves it: a route written as several
   * keys may arrive as several updates (the first ones with the router incomplete).
   */
  const servedAfter = async (from: number, path: string): Promise<{ status: number; text: string }> => {
    let at = from;
    for (let i = 0; i < 5; i++) {
      const l = await waitForLogFrom(proxy, at, applied);
      at = proxy.logs.indexOf(l) + 1;
      const r = await get(web, path);
      if (r.status === 200) return r;
    }
    return get(web, path);
  };

  it('serves the routes of etcd at start', async () => {
    assert.deepEqual(await get(web, '/etcd'), { status: 200, text: 'backend /etcd' });
  });

  it('serves a route put in Redis that uses a service of etcd', async () => {
    const from = proxy.logs.length;
    await redis.command(
      'MSET',
      'traefik/http/routers/from-redis/rule',
      'PathPrefix(`/redis`)',
      'traefik/http/routers/from-redis/service',
      'app@etcd',
    );
    assert.deepEqual(await servedAfter(from, '/redis'), { status: 200, text: 'backend /redis' });
  });

  it('serves a route put in Consul, and withdraws it when its keys are deleted', async () => {
    let from = proxy.logs.length;
    consul.put('traefik/http/routers/from-consul/rule', 'PathPrefix(`/consul`)');
    consul.put('traefik/http/routers/from-consul/service', 'app@etcd');
    assert.deepEqual(await servedAfter(from, '/consul'), { status: 200, text: 'backend /consul' });
    from = proxy.logs.length;
    consul.del('traefik/http/routers/from-consul/', true);
    await waitForLogFrom(proxy, from, applied);
    assert.equal((await get(web, '/consul')).status, 404);
  });

  it('reports a typo with the etcd key that holds it', async () => {
    const from = proxy.logs.length;
    await etcd.put('traefik/http/routers/typo/rule', 'PathPrefix(`/typo`)');
    await etcd.put('traefik/http/routers/typo/servce', 'app');
    const line = await waitForLogFrom(
      proxy,
      from,
      (l) => typeof l.issue === 'string' && l.issue.includes('etcd key traefik/http/routers/typo/servce'),
    );
    assert.match(String(line.issue), /unknown key `servce` \(did you mean `service`\?\)/);
    await etcd.delPrefix('traefik/http/routers/typo/');
  });

  it('keeps serving while etcd is down, shows it in the API and the metrics, and recovers by itself', async () => {
    let from = proxy.logs.length;
    await etcd.stop();
    await waitForLogFrom(
      proxy,
      from,
      (l) => l.msg === 'provider failed: its last configuration keeps serving' && l.provider === 'etcd',
    );
    const down = (await providers()).find((p) => p.name === 'etcd');
    assert.equal(down?.phase, 'down');
    assert.notEqual(down?.lastError, null);
    assert.deepEqual(
      await get(web, '/etcd'),
      { status: 200, text: 'backend /etcd' },
      'the last good configuration',
    );
    assert.deepEqual(
      await get(web, '/redis'),
      { status: 200, text: 'backend /redis' },
      'app@etcd still there',
    );
    const metrics = (await get(admin, '/metrics')).text;
    assert.match(metrics, /^traffic_provider_up\{provider="etcd"\} 0$/m);
    assert.match(metrics, /^traffic_provider_up\{provider="redis"\} 1$/m);

    from = proxy.logs.length;
    await etcd.start();
    await waitForLogFrom(proxy, from, (l) => l.msg === 'provider recovered' && l.provider === 'etcd', 90_000);
    assert.equal((await providers()).find((p) => p.name === 'etcd')?.phase, 'ready');
    from = proxy.logs.length;
    await etcd.put('traefik/http/routers/after/rule', 'PathPrefix(`/after`)');
    await etcd.put('traefik/http/routers/after/service', 'app');
    assert.deepEqual(await servedAfter(from, '/after'), { status: 200, text: 'backend /after' });
  });

  it('serves a route put in ZooKeeper, and withdraws it when its nodes are deleted', async () => {
    let from = proxy.logs.length;
    await zk.put('traefik/http/routers/from-zk/rule', 'PathPrefix(`/zk`)');
    await zk.put('traefik/http/routers/from-zk/service', 'app@etcd');
    assert.deepEqual(await servedAfter(from, '/zk'), { status: 200, text: 'backend /zk' });
    from = proxy.logs.length;
    await zk.delTree('traefik/http/routers/from-zk');
    await waitForLogFrom(proxy, from, applied);
    assert.equal((await get(web, '/zk')).status, 404);
  });

  it('keeps serving while Redis, Consul or ZooKeeper is down, shows it in the API and the metrics, and each recovers', async () => {
    await redis.command('SET', 'traefik/http/routers/r-fault/rule', 'PathPrefix(`/r-fault`)');
    await redis.command('SET', 'traefik/http/routers/r-fault/service', 'app@etcd');
    consul.put('traefik/http/routers/c-fault/rule', 'PathPrefix(`/c-fault`)');
    consul.put('traefik/http/routers/c-fault/service', 'app@etcd');
    await zk.put('traefik/http/routers/z-fault/rule', 'PathPrefix(`/z-fault`)');
    await zk.put('traefik/http/routers/z-fault/service', 'app@etcd');
    for (const path of ['/r-fault', '/c-fault', '/z-fault']) {
      assert.equal((await servedAfter(proxy.logs.length - 1, path)).status, 200, path);
    }
    const engines = [
      { name: 'redis', path: '/r-fault', stop: () => redis.stop(), start: () => redis.start() },
      { name: 'consul', path: '/c-fault', stop: () => consul.stop(), start: () => consul.start() },
      { name: 'zookeeper', path: '/z-fault', stop: () => zk.stop(), start: () => zk.start() },
    ];
    for (const e of engines) {
      let from = proxy.logs.length;
      await e.stop();
      await waitForLogFrom(
        proxy,
        from,
        (l) => l.msg === 'provider failed: its last configuration keeps serving' && l.provider === e.name,
        30_000,
      );
      assert.equal((await providers()).find((p) => p.name === e.name)?.phase, 'down', e.name);
      assert.equal((await get(web, e.path)).status, 200, `${e.name}: the last good configuration`);
      assert.match(
        (await get(admin, '/metrics')).text,
        new RegExp(`^traffic_provider_up\\{provider="${e.name}"\\} 0$`, 'm'),
      );
      from = proxy.logs.length;
      await e.start();
      await waitForLogFrom(
        proxy,
        from,
        (l) => l.msg === 'provider recovered' && l.provider === e.name,
        90_000,
      );
      assert.equal((await providers()).find((p) => p.name === e.name)?.phase, 'ready', e.name);
    }
  });
});
