/**
 * What Traefik builds, and so which objects carry its errors and a serverStatus, through the real
 * proxy's API:
 * - a router above the users' priority: Traefik's `the router priority P exceeds the max
 *   user-defined priority M` (pkg/server/router/router.go buildEntryPointHandler);
 * - a weighted service with `healthCheck` over a child without one: Traefik's `cannot register…`
 *   (pkg/server/service/service.go getWRRServiceHandler), the service and its router disabled;
 * - a failover whose main service (or, with `healthCheck`, fallback) cannot report its health,
 *   unless `errors.status` is set: the same words (getFailoverServiceHandler);
 * - a broken service or middleware no router uses is never built (pkg/server/service/service.go
 *   BuildHTTP, pkg/server/middleware/middlewares.go buildConstructor): `enabled`, no `error`;
 * - a router disabled by its rule had its service built first (buildHTTPHandler, then
 *   muxer.AddRoute): the service has its serverStatus, its health check runs, its usedBy names
 *   the router (runtime PopulateUsedBy takes every router).
 */
import assert from 'node:assert/strict';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { Counter, waitForLogFrom } from '../helpers/wait.ts';

describe('API: what Traefik builds', () => {
  let proxy: ProxyProcess;
  let backend: Backend;
  before(async () => {
    backend = await startBackend((_req, res) => res.end('ok'));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
http:
  routers:
    high:
      rule: "Path(\`/high\`)"
      priority: 9007199254740000
      service: s
    badrule:
      rule: "Nope(\`x\`)"
      service: hc
    arity:
      rule: "Path(\`/a\`, \`/b\`) && Host(\`x\`)"
      service: s
    nopath:
      rule: "Host(\`x\`) && PathPrefix(\`api\`)"
      service: s
    wsp:
      rule: "Path(\`/wsp\`)"
      service: wsp
    fo:
      rule: "Path(\`/fo\`)"
      service: fo
    fomirror:
      rule: "Path(\`/fomirror\`)"
      service: fomirror
    fohc:
      rule: "Path(\`/fohc\`)"
      service: fohc
    fostatus:
      rule: "Path(\`/fostatus\`)"
      service: fostatus
  services:
    wsp:
      weighted: { services: [{ name: s }], healthCheck: {} }
    fo:
      failover: { service: s, fallback: hc }
    mirrored:
      mirroring: { service: hc }
    fomirror:
      failover: { service: mirrored, fallback: hc }
    fohc:
      failover: { service: hc, fallback: s, healthCheck: {} }
    fostatus:
      failover: { service: s, fallback: hc, errors: { status: ["500"] } }
    s:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
    hc:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
        healthCheck: { path: /health, interval: 1s, timeout: 1s }
    unusedbad:
      weighted: { services: [{ name: nowhere }] }
  middlewares:
    unusedmw:
      chain: { middlewares: [nowhere] }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  const get = async (path: string) => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}${path}`);
    assert.equal(r.status, 200, path);
    return (await r.json()) as Record<string, unknown>;
  };

  it("words a priority above the users' as Traefik", async () => {
    const r = await get('/api/http/routers/high@file');
    assert.equal(r['status'], 'disabled');
    assert.deepEqual(r['error'], [
      'the router priority 9007199254740000 exceeds the max user-defined priority 9007199254739991',
    ]);
    const web = await fetch(`http://127.0.0.1:${proxy.ports['web']}/high`);
    assert.equal(web.status, 404);
    await web.arrayBuffer();
  });

  it("words a wrong argument count inside && as Traefik's muxer (pkg/muxer/http/mux.go addRule)", async () => {
    const r = await get('/api/http/routers/arity@file');
    const rule = 'Path(`/a`, `/b`) && Host(`x`)';
    assert.equal(r['status'], 'disabled');
    assert.deepEqual(r['error'], [
      `error while parsing rule ${rule}: error while adding rule ${rule}: error while adding rule and: error while adding rule Path: unexpected number of parameters; got 2, expected one of [1]`,
    ]);
  });

  it("words a path without '/' as Traefik's matcher (pkg/muxer/http/matcher.go pathPrefix)", async () => {
    const r = await get('/api/http/routers/nopath@file');
    const rule = 'Host(`x`) && PathPrefix(`api`)';
    assert.equal(r['status'], 'disabled');
    assert.deepEqual(r['error'], [
      `error while parsing rule ${rule}: error while adding rule ${rule}: error while adding rule PathPrefix: path "api" does not start with a '/'`,
    ]);
  });

  it("refuses a weighted healthCheck over a child without one, in Traefik's words (getWRRServiceHandler)", async () => {
    const text =
      'cannot register s as updater for wsp@file: healthCheck not enabled in config for this weighted service';
    const s = await get('/api/http/services/wsp@file');
    assert.equal(s['status'], 'disabled');
    assert.deepEqual(s['error'], [text]);
    const r = await get('/api/http/routers/wsp@file');
    assert.equal(r['status'], 'disabled');
    assert.deepEqual(r['error'], [text]);
    const web = await fetch(`http://127.0.0.1:${proxy.ports['web']}/wsp`);
    assert.equal(web.status, 404);
    await web.arrayBuffer();
  });

  it("refuses a failover whose main service (or, with healthCheck, fallback) cannot report its health unless errors.status is set, in Traefik's words (getFailoverServiceHandler)", async () => {
    const cases: [string, string][] = [
      [
        'fo',
        'cannot register s as updater for fo@file: healthCheck not enabled in config for this weighted service',
      ],
      [
        'fomirror',
        'cannot register mirrored as updater for fomirror@file: healthCheck not enabled in config for this mirroring service',
      ],
      [
        'fohc',
        'cannot register s as updater for fohc@file: healthCheck not enabled in config for this weighted service',
      ],
    ];
    for (const [name, text] of cases) {
      const s = await get(`/api/http/services/${name}@file`);
      assert.equal(s['status'], 'disabled', name);
      assert.deepEqual(s['error'], [text]);
      const r = await get(`/api/http/routers/${name}@file`);
      assert.equal(r['status'], 'disabled', name);
      assert.deepEqual(r['error'], [text]);
      const web = await fetch(`http://127.0.0.1:${proxy.ports['web']}/${name}`);
      assert.equal(web.status, 404, name);
      await web.arrayBuffer();
    }
    // With errors.status the main's refused registration is let go: built, its answer relayed.
    const s = await get('/api/http/services/fostatus@file');
    assert.equal(s['status'], 'enabled');
    assert.equal(s['error'], undefined);
    const web = await fetch(`http://127.0.0.1:${proxy.ports['web']}/fostatus`);
    assert.equal(web.status, 200);
    assert.equal(await web.text(), 'ok');
  });

  it('shows a broken service or middleware no router uses enabled, without error, its issues kept', async () => {
    const s = await get('/api/http/services/unusedbad@file');
    assert.equal(s['status'], 'enabled');
    assert.equal(s['error'], undefined);
    assert.ok(
      (s['issues'] as string[]).some((i) => i.includes('nowhere')),
      JSON.stringify(s),
    );
    const m = await get('/api/http/middlewares/unusedmw@file');
    assert.equal(m['status'], 'enabled');
    assert.equal(m['error'], undefined);
    assert.ok(
      (m['issues'] as string[]).some((i) => i.includes('nowhere')),
      JSON.stringify(m),
    );
  });

  it('builds the service of a router disabled by its rule: serverStatus, health check, usedBy', async () => {
    const r = await get('/api/http/routers/badrule@file');
    assert.equal(r['status'], 'disabled');
    const s = await get('/api/http/services/hc@file');
    assert.equal(s['status'], 'enabled');
    assert.deepEqual(s['serverStatus'], { [backend.url]: 'UP' });
    assert.deepEqual(s['usedBy'], ['badrule@file']);
    for (let i = 0; i < 100 && !backend.seen.some((x) => x.url === '/health'); i++)
      await new Promise((res) => setTimeout(res, 100));
    assert.ok(
      backend.seen.some((x) => x.url === '/health'),
      'the health check ran',
    );
  });
});

describe('a health check path given as a URL (Traefik v3.6.8, pkg/healthcheck/healthcheck.go newRequest)', () => {
  let proxy: ProxyProcess;
  let backend: Backend;
  let other: Backend;
  before(async () => {
    backend = await startBackend((_req, res) => res.end('ok'));
    other = await startBackend((_req, res) => res.end('ok'));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
http:
  routers:
    r:
      rule: "PathPrefix(\`/\`)"
      service: s
  services:
    s:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
        healthCheck: { path: "${other.url}/health", interval: 1s, timeout: 1s }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
    await other?.close();
  });

  it('keeps the service, fails its check (503), probes no other host', async () => {
    const s = (await (
      await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/http/services/s@file`)
    ).json()) as Record<string, unknown>;
    assert.equal(s['status'], 'enabled');
    let status = 0;
    for (let i = 0; i < 100 && status !== 503; i++) {
      const r = await fetch(`http://127.0.0.1:${proxy.ports['web']}/x`);
      status = r.status;
      await r.arrayBuffer();
      if (status !== 503) await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(status, 503);
    const after = (await (
      await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/http/services/s@file`)
    ).json()) as Record<string, unknown>;
    assert.deepEqual(after['serverStatus'], { [backend.url]: 'DOWN' });
    assert.equal(other.seen.length, 0);
    assert.ok(!backend.seen.some((x) => x.url.includes('health')));
  });
});

describe("health checks run for the services routers reach only (Traefik's LaunchHealthCheck)", () => {
  let proxy: ProxyProcess;
  let used: Backend;
  let idle: Backend;
  const probes = { used: new Counter(), idle: new Counter() };
  let usedFails = false;
  /** A TCP server whose service (with a health check) no TCP router uses: counts connections. */
  let tcpIdle: NetServer;
  let tcpIdleAddress = '';
  let tcpConnections = 0;
  before(async () => {
    tcpIdle = createNetServer((c) => {
      tcpConnections++;
      c.destroy();
    });
    await new Promise<void>((resolve) => tcpIdle.listen(0, '127.0.0.1', resolve));
    tcpIdleAddress = `127.0.0.1:${(tcpIdle.address() as AddressInfo).port}`;
    used = await startBackend((req, res) => {
      if (req.url === '/health') probes.used.inc();
      res.statusCode = req.url === '/health' && usedFails ? 500 : 200;
      res.end('used');
    });
    idle = await startBackend((req, res) => {
      if (req.url === '/health') probes.idle.inc();
      res.end('idle');
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
providers:
  file: { filename: dyn.yaml }
`,
      files: { 'dyn.yaml': dynamic(false) },
    });
  });
  after(async () => {
    await proxy?.stop();
    await used?.close();
    await idle?.close();
    await new Promise((resolve) => tcpIdle?.close(resolve));
  });

  /** `used` behind a router, `idle` behind one only with `idleRouted`. */
  function dynamic(idleRouted: boolean): string {
    return `http:
  routers:
    used: { rule: "Path(\`/used\`)", service: used }
${idleRouted ? '    idle: { rule: "Path(`/idle`)", service: idle }\n' : ''}  services:
    used:
      loadBalancer:
        servers: [{ url: "${used.url}" }]
        healthCheck: { path: /health, interval: 200ms, timeout: 1s }
    idle:
      loadBalancer:
        servers: [{ url: "${idle.url}" }]
        healthCheck: { path: /health, interval: 200ms, timeout: 1s }
tcp:
  services:
    tcpidle:
      loadBalancer:
        servers: [{ address: "${tcpIdleAddress}" }]
        healthCheck: { interval: 200ms, timeout: 1s }
`;
  }

  const web = async (path: string): Promise<number> => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['web']}${path}`);
    await r.arrayBuffer();
    return r.status;
  };
  const serverStatus = async (name: string): Promise<unknown> => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/http/services/${name}@file`);
    return ((await r.json()) as Record<string, unknown>)['serverStatus'];
  };
  const downLogs = (from: number, b: Backend): number =>
    proxy.logs.slice(from).filter((l) => l.msg === 'server down' && l.server === b.url.slice(7)).length;

  it('probes no server of a service no router uses; a reload that routes to it starts, one that stops stops its checks, the others keep their state', async () => {
    // Two probes of the routed service, the same interval: the other would have been probed too.
    await probes.used.reach(2, 'two probes of the routed service');
    assert.equal(probes.idle.value, 0, 'the service no router uses is never probed');
    assert.equal(tcpConnections, 0, 'nor the TCP one');
    assert.equal(await serverStatus('idle'), undefined, 'nor built (no serverStatus)');

    let mark = proxy.logs.length;
    usedFails = true;
    await waitForLogFrom(proxy, mark, (l) => l.msg === 'server down' && l.server === used.url.slice(7));
    assert.equal(await web('/used'), 503);

    // A router now reaches `idle`: its checks start; `used` keeps its verdict (no new probe cycle).
    mark = proxy.logs.length;
    proxy.writeFile('dyn.yaml', dynamic(true));
    await waitForLogFrom(proxy, mark, (l) => l.msg === 'configuration applied');
    await probes.idle.more(2, 'the checks of the service a router now reaches');
    assert.equal(await web('/idle'), 200);
    assert.equal(await web('/used'), 503, 'still down: its health state survived the reload');
    assert.deepEqual(await serverStatus('used'), { [used.url]: 'DOWN' });
    assert.equal(downLogs(mark, used), 0, 'no check of `used` started again from up');

    // The router is gone: its checks stop (a probe already sent may still arrive).
    mark = proxy.logs.length;
    proxy.writeFile('dyn.yaml', dynamic(false));
    await waitForLogFrom(proxy, mark, (l) => l.msg === 'configuration applied');
    const seen = probes.idle.value;
    await probes.used.more(3, 'more probes of the routed service');
    assert.ok(probes.idle.value <= seen + 1, `${probes.idle.value - seen} probes after the router went`);
    assert.equal(await web('/used'), 503);
    assert.equal(downLogs(mark, used), 0);
  });
});
