/**
 * The admin API's layer 4 views through the real proxy: a TCP router to a real echo server (one
 * of its two servers a closed port, which the TCP health check marks down), a UDP router to a
 * real UDP echo server, and a TCP router with an error. Traffic goes through both first; then
 * the API's routers, services, middlewares and overview counts are checked against it.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { L4RouterView, L4ServiceView } from '../../src/admin/l4-views.ts';
import { freePort, startEchoServer, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

async function udpEcho(): Promise<Socket> {
  const s = createSocket('udp4');
  s.on('message', (m, r) => s.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

describe('admin API: TCP and UDP views of the running proxy', () => {
  let echo: TcpBackend;
  let dgram: Socket;
  let dead: string;
  let proxy: ProxyProcess;

  before(async () => {
    echo = await startEchoServer();
    dgram = await udpEcho();
    dead = `127.0.0.1:${await freePort()}`;
    proxy = await startProxy({
      config: `entryPoints:
  tcp:
    address: "127.0.0.1:0"
  dgram:
    address: "127.0.0.1:0/udp"
    udp: { timeout: 500ms }
  traefik:
    address: "127.0.0.1:0"
log: { level: DEBUG }
api: {}
metrics: { prometheus: {} }
tcp:
  routers:
    echo: { entryPoints: [tcp], rule: "HostSNI(\`*\`)", service: echo, middlewares: [local] }
    broken: { entryPoints: [tcp], rule: "HostSNI(\`*\`)", service: nowhere }
  services:
    echo:
      loadBalancer:
        servers: [{ address: "${echo.address}" }, { address: "${dead}" }]
        healthCheck: { interval: 100ms, timeout: 500ms }
  middlewares:
    local: { ipAllowList: { sourceRange: [127.0.0.1/32] } }
udp:
  routers:
    dgram: { entryPoints: [dgram], service: dgram }
  services:
    dgram: { loadBalancer: { servers: [{ address: "127.0.0.1:${dgram.address().port}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop('SIGTERM', 3_000);
    await echo?.close();
    dgram?.close();
  });

  const api = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/${path}`);
    return { status: r.status, body: (await r.json()) as T };
  };

  it('carries TCP and UDP traffic, and shows the TCP server its health check found down as DOWN', async () => {
    await proxy.waitForLog((l) => l.msg === 'server down' && l.server === dead);
    // Every connection now goes to the live server.
    for (let i = 0; i < 2; i++) {
      // FIN after the echo: after a FIN first, it has only terminationDelay (0 here: no serversTransport) to come.
      const r = await tcpExchange(proxy.ports['tcp']!, `hello ${i}`, { endAfter: `hello ${i}` });
      assert.equal(r.data.toString(), `hello ${i}`);
    }
    const client = createSocket('udp4');
    const reply = once(client, 'message') as Promise<[Buffer]>;
    client.send('ping', proxy.ports['dgram']!, '127.0.0.1');
    assert.equal((await reply)[0].toString(), 'echo:ping');
    client.close();

    const svc = await api<L4ServiceView & { config: unknown }>('tcp/services/echo@file');
    assert.equal(svc.status, 200);
    assert.equal(svc.body.status, 'enabled');
    assert.deepEqual(svc.body.servers, [
      { address: echo.address, status: 'up' },
      { address: dead, status: 'down' },
    ]);
    assert.deepEqual(svc.body.serverStatus, { [echo.address]: 'UP', [dead]: 'DOWN' });
    assert.deepEqual(svc.body.usedBy, ['echo@file']);
    assert.deepEqual(svc.body.issues, [`server ${dead} is down`]);
  });

  it('lists the TCP routers, the one in error disabled with its issue, and the TCP middlewares', async () => {
    const routers = await api<L4RouterView[]>('tcp/routers');
    assert.equal(routers.status, 200);
    assert.deepEqual(
      routers.body.map((r) => [r.name, r.status, r.using, r.service, r.rule, r.priority]),
      [
        ['broken@file', 'disabled', [], 'nowhere@file', 'HostSNI(`*`)', -1],
        ['echo@file', 'enabled', ['tcp'], 'echo@file', 'HostSNI(`*`)', -1],
      ],
    );
    assert.match(routers.body[0]!.issues.join('\n'), /tcp\.routers\.broken@file\.service: service `nowhere`/);
    assert.deepEqual(routers.body[1]!.middlewares, ['local@file']);
    const one = await api<L4RouterView>('tcp/routers/echo');
    assert.equal(one.body.name, 'echo@file');
    const mws = await api<{ name: string; type: string; status: string }[]>('tcp/middlewares');
    assert.deepEqual(
      mws.body.map((m) => [m.name, m.type, m.status]),
      [['local@file', 'ipallowlist', 'enabled']],
    );
    assert.equal((await api('tcp/routers/nope')).status, 404);
  });

  it('lists the UDP router with the entry point it serves, and its service', async () => {
    const routers = await api<L4RouterView[]>('udp/routers');
    assert.deepEqual(routers.body, [
      {
        name: 'dgram@file',
        provider: 'file',
        entryPoints: ['dgram'],
        using: ['dgram'],
        service: 'dgram@file',
        status: 'enabled',
        issues: [],
      },
    ]);
    const svc = await api<L4ServiceView>('udp/services/dgram');
    assert.equal(svc.body.name, 'dgram@file');
    assert.deepEqual(svc.body.servers, [{ address: `127.0.0.1:${dgram.address().port}` }]);
    assert.deepEqual(svc.body.usedBy, ['dgram@file']);
  });

  it('counts TCP and UDP objects in the overview', async () => {
    await proxy.waitForLog((l) => l.msg === 'server down' && l.server === dead);
    const o = await api<Record<string, unknown>>('overview');
    assert.deepEqual(o.body['tcp'], {
      routers: { total: 2, warnings: 0, errors: 1 },
      // A server down is in serverStatus, not a warning: Traefik's service stays enabled.
      services: { total: 1, warnings: 0, errors: 0 },
      middlewares: { total: 1, warnings: 0, errors: 0 },
    });
    assert.deepEqual(o.body['udp'], {
      routers: { total: 1, warnings: 0, errors: 0 },
      services: { total: 1, warnings: 0, errors: 0 },
    });
    // Traefik's overview features: metrics by backend name, no tracing, no access log here.
    assert.deepEqual(o.body['features'], { tracing: '', metrics: 'Prometheus', accessLog: false });
    // Traefik's rawdata keys: every object by name, beside our configuration sections.
    const raw = await api<Record<string, Record<string, { status?: string }>>>('rawdata');
    for (const key of ['tcpRouters', 'tcpServices', 'tcpMiddlewares', 'udpRouters', 'udpServices']) {
      const section = raw.body[key];
      assert.ok(section !== undefined && Object.keys(section).length > 0, key);
      for (const v of Object.values(section))
        assert.ok(v.status === 'enabled' || v.status === 'warning' || v.status === 'disabled', key);
    }
    assert.ok(raw.body['tcp'] !== undefined, 'our configuration sections stay');
  });

  it('counts the disabled TCP router in the metrics, apart from the HTTP sections', async () => {
    const text = await (await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/metrics`)).text();
    assert.match(text, /^traffic_config_disabled_objects\{section="tcp\.routers"\} 1$/m);
    assert.match(text, /^traffic_config_disabled_objects\{section="routers"\} 0$/m);
  });
});
