/**
 * The Nomad provider in the real proxy against Nomad's HTTP API on loopback
 * (test/helpers/fake-nomad.ts, the shapes of Traefik's fixtures): a service whose tags carry
 * `traefik.*` is routed to its instances on 127.0.0.1; new and removed instances and changed tags
 * reach the proxy through the event stream; `exposedByDefault: false` with `traefik.enable`, and
 * `constraints`; TCP and UDP routers from tags; the token and the namespace are sent; Nomad going
 * away leaves the last configuration serving. A second proxy polls with `allowEmptyServices`: a
 * job scaled to zero keeps its router, answering 503.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type FakeNomad, type NomadJob, startFakeNomad } from '../helpers/fake-nomad.ts';
import { startEchoServer, type TcpBackend, tcpExchange, udpAsk } from '../helpers/l4.ts';
import { providersHead } from '../helpers/provider-config.ts';
import { providerFailed, providerPhase, providerRecovered } from '../helpers/provider-state.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { untilApplied } from '../helpers/wait.ts';

const get = async (port: number, path: string): Promise<{ status: number; text: string }> => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, text: await r.text() };
};

describe('Nomad provider (e2e, Nomad API on loopback, event stream)', () => {
  let b1: Backend;
  let b2: Backend;
  let echo: TcpBackend;
  let udpEcho: UdpSocket;
  let nomad: FakeNomad;
  let proxy: ProxyProcess;

  before(async () => {
    [b1, b2, echo, nomad] = await Promise.all([
      startBackend((req, res) => res.end(`one ${req.url}`)),
      startBackend((req, res) => res.end(`two ${req.url}`)),
      startEchoServer(),
      startFakeNomad({ token: 'nomad-secret' }),
    ]);
    udpEcho = createSocket('udp4');
    udpEcho.on('message', (msg, r) =>
      udpEcho.send(Buffer.concat([Buffer.from('echo:'), msg]), r.port, r.address),
    );
    udpEcho.bind(0, '127.0.0.1');
    await once(udpEcho, 'listening');
    proxy = await startProxy({
      entryPoints: 4,
      config: `${providersHead(
        '50ms',
        `entryPoints:
  web:
    address: "127.0.0.1:0"
  tcp:
    address: "127.0.0.1:0"
  udp:
    address: "127.0.0.1:0/udp"
  traefik:
    address: "127.0.0.1:0"
`,
      )}  nomad:
    watch: true
    exposedByDefault: false
    constraints: "!Tag(\`internal\`)"
    namespaces: [team]
    endpoint:
      address: "${nomad.address}"
      token: nomad-secret
      region: eu
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([b1?.close(), b2?.close(), echo?.close(), nomad?.close()]);
    udpEcho?.close();
  });

  const web = (): number => proxy.ports['web']!;
  const until = (from: number, check: () => Promise<boolean>): Promise<void> =>
    untilApplied(proxy, from, check);
  const texts = async (path: string): Promise<string[]> => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await get(web(), path)).text);
    return [...seen].sort();
  };
  /** Registers an instance on 127.0.0.1 in the namespace `team`; returns the log index before. */
  const team = (id: string, name: string, port: number, tags: readonly string[]): number => {
    const from = proxy.logs.length;
    nomad.register({ id, name, namespace: 'team', address: '127.0.0.1', port, tags });
    return from;
  };
  const enabled = (path: string): string[] => [
    'traefik.enable=true',
    `traefik.http.routers.shop.rule=PathPrefix(\`${path}\`)`,
  ];
  const tcpOk = async (): Promise<boolean> =>
    (await tcpExchange(proxy.ports['tcp']!, 'ping', { untilData: 'ping', ms: 2_000 })).how === 'data';

  it('routes an enabled service to its instances, and sends the token, the namespace and the region', async () => {
    const from = team('s1', 'shop', b1.port, enabled('/shop'));
    // Not enabled (exposedByDefault: false); refused by the constraints; in another namespace.
    team('h1', 'hidden', b1.port, ['traefik.http.routers.hidden.rule=PathPrefix(`/hidden`)']);
    team('i1', 'intern', b1.port, [
      'traefik.enable=true',
      'internal',
      'traefik.http.routers.i.rule=Path(`/intern`)',
    ]);
    nomad.register({ id: 'o1', name: 'other', address: '127.0.0.1', port: b1.port, tags: enabled('/other') });
    await until(from, async () => (await get(web(), '/shop/a')).status === 200);
    assert.deepEqual(await get(web(), '/shop/a'), { status: 200, text: 'one /shop/a' });
    assert.equal((await get(web(), '/hidden')).status, 404, 'exposedByDefault: false');
    assert.equal((await get(web(), '/intern')).status, 404, 'constraints');
    assert.equal((await get(web(), '/other')).status, 404, 'another namespace');
    for (const s of nomad.seen) {
      assert.equal(s.token, 'nomad-secret', s.url);
      const q = new URL(s.url.slice(4), 'http://x').searchParams;
      assert.deepEqual([q.get('namespace'), q.get('region')], ['team', 'eu'], s.url);
    }
    const urls = nomad.seen.map((s) => s.url);
    assert.ok(
      urls.some((u) => u.startsWith('GET /v1/service/shop?') && u.includes('filter=Tags+contains')),
      'exposedByDefault: false asks Nomad for the enabled registrations only',
    );
    assert.ok(urls.some((u) => u.startsWith('GET /v1/event/stream?') && u.includes('topic=Service')));
    const routers = (await (
      await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/http/routers`)
    ).json()) as {
      name: string;
    }[];
    assert.ok(
      routers.some((r) => r.name === 'shop@nomad-team'),
      routers.map((r) => r.name).join(),
    );
  });

  it('follows instances added and removed, and tags changed', async () => {
    let at = team('s2', 'shop', b2.port, enabled('/shop'));
    await until(at, async () => (await texts('/shop')).length === 2);
    assert.deepEqual(await texts('/shop'), ['one /shop', 'two /shop']);
    at = proxy.logs.length;
    nomad.deregister('s1');
    await until(at, async () => (await texts('/shop')).length === 1);
    assert.deepEqual(await texts('/shop'), ['two /shop']);
    at = team('s2', 'shop', b2.port, enabled('/store'));
    await until(at, async () => (await get(web(), '/store')).status === 200);
    assert.equal((await get(web(), '/shop')).status, 404);
    at = team('s2', 'shop', b2.port, [
      'traefik.enable=false',
      'traefik.http.routers.shop.rule=Path(`/store`)',
    ]);
    await until(at, async () => (await get(web(), '/store')).status === 404);
  });

  it('builds TCP and UDP routers and services from tags', async () => {
    const from = team('e1', 'echo', echo.port, [
      'traefik.enable=true',
      'traefik.tcp.routers.echo.rule=HostSNI(`*`)',
      'traefik.tcp.routers.echo.entrypoints=tcp',
    ]);
    team('u1', 'dns', 1, [
      'traefik.enable=true',
      'traefik.udp.routers.dns.entrypoints=udp',
      `traefik.udp.services.dns.loadbalancer.server.port=${udpEcho.address().port}`,
    ]);
    const ask = (): Promise<string> => udpAsk(proxy.ports['udp']!, 'ping');
    await until(from, async () => (await tcpOk()) && (await ask()) === 'echo:ping');
    assert.equal(await ask(), 'echo:ping');
    assert.ok(echo.accepted >= 1);
    assert.equal((await get(web(), '/')).status, 404, 'TCP and UDP tags only: no HTTP router');
  });

  it('keeps serving while Nomad is gone, shows it down, and recovers by itself', async () => {
    let from = proxy.logs.length;
    await nomad.stop();
    await providerFailed(proxy, from, 'nomad-team');
    assert.equal(await providerPhase(proxy.ports['traefik']!, 'nomad-team'), 'down');
    assert.ok(await tcpOk(), 'the last configuration');
    from = proxy.logs.length;
    await nomad.start();
    await providerRecovered(proxy, from, 'nomad-team');
    const at = team('s3', 'shop', b1.port, enabled('/shop'));
    await until(at, async () => (await get(web(), '/shop')).status === 200);
    assert.equal((await get(web(), '/shop')).text, 'one /shop');
  });

  it('leaves the last configuration serving while Nomad answers errors', async () => {
    nomad.failWith = 500;
    // The event stream stays open: a registration wakes a read, which fails.
    const from = team('s4', 'shop', b2.port, enabled('/shop'));
    await providerFailed(proxy, from, 'nomad-team');
    assert.equal((await get(web(), '/shop')).text, 'one /shop');
    nomad.failWith = null;
  });
});

describe('Nomad provider (e2e, polling, allowEmptyServices)', () => {
  let b1: Backend;
  let nomad: FakeNomad;
  let proxy: ProxyProcess;
  const ruled = (name: string, path: string): string[] => [
    `traefik.http.routers.${name}.rule=PathPrefix(\`${path}\`)`,
  ];
  /** A job whose group `g` runs `count` of `name` (a scaling block with `scaling`), its service in a task. */
  const job = (name: string, path: string, count: number, scaling: boolean, stop = false): NomadJob => ({
    id: name,
    stop,
    groups: [
      {
        name: 'g',
        count,
        scaling,
        services: [],
        tasks: [{ name: 't', services: [{ name, tags: ruled(name, path) }] }],
      },
    ],
  });

  before(async () => {
    [b1, nomad] = await Promise.all([
      startBackend((req, res) => res.end(`one ${req.url}`)),
      startFakeNomad(),
    ]);
    nomad.register({
      id: 'api-1',
      name: 'api',
      address: '127.0.0.1',
      port: b1.port,
      tags: ruled('api', '/api'),
    });
    nomad.setJob(job('api', '/api', 1, false));
    nomad.setJob(job('worker', '/work', 0, true));
    nomad.setJob(job('old', '/old', 0, true, true));
    proxy = await startProxy({
      entryPoints: 2,
      config: `${providersHead('50ms')}  nomad:
    refreshInterval: 100ms
    allowEmptyServices: true
    stale: true
    endpoint:
      address: "${nomad.address}"
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([b1?.close(), nomad?.close()]);
  });

  it('keeps the router of a group scaled to zero (503), not that of a stopped job, and routes the others', async () => {
    const web = proxy.ports['web']!;
    await untilApplied(proxy, 0, async () => (await get(web, '/api')).status === 200);
    assert.deepEqual(await get(web, '/api'), { status: 200, text: 'one /api' });
    assert.equal((await get(web, '/work')).status, 503, 'scaled to zero: no servers');
    assert.equal((await get(web, '/old')).status, 404, 'a stopped job');
    const urls = nomad.seen.map((s) => s.url);
    assert.ok(urls.some((u) => u.startsWith('GET /v1/jobs?stale=')));
    assert.ok(urls.includes('GET /v1/job/worker'), 'a job is read without stale, as Traefik');
    assert.ok(!urls.some((u) => u.startsWith('GET /v1/event/stream')), 'polling');
    // Scaled up: its instances, at the next poll.
    const from = proxy.logs.length;
    nomad.register({
      id: 'w-1',
      name: 'worker',
      address: '127.0.0.1',
      port: b1.port,
      tags: ruled('worker', '/work'),
    });
    nomad.setJob(job('worker', '/work', 1, true));
    await untilApplied(proxy, from, async () => (await get(web, '/work')).status === 200);
    assert.equal((await get(web, '/work')).text, 'one /work');
  });
});
