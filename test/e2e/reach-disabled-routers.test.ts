/**
 * What Traefik builds of routers it disables, through the real proxy (health probes on real
 * backends, the API, the metrics):
 * - a TCP router disabled by a middleware error had its service built first
 *   (pkg/server/router/tcp/manager.go buildTCPHandler: BuildTCP, then the middleware chain), so
 *   the service's health check runs (pkg/server/service/tcp/service.go BuildTCP registers its
 *   checker, LaunchHealthCheck starts it) and the API shows its serverStatus; one disabled by its
 *   rule is left before (addTCPHandlers): nothing of its service is built;
 * - an HTTP router whose entry points are all unknown is in no entry point's list
 *   (pkg/config/runtime GetRoutersByEntryPoints: `no valid entryPoint for this router`), so
 *   buildEntryPointHandler never builds it nor its service: no health check, no serverStatus, no
 *   traefik_service_server_up; runtime's PopulateUsedBy still lists it in the service's usedBy.
 */
import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { Counter } from '../helpers/wait.ts';

/** A TCP server that counts the connections made to it (a TCP health probe is one). */
async function countingServer(): Promise<{ server: Server; address: string; connections: Counter }> {
  const connections = new Counter();
  const server = createServer((c) => {
    connections.inc();
    c.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}`, connections };
}

describe('the services of disabled routers (what Traefik builds)', () => {
  let proxy: ProxyProcess;
  let tcpMw: Awaited<ReturnType<typeof countingServer>>;
  let tcpRule: Awaited<ReturnType<typeof countingServer>>;
  let used: Backend;
  let noEp: Backend;
  const probes = { used: new Counter(), noEp: new Counter() };
  before(async () => {
    tcpMw = await countingServer();
    tcpRule = await countingServer();
    const counting = (c: Counter) =>
      startBackend((req, res) => {
        if (req.url === '/health') c.inc();
        res.end('ok');
      });
    used = await counting(probes.used);
    noEp = await counting(probes.noEp);
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  tcpin:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
metrics:
  prometheus: {}
http:
  routers:
    used: { rule: "Path(\`/used\`)", service: used, entryPoints: [web] }
    noep: { rule: "Path(\`/noep\`)", service: noepsvc, entryPoints: [nowhere, elsewhere] }
  services:
    used:
      loadBalancer:
        servers: [{ url: "${used.url}" }]
        healthCheck: { path: /health, interval: 200ms, timeout: 1s }
    noepsvc:
      loadBalancer:
        servers: [{ url: "${noEp.url}" }]
        healthCheck: { path: /health, interval: 200ms, timeout: 1s }
tcp:
  routers:
    mw: { entryPoints: [tcpin], rule: "HostSNI(\`*\`)", service: tcpmw, middlewares: [missing] }
    badrule: { entryPoints: [tcpin], rule: "Nope(\`x\`)", service: tcprule }
  services:
    tcpmw:
      loadBalancer:
        servers: [{ address: "${tcpMw.address}" }]
        healthCheck: { interval: 200ms, timeout: 1s }
    tcprule:
      loadBalancer:
        servers: [{ address: "${tcpRule.address}" }]
        healthCheck: { interval: 200ms, timeout: 1s }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all([used?.close(), noEp?.close()]);
    for (const s of [tcpMw, tcpRule]) if (s !== undefined) await new Promise((r) => s.server.close(r));
  });

  const api = async (path: string): Promise<Record<string, unknown>> => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}${path}`);
    assert.equal(r.status, 200, path);
    return (await r.json()) as Record<string, unknown>;
  };

  it("runs the health check of a TCP router's service when a middleware disabled the router, and shows its serverStatus", async () => {
    await tcpMw.connections.reach(2, 'health probes of the service of the router a middleware disabled');
    const r = await api('/api/tcp/routers/mw@file');
    assert.equal(r['status'], 'disabled');
    const s = await api('/api/tcp/services/tcpmw@file');
    assert.equal(s['status'], 'enabled');
    assert.deepEqual(s['serverStatus'], { [tcpMw.address]: 'UP' });
    assert.deepEqual(s['usedBy'], ['mw@file']);
  });

  it('builds nothing of the service of a TCP router disabled by its rule', async () => {
    const seen = tcpRule.connections.value;
    await tcpMw.connections.more(3, 'more probes of the other service');
    assert.equal(tcpRule.connections.value - seen, 0, 'its server is never probed');
    assert.equal(tcpRule.connections.value, 0);
    const s = await api('/api/tcp/services/tcprule@file');
    assert.equal(s['status'], 'enabled');
    assert.equal(s['serverStatus'], undefined);
  });

  it('builds nothing of the service of an HTTP router without a valid entry point; usedBy names it', async () => {
    await probes.used.reach(3, 'probes of the routed service');
    assert.equal(probes.noEp.value, 0, 'never probed');
    const r = await api('/api/http/routers/noep@file');
    assert.equal(r['status'], 'disabled');
    const s = await api('/api/http/services/noepsvc@file');
    assert.equal(s['status'], 'enabled');
    assert.equal(s['serverStatus'], undefined);
    assert.deepEqual(s['usedBy'], ['noep@file']);
    const metrics = await (await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/metrics`)).text();
    assert.match(metrics, /traefik_service_server_up\{[^}]*service="used@file"/);
    assert.doesNotMatch(metrics, /traefik_service_server_up\{[^}]*service="noepsvc@file"/);
  });
});

describe('the service of a router with no default entry point (what Traefik builds)', () => {
  let proxy: ProxyProcess;
  let noEp: Awaited<ReturnType<typeof countingServer>>;
  let ctl: Awaited<ReturnType<typeof countingServer>>;
  let web: Backend;
  const webProbes = new Counter();
  before(async () => {
    noEp = await countingServer();
    ctl = await countingServer();
    web = await startBackend((req, res) => {
      if (req.url === '/health') webProbes.inc();
      res.end('ok');
    });
    // `traefik` as the only default entry point: a TCP router without entryPoints has none
    // (Traefik's GetTCPRoutersByEntryPoints: `no valid entryPoint for this router`).
    proxy = await startProxy({
      config: `entryPoints:
  traefik:
    address: "127.0.0.1:0"
    asDefault: true
  tcpin:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
metrics:
  prometheus: {}
http:
  routers:
    noep: { rule: "Path(\`/noep\`)", service: web }
  services:
    web:
      loadBalancer:
        servers: [{ url: "${web.url}" }]
        healthCheck: { path: /health, interval: 200ms, timeout: 1s }
tcp:
  routers:
    noep: { rule: "HostSNI(\`*\`)", service: noep }
    ctl: { entryPoints: [tcpin], rule: "HostSNI(\`*\`)", service: ctl }
  services:
    noep:
      loadBalancer:
        servers: [{ address: "${noEp.address}" }]
        healthCheck: { interval: 200ms, timeout: 1s }
    ctl:
      loadBalancer:
        servers: [{ address: "${ctl.address}" }]
        healthCheck: { interval: 200ms, timeout: 1s }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await web?.close();
    for (const s of [noEp, ctl]) if (s !== undefined) await new Promise((r) => s.server.close(r));
  });

  it('probes nothing and shows no serverStatus (TCP)', async () => {
    await ctl.connections.reach(3, 'probes of the routed service');
    assert.equal(noEp.connections.value, 0, 'never probed');
    const router = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/tcp/routers/noep@file`);
    assert.deepEqual(((await router.json()) as Record<string, unknown>)['error'], [
      'no valid entryPoint for this router',
    ]);
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/tcp/services/noep@file`);
    const s = (await r.json()) as Record<string, unknown>;
    assert.equal(s['status'], 'enabled');
    assert.equal(s['serverStatus'], undefined);
    assert.deepEqual(s['usedBy'], ['noep@file']);
  });

  it('probes nothing, shows no serverStatus nor traefik_service_server_up, and words the error as Traefik (HTTP)', async () => {
    await ctl.connections.more(3, 'more probes of the routed TCP service');
    assert.equal(webProbes.value, 0, 'never probed');
    const base = `http://127.0.0.1:${proxy.ports['traefik']}`;
    const r = (await (await fetch(`${base}/api/http/routers/noep@file`)).json()) as Record<string, unknown>;
    assert.equal(r['status'], 'disabled');
    assert.deepEqual(r['error'], ['no valid entryPoint for this router']);
    const s = (await (await fetch(`${base}/api/http/services/web@file`)).json()) as Record<string, unknown>;
    assert.equal(s['status'], 'enabled');
    assert.equal(s['serverStatus'], undefined);
    assert.deepEqual(s['usedBy'], ['noep@file']);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.doesNotMatch(metrics, /traefik_service_server_up\{[^}]*service="web@file"/);
  });
});
