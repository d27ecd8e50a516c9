/**
 * The Kubernetes CRD provider's layer-4 kinds in the real proxy, against the API server on
 * loopback (test/helpers/fake-kube.ts) and real backends: an IngressRouteTCP created with kubectl
 * carries redis-cli to a real redis-server through a cleartext HostSNI(`*`) route, and deleting
 * it (kubectl again) removes the route; an IngressRouteTCP with TLS passthrough chooses by SNI and
 * a node TLS client sees the backend's own certificate; a MiddlewareTCP ipAllowList refuses the
 * client; an IngressRouteUDP answers a node dgram client from a UDP echo server; an
 * IngressRouteTCP naming a missing Service is reported by its kind and name.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import {
  type FakeKube,
  type KubeObj,
  kubectl as kubectlWith,
  startFakeKube,
  writeKubeconfig,
} from '../helpers/fake-kube.ts';
import { crdObject, endpointSliceFor, serviceFor } from '../helpers/kube-objects.ts';
import {
  type RedisServer,
  redisCli,
  startEchoServer,
  startRedis,
  startTlsBackend,
  type TcpBackend,
  tcpExchange,
  udpAsk,
} from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { TestPki } from '../helpers/tls-certs.ts';
import { untilApplied, waitForLogFrom } from '../helpers/wait.ts';

const PING = '*1\r\n$4\r\nPING\r\n';

/** A Service `name` with one port, `servicePort` (named `main`), whose one endpoint is 127.0.0.1:`port`. */
function backendService(ns: string, name: string, servicePort: number, port: number): KubeObj[] {
  const svc = serviceFor(ns, name, servicePort);
  (svc['spec'] as { ports: { name: string }[] }).ports[0]!.name = 'main';
  const slice = endpointSliceFor(ns, name, ['127.0.0.1'], port);
  (slice['ports'] as { name: string }[])[0]!.name = 'main';
  return [svc, slice];
}

describe('Kubernetes CRD provider, TCP and UDP kinds (e2e, API server on loopback, kubectl)', () => {
  let kube: FakeKube;
  let proxy: ProxyProcess;
  let dir: string;
  let pki: TestPki;
  let redis: RedisServer;
  let tlsBackend: TcpBackend;
  let echo: TcpBackend;
  let udpEcho: UdpSocket;

  const kubectl = (...args: string[]): Promise<string> => kubectlWith(join(dir, 'kubeconfig'), ...args);

  before(async () => {
    pki = new TestPki('Backend CA');
    const dbCert = pki.issue('db.test', ['db.test']);
    [kube, redis, tlsBackend, echo] = await Promise.all([
      startFakeKube(),
      startRedis(),
      startTlsBackend(dbCert, 'echo', 'db backend'),
      startEchoServer(),
    ]);
    udpEcho = createSocket('udp4');
    udpEcho.on('message', (msg, r) =>
      udpEcho.send(Buffer.concat([Buffer.from('echo:'), msg]), r.port, r.address),
    );
    udpEcho.bind(0, '127.0.0.1');
    await once(udpEcho, 'listening');
    dir = mkdtempSync(join(tmpdir(), 'kube-l4-'));
    writeKubeconfig(dir, kube.url, 'db');
    for (const o of [
      ...backendService('db', 'redis', 6379, redis.port),
      ...backendService('db', 'pg', 5432, tlsBackend.port),
      ...backendService('db', 'echo', 7, echo.port),
      ...backendService('net', 'udp-echo', 7, udpEcho.address().port),
    ])
      kube.apply(o);
    proxy = await startProxy({
      config: `entryPoints:
  redis:
    address: "127.0.0.1:0"
  websecure:
    address: "127.0.0.1:0"
  guarded:
    address: "127.0.0.1:0"
  udp:
    address: "127.0.0.1:0/udp"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: { insecure: true }
providers:
  providersThrottleDuration: 50ms
  kubernetesCRD:
    endpoint: "${kube.url}"
    token: test-token
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([kube?.close(), redis?.stop(), tlsBackend?.close(), echo?.close()]);
    udpEcho?.close();
    pki?.remove();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const port = (ep: string): number => proxy.ports[ep]!;
  const until = (from: number, check: () => Promise<boolean>): Promise<void> =>
    untilApplied(proxy, from, check);
  const pong = async (): Promise<boolean> =>
    (await tcpExchange(port('redis'), PING, { untilData: '+PONG', ms: 3_000 })).how === 'data';
  /** The router names of a section of the running configuration (the admin API's rawdata). */
  const routers = async (section: 'tcp' | 'udp'): Promise<string[]> => {
    const raw = (await (await fetch(`http://127.0.0.1:${port('traefik')}/api/rawdata`)).json()) as Record<
      string,
      { routers?: Record<string, unknown> } | undefined
    >;
    return Object.keys(raw[section]?.routers ?? {});
  };

  it('carries redis-cli to redis-server through an IngressRouteTCP created with kubectl', async () => {
    const from = proxy.logs.length;
    writeFileSync(
      join(dir, 'cache.json'),
      JSON.stringify(
        crdObject('IngressRouteTCP', 'db', 'cache', {
          entryPoints: ['redis'],
          routes: [{ match: 'HostSNI(`*`)', services: [{ name: 'redis', port: 6379 }] }],
        }),
      ),
    );
    await kubectl(
      'create',
      '--raw',
      '/apis/traefik.io/v1alpha1/namespaces/db/ingressroutetcps',
      '-f',
      join(dir, 'cache.json'),
    );
    await until(from, pong);
    assert.equal(redisCli(port('redis'), 'SET', 'through', 'kubernetes'), 'OK');
    assert.equal(redisCli(port('redis'), 'GET', 'through'), 'kubernetes');
    assert.equal(redisCli(port('redis'), 'PING'), 'PONG');
    const names = await routers('tcp');
    assert.ok(
      names.some((n) => /^db-cache-[0-9a-f]{20}@kubernetescrd$/.test(n)),
      names.join(),
    );
  });

  it('passes TLS through by SNI: the client sees the backend`s own certificate', async () => {
    const from = proxy.logs.length;
    kube.apply(
      crdObject('IngressRouteTCP', 'db', 'pg', {
        entryPoints: ['websecure'],
        routes: [{ match: 'HostSNI(`db.test`)', services: [{ name: 'pg', port: 5432 }] }],
        tls: { passthrough: true },
      }),
    );
    const hello = (): Promise<{ ok: boolean; cn?: string; echoed?: string; error?: string }> =>
      new Promise((resolve) => {
        const s = tlsConnect({
          port: port('websecure'),
          host: '127.0.0.1',
          servername: 'db.test',
          ca: pki.ca.certPem,
        });
        s.setTimeout(5_000, () => s.destroy(new Error('timeout')));
        s.once('secureConnect', () => {
          const cn = String(s.getPeerCertificate().subject?.CN ?? '');
          s.write('hello backend');
          s.once('data', (d: Buffer) => {
            resolve({ ok: s.authorized, cn, echoed: d.toString() });
            s.destroy();
          });
        });
        s.once('error', (e) => resolve({ ok: false, error: e.message }));
      });
    await until(from, async () => (await hello()).ok);
    assert.deepEqual(await hello(), { ok: true, cn: 'db.test', echoed: 'hello backend' });
    // Another name on the same port is not routed there.
    const other = await new Promise<string>((resolve) => {
      const s = tlsConnect({
        port: port('websecure'),
        host: '127.0.0.1',
        servername: 'other.test',
        ca: pki.ca.certPem,
      });
      s.once('secureConnect', () => {
        resolve('connected');
        s.destroy();
      });
      s.once('error', (e) => resolve(e.message));
    });
    assert.notEqual(other, 'connected');
  });

  it('refuses the client once a MiddlewareTCP ipAllowList that excludes it is on the route', async () => {
    let from = proxy.logs.length;
    const route = (middlewares: unknown[]) =>
      crdObject('IngressRouteTCP', 'db', 'guarded', {
        entryPoints: ['guarded'],
        routes: [{ match: 'HostSNI(`*`)', middlewares, services: [{ name: 'echo', port: 7 }] }],
      });
    kube.apply(route([]));
    const echoed = async () =>
      (await tcpExchange(port('guarded'), 'knock\r\n', { untilData: 'knock', ms: 3_000 })).how === 'data';
    await until(from, echoed);
    from = proxy.logs.length;
    kube.apply(
      crdObject('MiddlewareTCP', 'db', 'office-only', { ipAllowList: { sourceRange: ['10.0.0.0/8'] } }),
    );
    kube.apply(route([{ name: 'office-only' }]));
    await until(from, async () => !(await echoed()));
    const refused = await tcpExchange(port('guarded'), 'knock');
    assert.equal(refused.data.length, 0);
    assert.notEqual(refused.how, 'timeout', 'closed by the proxy, not left hanging');
    assert.ok(echo.accepted >= 1);
  });

  it('answers a dgram client through an IngressRouteUDP', async () => {
    const from = proxy.logs.length;
    kube.apply(
      crdObject('IngressRouteUDP', 'net', 'echo', {
        entryPoints: ['udp'],
        routes: [{ services: [{ name: 'udp-echo', port: 7 }] }],
      }),
    );
    const ask = (): Promise<string> => udpAsk(port('udp'), 'ping');
    await until(from, async () => (await ask()) === 'echo:ping');
    assert.equal(await ask(), 'echo:ping');
    assert.deepEqual(await routers('udp'), ['net-echo-0@kubernetescrd']);
  });

  it('reports an IngressRouteTCP whose Service is missing by its name; the redis route still answers', async () => {
    const from = proxy.logs.length;
    kube.apply(
      crdObject('IngressRouteTCP', 'db', 'broken', {
        entryPoints: ['redis'],
        routes: [{ match: 'HostSNI(`*`)', priority: 1, services: [{ name: 'nope', port: 6379 }] }],
      }),
    );
    const l = await waitForLogFrom(
      proxy,
      from,
      (x) => typeof x.issue === 'string' && x.issue.startsWith('ingressroutetcp db/broken'),
    );
    assert.equal(l.issue, 'ingressroutetcp db/broken: service db/nope not found');
    assert.ok(await pong(), 'the other routes are applied');
  });

  it('removes the route when the IngressRouteTCP is deleted with kubectl', async () => {
    assert.ok(await pong(), 'routed before');
    const from = proxy.logs.length;
    await kubectl('delete', '--raw', '/apis/traefik.io/v1alpha1/namespaces/db/ingressroutetcps/cache');
    await until(from, async () => !(await pong()));
    const r = await tcpExchange(port('redis'), PING, { ms: 3_000 });
    assert.ok(!r.data.toString().includes('+PONG'), r.data.toString());
    const names = await routers('tcp');
    assert.ok(!names.some((n) => n.startsWith('db-cache-')), names.join());
  });
});
