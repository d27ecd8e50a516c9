/**
 * Several proxy processes configured from the same etcd and Redis (issue 14 §3, first part):
 * a route written once is served by all of them; etcd going away leaves every instance serving
 * its last good configuration, and each recovers by itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type Etcd, startEtcd } from '../helpers/etcd.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Redis, startRedis } from '../helpers/redis.ts';
import { waitForLogFrom } from '../helpers/wait.ts';

const INSTANCES = 3;

describe('three instances sharing etcd and Redis (e2e)', () => {
  let backend: Backend;
  let etcd: Etcd;
  let redis: Redis;
  let proxies: ProxyProcess[] = [];

  before(async () => {
    [backend, etcd, redis] = await Promise.all([
      startBackend((req, res) => res.end(`backend ${req.url}`)),
      startEtcd(),
      startRedis(),
    ]);
    await etcd.put('traefik/http/services/app/loadbalancer/servers/0/url', backend.url);
    const config = `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
providers:
  providersThrottleDuration: 50ms
  etcd:
    endpoints: ["${etcd.endpoint}"]
  redis:
    endpoints: ["${redis.endpoint}"]
`;
    proxies = await Promise.all(Array.from({ length: INSTANCES }, () => startProxy({ config })));
  });

  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await Promise.all([backend?.close(), etcd?.close(), redis?.close()]);
  });

  const get = async (p: ProxyProcess, path: string): Promise<number> =>
    (await fetch(`http://127.0.0.1:${p.port}${path}`)).status;
  const applied = (l: LogLine): boolean => l.msg === 'configuration applied';
  /** Every instance serves `path` with `status` after its next applied configurations. */
  const everywhere = async (marks: number[], path: string, status = 200): Promise<void> => {
    await Promise.all(
      proxies.map(async (p, i) => {
        let at = marks[i]!;
        for (let n = 0; n < 6 && (await get(p, path)) !== status; n++) {
          const l = await waitForLogFrom(p, at, applied);
          at = p.logs.indexOf(l) + 1;
        }
        assert.equal(await get(p, path), status, `instance ${i} ${path}`);
      }),
    );
  };
  const marks = (): number[] => proxies.map((p) => p.logs.length);

  it('serves a route written once in etcd on every instance', async () => {
    const m = marks();
    await etcd.put('traefik/http/routers/shared/rule', 'PathPrefix(`/shared`)');
    await etcd.put('traefik/http/routers/shared/service', 'app');
    await everywhere(m, '/shared');
  });

  it('serves a route written once in Redis on every instance, with a service from etcd', async () => {
    const m = marks();
    await redis.command(
      'MSET',
      'traefik/http/routers/cached/rule',
      'PathPrefix(`/cached`)',
      'traefik/http/routers/cached/service',
      'app@etcd',
    );
    await everywhere(m, '/cached');
  });

  it('keeps every instance serving while etcd is down, and each recovers by itself', async () => {
    let m = marks();
    await etcd.stop();
    await Promise.all(
      proxies.map((p, i) =>
        waitForLogFrom(
          p,
          m[i]!,
          (l) => l.msg === 'provider failed: its last configuration keeps serving' && l.provider === 'etcd',
        ),
      ),
    );
    for (const p of proxies) assert.equal(await get(p, '/shared'), 200);
    m = marks();
    await etcd.start();
    await Promise.all(
      proxies.map((p, i) =>
        waitForLogFrom(p, m[i]!, (l) => l.msg === 'provider recovered' && l.provider === 'etcd', 90_000),
      ),
    );
    m = marks();
    await etcd.delPrefix('traefik/http/routers/shared/');
    await everywhere(m, '/shared', 404);
  });
});
