/**
 * The KV providers over TLS and with credentials, in the real proxy, against real engines made
 * strict for the test: etcd with HTTPS, client certificates required (--client-cert-auth) and
 * authentication on; redis-server on its TLS port only, client certificates required and a
 * password; the Consul KV API over HTTPS with a client certificate required and ACLs (a token);
 * ZooKeeper with nodes readable only by a digest identity. Certificates come from a CA made in
 * the test. One proxy has the right CA, certificates and credentials and serves the routes of all
 * four; another has a wrong CA (etcd), no client certificate (Consul), a wrong password (Redis,
 * ZooKeeper): each of its providers is down in /api/providers and the metrics with an error that
 * names the cause.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestPki } from '../../src/upstream/test-pki.ts';
import { get, type KvEngines, type ProviderJson, startKvEngines } from '../helpers/kv-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { waitForLogFrom } from '../helpers/wait.ts';

describe('KV providers over TLS with credentials (e2e)', () => {
  let pki: TestPki;
  let other: TestPki;
  let kv: KvEngines;
  let good: ProxyProcess;
  let bad: ProxyProcess;

  const config = (p: {
    etcdCa: string;
    consulClientCert: boolean;
    redisPassword: string;
    zkPassword: string;
  }): string => {
    const client = `      cert: "${clientCert.certFile}"\n      key: "${clientCert.keyFile}"\n`;
    return kv.proxyConfig({
      etcd: `    username: traffic\n    password: etcd-pw\n    tls:\n      ca: "${p.etcdCa}"\n${client}`,
      redis: `    password: "${p.redisPassword}"\n    tls:\n      ca: "${pki.ca.certFile}"\n${client}`,
      consul: `    token: consul-token\n    tls:\n      ca: "${pki.ca.certFile}"\n${p.consulClientCert ? client : ''}`,
      zooKeeper: `    username: traffic\n    password: "${p.zkPassword}"\n`,
    });
  };
  let clientCert: ReturnType<TestPki['issue']>;

  before(async () => {
    pki = new TestPki('KV CA');
    other = new TestPki('Other CA');
    const server = pki.issue('kv', ['127.0.0.1', 'localhost']);
    // No Common Name: etcd's JSON gateway refuses a client certificate with one when auth is on.
    clientCert = pki.issue('traffic', [], { noCommonName: true });
    const tls = { ca: pki.ca, server, client: clientCert };
    kv = await startKvEngines({
      etcd: { tls, user: { name: 'traffic', password: 'etcd-pw' } },
      redis: { tls, password: 'redis-pw' },
      consul: { tls, token: 'consul-token' },
      zk: { digest: { user: 'traffic', password: 'zk-pw' } },
    });
    await kv.redis.command('SET', 'traefik/http/routers/from-redis/rule', 'PathPrefix(`/redis`)');
    await kv.redis.command('SET', 'traefik/http/routers/from-redis/service', 'app@etcd');
    kv.consul.put('traefik/http/routers/from-consul/rule', 'PathPrefix(`/consul`)');
    kv.consul.put('traefik/http/routers/from-consul/service', 'app@etcd');
    await kv.zk.put('traefik/http/routers/from-zk/rule', 'PathPrefix(`/zk`)');
    await kv.zk.put('traefik/http/routers/from-zk/service', 'app@etcd');
    [good, bad] = await Promise.all([
      startProxy({
        config: config({
          etcdCa: pki.ca.certFile,
          consulClientCert: true,
          redisPassword: 'redis-pw',
          zkPassword: 'zk-pw',
        }),
      }),
      startProxy({
        config: config({
          etcdCa: other.ca.certFile,
          consulClientCert: false,
          redisPassword: 'wrong',
          zkPassword: 'wrong',
        }).concat(
          // A route of its own (a file provider): the proxy applies a configuration, so its API
          // answers, while none of the KV providers gets in.
          'http:\n  routers:\n    up: { rule: "PathPrefix(`/up`)", service: noop@internal }\n',
        ),
      }),
    ]);
  });

  after(async () => {
    await Promise.all([good?.stop(), bad?.stop()]);
    await kv?.close();
    pki?.remove();
    other?.remove();
  });

  const providers = async (p: ProxyProcess): Promise<ProviderJson[]> =>
    (await fetch(`http://127.0.0.1:${p.ports['traefik']}/api/providers`)).json() as Promise<ProviderJson[]>;

  it('serves the routes of etcd, Redis, Consul and ZooKeeper read over TLS with credentials', async () => {
    const names = ['etcd', 'redis', 'consul', 'zookeeper'];
    const paths = ['/etcd', '/redis', '/consul', '/zk'];
    // Each provider delivers on its own, and is 'ready' a moment before its configuration is
    // applied (after the throttle); one that fails once comes back with the same configuration,
    // so no new "configuration applied" tells of it. Polled until all four serve and are ready.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const replies = await Promise.all(paths.map((p) => get(good.ports['web'] ?? 0, p)));
      const ready = (await providers(good)).filter((p) => names.includes(p.name) && p.phase === 'ready');
      const served = replies.every((r, i) => r.status === 200 && r.text === `backend ${paths[i]}`);
      if (served && ready.length === 4) break;
      assert.ok(
        Date.now() < deadline,
        `not all served and ready: ${JSON.stringify({ replies, ready: ready.map((p) => p.name) })}`,
      );
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('shows a wrong CA, a missing client certificate and wrong passwords as providers down, with the cause', async () => {
    const expected: Record<string, RegExp> = {
      etcd: /self-signed certificate in certificate chain|unable to verify/,
      consul: /certificate required|bad certificate/i,
      redis: /WRONGPASS/,
      zookeeper: /NOAUTH/,
    };
    for (const name of Object.keys(expected)) {
      await waitForLogFrom(
        bad,
        0,
        // They never gave a configuration: the supervisor says so (not "its last keeps serving").
        (l) =>
          l.msg === 'provider failed before giving any configuration: none of its routers serve yet' &&
          l.provider === name,
      );
    }
    // A failed provider is retried with backoff: while a retry runs its phase reads 'starting'
    // (CI caught one such moment), so each one is polled until it is seen down.
    for (const [name, cause] of Object.entries(expected)) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const p = (await providers(bad)).find((x) => x.name === name);
        if (p?.phase === 'down') {
          assert.match(p.lastError ?? '', cause, name);
          break;
        }
        assert.ok(Date.now() < deadline, `${name} never seen down (phase ${p?.phase})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const metrics = await (await fetch(`http://127.0.0.1:${bad.ports['traefik']}/metrics`)).text();
    for (const name of Object.keys(expected))
      assert.match(metrics, new RegExp(`^traffic_provider_up\\{provider="${name}"\\} 0$`, 'm'));
    assert.equal((await get(bad.ports['web'] ?? 0, '/etcd')).status, 404);
  });
});
