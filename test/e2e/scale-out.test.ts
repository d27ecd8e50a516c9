/**
 * The scale-out test of issue 14 §3: three proxy processes share one etcd (their routes), one
 * Redis (a global rate limit) and their ACME storage (etcd too: `etcd://…/traffic/acme`), with
 * pebble as the CA, all on loopback.
 *
 * Pebble's validator reaches the instances through a layer-4 balancer, as a CA reaches a cluster
 * behind one address. The balancer reads the name's lock in etcd when the validator connects and
 * sends it to an instance that does NOT hold it: the challenge is answered by an instance that
 * did not order the certificate, which only works when challenges are shared.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { acmeContext, hasDomain, untilTrusted } from '../helpers/acme-fetch.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type Etcd, startEtcd } from '../helpers/etcd.ts';
import { freePort, type Pebble, startPebble } from '../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Redis, startRedis } from '../helpers/redis.ts';
import { startTcpBalancer, type TcpBalancer } from '../helpers/tcp-balancer.ts';
import { requireTools } from '../helpers/tools.ts';

const INSTANCES = 3;
const RATE = 100; // per second, for all instances together
const BURST = 20;
const SECONDS = 4;

describe('three instances sharing etcd, Redis and ACME storage (scale-out e2e)', () => {
  let dir: string;
  let etcd: Etcd;
  let redis: Redis;
  let backend: Backend;
  let ca: Pebble;
  let root: string;
  let balancers: TcpBalancer[] = [];
  let proxies: ProxyProcess[] = [];
  /** The lock the balancer reads: the name whose certificate is being obtained. */
  let currentLock = '';

  /** The etcd value of `key` (the test's own read of the store the instances share). */
  const etcdGet = async (key: string): Promise<string | undefined> => {
    const r = await fetch(`http://${etcd.endpoint}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from(key).toString('base64') }),
    });
    const v = ((await r.json()) as { kvs?: { value?: string }[] }).kvs?.[0]?.value;
    return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
  };
  /** Which instance holds `lock` now (by the pid in its owner id), or -1. */
  const holder = async (lock: string): Promise<number> => {
    const v = await etcdGet(lock).catch(() => undefined);
    const pid = /-(\d+)-[0-9a-f]{6}$/.exec(
      String((v && (JSON.parse(v) as { owner?: string }).owner) ?? ''),
    )?.[1];
    return proxies.findIndex((p) => String(p.child.pid) === pid);
  };

  before(async () => {
    // Every program first: a missing one fails here at once, naming its package.
    requireTools('etcd', 'redis-server', 'pebble', 'pebble-challtestsrv', 'openssl');
    dir = mkdtempSync(join(tmpdir(), 'scale-out-'));
    [etcd, redis, backend] = await Promise.all([
      startEtcd(),
      startRedis(),
      startBackend((req, res) => res.end(`backend ${req.url}`)),
    ]);
    await etcd.put('traefik/http/services/app/loadbalancer/servers/0/url', backend.url);
    // The balancer in front: validation connections go to an instance other than the lock holder.
    const [httpPort, tlsPort] = await Promise.all([freePort(), freePort()]);
    let next = 0;
    const away = (entryPoint: string, lock: () => string) => async () => {
      const h = await holder(lock());
      const i = h === -1 ? next++ % INSTANCES : (h + 1) % INSTANCES;
      return { port: proxies[i]!.ports[entryPoint]!, note: `holder ${h} → instance ${i}` };
    };
    balancers = await Promise.all([
      startTcpBalancer(
        httpPort,
        away('web', () => currentLock),
      ),
      startTcpBalancer(
        tlsPort,
        away('websecure', () => currentLock),
      ),
    ]);
    ca = await startPebble({ httpPort, tlsPort });
    root = await ca.rootCertificate();
    const caFile = join(dir, 'pebble-ca.pem');
    writeFileSync(caFile, ca.serverCaPem);
    const resolver = (challenge: string): string => `
    acme:
      email: "ops@cluster.test"
      caServer: "${ca.directoryUrl}"
      storage: "etcd://${etcd.endpoint}/traffic/acme"
      caCertificates: ["${caFile}"]
      keyType: EC256 # RSA-4096, the default, takes seconds a key; not what this tests
      ${challenge}`;
    const config = `entryPoints:
  web:
    address: "127.0.0.1:0"
  websecure:
    address: "127.0.0.1:0"
    http:
      tls: {}
log: { level: INFO }
providers:
  providersThrottleDuration: 50ms
  etcd:
    endpoints: ["${etcd.endpoint}"]
certificatesResolvers:
  le-http:${resolver('httpChallenge: { entryPoint: web }')}
  le-alpn:${resolver('tlsChallenge: {}')}
`;
    proxies = await Promise.all(Array.from({ length: INSTANCES }, () => startProxy({ config })));
  });
  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await Promise.all(balancers.map((b) => b.close()));
    await Promise.all([backend?.close(), etcd?.close(), redis?.close(), ca?.close()]);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const status = async (p: ProxyProcess, path: string): Promise<number> =>
    (await fetch(`http://127.0.0.1:${p.ports['web']}${path}`)).status;

  it('serves a route put in etcd on all three instances', async (t) => {
    const put = performance.now();
    await etcd.put('traefik/http/routers/shared/rule', 'PathPrefix(`/shared`)');
    await etcd.put('traefik/http/routers/shared/service', 'app');
    // Measured, not asserted (a loaded machine may be slower): each instance polled until it serves.
    const served = await Promise.all(
      proxies.map(async (p, i) => {
        for (;;) {
          if ((await status(p, '/shared')) === 200) return performance.now() - put;
          if (performance.now() - put > 15_000) assert.fail(`instance ${i} never served /shared`);
          await new Promise((r) => setTimeout(r, 10));
        }
      }),
    );
    t.diagnostic(
      `route served by all ${INSTANCES} instances ${Math.max(...served).toFixed(0)} ms after the put (each: ${served.map((s) => s.toFixed(0)).join(', ')} ms)`,
    );
  });

  for (const [kind, resolver, name] of [
    ['http-01', 'le-http', 'cluster-http.test'],
    ['tls-alpn-01', 'le-alpn', 'cluster-alpn.test'],
  ] as const) {
    it(`obtains one certificate with one order for a name all three want (${kind}, answered by an instance that did not order)`, async () => {
      const lock = `traffic/acme/${resolver}/locks/${name}`;
      currentLock = lock;
      const routedBefore = balancers.map((b) => b.routed.length);
      const ordersBefore = (ca.output().match(/POST \/order-plz/g) ?? []).length;
      await etcd.put(`traefik/http/routers/${resolver}/rule`, `Host(\`${name}\`)`);
      await etcd.put(`traefik/http/routers/${resolver}/entrypoints/0`, 'websecure');
      await etcd.put(`traefik/http/routers/${resolver}/service`, 'app');
      await etcd.put(`traefik/http/routers/${resolver}/tls/certresolver`, resolver);
      const context = (): string =>
        proxies.map((p) => acmeContext(p, undefined)).join('\n') + acmeContext(undefined, ca);
      // Requested through every instance: each presents pebble's certificate for the name.
      const got = await Promise.all(
        proxies.map((p) =>
          untilTrusted(p.ports['websecure']!, name, root, {
            what: `pebble's certificate for ${name}`,
            ms: 30_000,
          }).catch((e: Error) => assert.fail(`${e.message}${context()}`)),
        ),
      );
      for (const g of got) {
        assert.equal(g.status, 200);
        assert.equal(g.body, 'backend /');
      }
      assert.equal(new Set(got.map((g) => g.fingerprint)).size, 1, 'one certificate served by all');
      // One order at the CA, obtained by one instance, read from the store by the others.
      const orders = (ca.output().match(/POST \/order-plz/g) ?? []).length - ordersBefore;
      assert.equal(orders, 1, `orders at pebble for ${name}${context()}`);
      const obtained = proxies.map(
        (p) => p.logs.filter((l) => l.msg === 'acme certificate obtained' && hasDomain(l, name)).length,
      );
      assert.deepEqual(obtained.toSorted(), [0, 0, 1], `instances that obtained ${name}`);
      const owner = obtained.indexOf(1);
      for (const [i, p] of proxies.entries()) {
        if (i === owner) continue;
        await p.waitForLog(
          (l) => l.msg === 'acme certificate from shared storage' && hasDomain(l, name),
          5_000,
        );
      }
      // The store: the certificate, who obtained it, no lock left behind.
      const stored = JSON.parse((await etcdGet(`traffic/acme/${resolver}/certificates/${name}`)) ?? '{}') as {
        domains?: string[];
        obtainedBy?: string;
      };
      assert.deepEqual(stored.domains, [name]);
      assert.match(String(stored.obtainedBy), new RegExp(`-${proxies[owner]!.child.pid}-`));
      // Released (an instance that found it free may hold it a moment to read the certificate).
      for (let n = 0; (await etcdGet(lock)) !== undefined; n++) {
        if (n > 100) assert.fail('the lock was never released');
        await new Promise((r) => setTimeout(r, 50));
      }
      // The validator's connections went to instances other than the one ordering.
      const routed = balancers.flatMap((b, k) => b.routed.slice(routedBefore[k]));
      assert.ok(routed.length > 0, `pebble reached the cluster${context()}`);
      for (const r of routed)
        assert.match(r.note, new RegExp(`^holder ${owner} → instance (?!${owner}$)\\d$`), r.note);
    });
  }

  it(`holds a global rateLimit.redis of ${RATE} req/s across the three (95–105 req/s admitted)`, async (t) => {
    const m = proxies.map((p) => p.logs.length);
    await etcd.put('traefik/http/middlewares/global/ratelimit/average', String(RATE));
    await etcd.put('traefik/http/middlewares/global/ratelimit/period', '1s');
    await etcd.put('traefik/http/middlewares/global/ratelimit/burst', String(BURST));
    await etcd.put('traefik/http/middlewares/global/ratelimit/redis/endpoints/0', redis.endpoint);
    await etcd.put('traefik/http/routers/limited/rule', 'PathPrefix(`/limited`)');
    await etcd.put('traefik/http/routers/limited/middlewares/0', 'global');
    await etcd.put('traefik/http/routers/limited/service', 'app');
    await Promise.all(
      proxies.map(async (p, i) => {
        while ((await status(p, '/limited')) === 404)
          await p.waitForLog((l) => l.msg === 'configuration applied' && p.logs.indexOf(l) >= m[i]!, 10_000);
      }),
    );
    // A full bucket to start from: the probes above took tokens.
    await redis.command('FLUSHDB');
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const get = (port: number): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/limited', agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    const admitted = [0, 0, 0];
    const refused = [0, 0, 0];
    const other: number[] = [];
    const start = performance.now();
    const end = start + SECONDS * 1000;
    // The limit ran at least from the first answer to the last request sent, and at most from the
    // first request sent to the last answer: the admitted rate is checked against both windows,
    // so that slow answers on a loaded machine cannot make a right count look wrong.
    let firstAnswer = Number.POSITIVE_INFINITY;
    let lastSent = start;
    let lastAnswer = start;
    const worker = async (i: number): Promise<void> => {
      const port = proxies[i]!.ports['web']!;
      while (performance.now() < end) {
        lastSent = Math.max(lastSent, performance.now());
        const s = await get(port);
        const now = performance.now();
        firstAnswer = Math.min(firstAnswer, now);
        lastAnswer = Math.max(lastAnswer, now);
        if (s === 200) admitted[i]!++;
        else if (s === 429) refused[i]!++;
        else other.push(s);
      }
    };
    await Promise.all(Array.from({ length: 12 }, (_, k) => worker(k % INSTANCES)));
    agent.destroy();
    assert.deepEqual(other, []);
    const total = admitted.reduce((a, b) => a + b, 0);
    const shortS = (lastSent - firstAnswer) / 1000;
    const longS = (lastAnswer - start) / 1000;
    const rateHigh = (total - BURST) / shortS;
    const rateLow = (total - BURST) / longS;
    t.diagnostic(
      `admitted ${total} (${admitted.join('/')}), refused ${refused.join('/')}: ${rateLow.toFixed(1)}–${rateHigh.toFixed(1)} req/s over ${longS.toFixed(2)}/${shortS.toFixed(2)} s`,
    );
    for (let i = 0; i < INSTANCES; i++)
      assert.ok(
        admitted[i]! > 0 && refused[i]! > 0,
        `instance ${i}: ${admitted[i]} admitted, ${refused[i]} refused`,
      );
    assert.ok(
      rateHigh >= RATE * 0.95 && rateLow <= RATE * 1.05,
      `admitted ${rateLow.toFixed(1)}–${rateHigh.toFixed(1)} req/s, expected within ${RATE * 0.95}–${RATE * 1.05}`,
    );
  });

  it('keeps serving the certificates while the ACME store is down, and says so', async () => {
    const m = proxies.map((p) => p.logs.length);
    await etcd.stop();
    await Promise.all(
      proxies.map((p, i) =>
        p.waitForLog(
          (l) =>
            l.msg === 'acme shared storage unreachable; serving the certificates held' &&
            p.logs.indexOf(l) >= m[i]!,
          10_000,
        ),
      ),
    );
    for (const p of proxies) {
      const g = await untilTrusted(p.ports['websecure']!, 'cluster-http.test', root, { ms: 5_000 });
      assert.equal(g.status, 200);
    }
    const m2 = proxies.map((p) => p.logs.length);
    await etcd.start();
    await Promise.all(
      proxies.map((p, i) =>
        p.waitForLog(
          (l) => l.msg === 'acme shared storage reachable again' && p.logs.indexOf(l) >= m2[i]!,
          10_000,
        ),
      ),
    );
  });
});
