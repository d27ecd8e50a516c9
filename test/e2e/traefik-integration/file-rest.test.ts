/**
 * Traefik's integration/file_test.go, rest_test.go and conf_throttling_test.go (v3) run against
 * our proxy; each test names the Go test it follows. Fixtures: integration/fixtures/file/*.toml,
 * rest/*.toml and throttling/simple.toml adapted by ./fixture.ts (and ./fixture-prov.ts where the
 * test reads the API on Traefik's :8080). The stored file/simple.toml, file/directory.toml and
 * file/dir/*.toml are pre-v3 layouts (top-level `[routers]`, v1 `[frontends]`): they are written
 * here in v3's `[http.…]` layout with the same routers, rules and servers. Servers that stood for
 * unreachable docker addresses (172.17.0.x) are a closed loopback port: no traffic leaves the
 * machine, and the proxy answers 502 as Traefik does there. The compose whoami is ./fixture.ts's
 * loopback stand-in.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { freePort } from '../../helpers/free-port.ts';
import { httpRequest } from '../../helpers/http-request.ts';
import type { ProxyProcess } from '../../helpers/proxy-process.ts';
import { startFixture, startWhoami } from './fixture.ts';
import { get, startFixtureWithApi, until } from './fixture-prov.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});
function track(p: ProxyProcess): ProxyProcess {
  open.push(() => p.stop());
  return p;
}

describe('traefik integration/file_test.go', () => {
  it('TestSimpleConfiguration: 404 when no router matches', async () => {
    const closed = await freePort();
    const p = track(
      await startFixture(
        `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[entryPoints]
  [entryPoints.web]
    address = ":8000"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    rule = "Host(\`test.localhost\`)"
    service = "service2"

  [http.routers.router2]
    rule = "Path(\`/test\`)"
    middlewares = ["circuitbreaker"]
    service = "service1"

[http.middlewares]
  [http.middlewares.circuitbreaker.circuitBreaker]
    expression = "NetworkErrorRatio() > 0.5"

[http.services]
  [http.services.service1.loadBalancer]
    [[http.services.service1.loadBalancer.servers]]
      url = "http://127.0.0.1:{{ .Closed }}"
      weight = 10
    [[http.services.service1.loadBalancer.servers]]
      url = "http://127.0.0.1:{{ .Closed }}"
      weight = 1

  [http.services.service2.loadBalancer]
    [[http.services.service2.loadBalancer.servers]]
      url = "http://127.0.0.1:{{ .Closed }}"
      weight = 1
    [[http.services.service2.loadBalancer.servers]]
      url = "http://127.0.0.1:{{ .Closed }}"
      weight = 2
`,
        { Closed: String(closed) },
      ),
    );
    assert.equal((await get(p.ports.web!, '/')).status, 404);
  });

  // #56 regression test: a file provider with neither filename nor directory.
  it('TestSimpleConfigurationNoPanic: 404 with an empty [providers.file]', async () => {
    const p = track(
      await startFixture(`[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[entryPoints]
  [entryPoints.web]
    address = ":8000"

[providers]
  [providers.file]
`),
    );
    assert.equal((await get(p.ports.web!, '/')).status, 404);
  });

  it('TestDirectoryConfiguration: routers of every file of the directory', async () => {
    const closed = await freePort();
    const dynamic = (n: number) => `[http.routers.router${n}]
  rule = "Path(\`/test${n}\`)"
  service = "service${n}"

[http.services.service${n}.loadBalancer]
  [[http.services.service${n}.loadBalancer.servers]]
    url = "http://127.0.0.1:${closed}"
`;
    const p = track(
      await startFixture(
        `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[entryPoints]
  [entryPoints.web]
    address = ":8000"

[providers.file]
  directory = "dir/"
`,
        {},
        { files: { 'dir/simple1.toml': dynamic(1), 'dir/simple2.toml': dynamic(2) } },
      ),
    );
    // Nothing at /test; /test2 is routed to a server that refuses: 502.
    assert.equal((await get(p.ports.web!, '/test')).status, 404);
    assert.equal((await get(p.ports.web!, '/test2')).status, 502);
  });
});

/** The configuration the Go tests marshal from dynamic.Configuration, as JSON. */
function httpConfig(router: string, service: string, url: string): string {
  return JSON.stringify({
    http: {
      routers: { [router]: { entryPoints: ['web'], middlewares: [], service, rule: 'PathPrefix(`/`)' } },
      services: { [service]: { loadBalancer: { servers: [{ url }] } } },
    },
  });
}
function tcpConfig(router: string, service: string, address: string): string {
  return JSON.stringify({
    tcp: {
      routers: { [router]: { entryPoints: ['web'], service, rule: 'HostSNI(`*`)' } },
      services: { [service]: { loadBalancer: { servers: [{ address }] } } },
    },
  });
}

async function put(port: number, path: string, body: string): Promise<number> {
  return (
    await httpRequest(port, { method: 'PUT', path, body, headers: { 'Content-Type': 'application/json' } })
  ).status;
}

/** Each configuration PUT, then the rule in /api/rawdata and a 200 on the web entry point. */
async function deployEach(p: ProxyProcess, via: { port: number; path: string }, configs: [string, string][]) {
  for (const [body, ruleMatch] of configs) {
    assert.equal(await put(via.port, via.path, body), 200);
    const raw = await until(
      () => get(p.ports.traefik!, '/api/rawdata'),
      (r) => r.text.includes(ruleMatch),
      100,
    );
    assert.ok(raw.text.includes(ruleMatch), `${ruleMatch} in ${raw.text}`);
    const r = await until(
      () => get(p.ports.web!, '/'),
      (r) => r.status === 200,
      30,
    );
    assert.equal(
      r.status,
      200,
      `${ruleMatch}: ${r.text} ${(await get(p.ports.traefik!, '/api/rawdata')).text}`,
    );
  }
}

describe('traefik integration/rest_test.go', () => {
  it('TestSimpleConfigurationInsecure: PUT /api/providers/rest on the traefik entry point', async () => {
    const w = await startWhoami('whoami1');
    open.push(() => w.close());
    const p = track(
      await startFixtureWithApi(`[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[entryPoints]
  [entryPoints.web]
    address = ":8000"

[api]
  insecure = true

[providers.rest]
  insecure = true
`),
    );
    // Go waits for rest@internal in /api/rawdata.
    const raw = await until(
      () => get(p.ports.traefik!, '/api/rawdata'),
      (r) => r.text.includes('"rest@internal"'),
      100,
    );
    assert.ok(raw.text.includes('"rest@internal"'), raw.text);
    assert.equal((await get(p.ports.web!, '/')).status, 404);
    const addr = new URL(w.url).host;
    await deployEach(p, { port: p.ports.traefik!, path: '/api/providers/rest' }, [
      [httpConfig('routerHTTP', 'serviceHTTP', `http://${addr}`), 'PathPrefix(`/`)'],
      [tcpConfig('routerTCP', 'serviceTCP', addr), 'HostSNI(`*`)'],
    ]);
  });

  it('TestSimpleConfiguration: rest@internal through a router of the file provider only', async () => {
    const w = await startWhoami('whoami1');
    open.push(() => w.close());
    const p = track(
      await startFixtureWithApi(`[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[entryPoints]
  [entryPoints.web]
    address = ":8000"

[api]
insecure=true

[providers.rest]

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers.rest]
    rule="PathPrefix(\`/secure\`)"
    service="rest@internal"
    middlewares=["strip"]

[http.middlewares.strip.stripPrefix]
    prefixes = [ "/secure" ]
`),
    );
    assert.equal((await get(p.ports.web!, '/')).status, 404);
    const raw = await until(
      () => get(p.ports.traefik!, '/api/rawdata'),
      (r) => r.text.includes('PathPrefix(`/secure`)'),
      100,
    );
    assert.ok(raw.text.includes('PathPrefix(`/secure`)'), raw.text);
    // Not insecure: the traefik entry point does not take the PUT.
    assert.equal(await put(p.ports.traefik!, '/api/providers/rest', '{}'), 404);
    const addr = new URL(w.url).host;
    await deployEach(p, { port: p.ports.web!, path: '/secure/api/providers/rest' }, [
      [httpConfig('router1', 'service1', `http://${addr}`), 'PathPrefix(`/`)'],
      [tcpConfig('router1', 'service1', addr), 'HostSNI(`*`)'],
    ]);
  });
});

describe('traefik integration/rest_test.go, its wait for Traefik', () => {
  it('TestSimpleConfigurationInsecure: rest@internal in /api/rawdata', async () => {
    const p = track(
      await startFixtureWithApi(`[entryPoints]
  [entryPoints.web]
    address = ":8000"

[api]
  insecure = true

[providers.rest]
  insecure = true
`),
    );
    const raw = JSON.parse((await get(p.ports.traefik!, '/api/rawdata')).text) as Record<
      string,
      Record<string, Record<string, unknown>>
    >;
    // Traefik's internal provider (pkg/provider/traefik/internal.go restConfiguration).
    const router = raw['routers']?.['rest@internal'];
    assert.deepEqual(
      [router?.['rule'], router?.['entryPoints'], router?.['service'], router?.['status']],
      ['PathPrefix(`/api/providers`)', ['traefik'], 'rest@internal', 'enabled'],
    );
    assert.deepEqual(raw['services']?.['rest@internal']?.['usedBy'], ['rest@internal']);
  });
});

describe('traefik integration/conf_throttling_test.go', () => {
  it('TestThrottleConfReload: 10 PUTs 200 ms apart, at most 6 reloads with a 400 ms throttle', async () => {
    const w = await startWhoami('whoami1');
    open.push(() => w.close());
    const p = track(
      await startFixtureWithApi(`[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"
  noColor = true

[entryPoints]
  [entryPoints.web]
    address = ":8000"

[api]
  insecure = true

[providers]
  providersThrottleDuration = "400ms"
  [providers.rest]
    insecure = true

[metrics]
  [metrics.prometheus]
    buckets = [0.1,0.3,1.2,5.0]
`),
    );
    // Go waits for rest@internal in /api/rawdata.
    assert.ok((await get(p.ports.traefik!, '/api/rawdata')).text.includes('"rest@internal"'));
    assert.equal((await get(p.ports.web!, '/')).status, 404);
    const routers: Record<string, unknown> = {};
    const services = { serviceHTTP: { loadBalancer: { servers: [{ url: w.url }] } } };
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) {
      routers[`routerHTTP${i}`] = {
        entryPoints: ['web'],
        middlewares: [],
        service: 'serviceHTTP',
        rule: 'PathPrefix(`/`)',
      };
      assert.equal(
        await put(p.ports.traefik!, '/api/providers/rest', JSON.stringify({ http: { routers, services } })),
        200,
      );
      await new Promise((r) => setTimeout(r, 200));
    }
    const metrics = (await get(p.ports.traefik!, '/metrics')).text;
    const elapsed = performance.now() - t0;
    const m = /^traefik_config_reloads_total (\d+)$/m.exec(metrics);
    assert.ok(m, metrics);
    // Go: 10 changes over 2 s through a 400 ms throttle, so at most 5 reloads, and the first
    // configuration's: <= 6. A loaded machine stretches the 2 s (each PUT's round trip adds to
    // its 200 ms), so the bound is the windows that did pass: one reload at once, then one per
    // 400 ms window at most (Traefik's throttleProviderConfigReload), and the first configuration.
    const bound = Math.max(6, 2 + Math.ceil(elapsed / 400));
    assert.ok(Number(m[1]) <= bound, `traefik_config_reloads_total ${m[1]} > ${bound}`);
  });
});
