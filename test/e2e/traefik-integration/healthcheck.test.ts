/**
 * Traefik's integration/healthcheck_test.go (v3 branch) run against our proxy: each test names the
 * Go test it follows. Fixtures: integration/fixtures/healthcheck/*.toml in their v3 form, adapted by
 * ./fixture.ts. The compose whoamis are loopback backends (test/helpers/killable-backend.ts): the Go
 * test's `POST /health` with "500" or "200" (traefik/whoami's health switch) is `setMode` on the
 * backend's `/health` side; each answers its name, where whoami answers its IP. Where the Go test
 * sleeps for Traefik's next probe, ours waits for the proxy's `server down` / `server up` lines.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { freePort } from '../../helpers/free-port.ts';
import { httpRequest } from '../../helpers/http-request.ts';
import { type KillableBackend, startKillableBackend } from '../../helpers/killable-backend.ts';
import type { LogLine, ProxyProcess } from '../../helpers/proxy-process.ts';
import { waitForLogFrom } from '../../helpers/wait.ts';
import { adaptFixture, CONFIG_NAME, startFixture } from './fixture.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

async function whoamis(n: number): Promise<KillableBackend[]> {
  const list = await Promise.all(Array.from({ length: n }, (_, i) => startKillableBackend(`whoami${i + 1}`)));
  for (const b of list) open.push(() => b.close());
  return list;
}

async function start(text: string, vars: Record<string, string>): Promise<ProxyProcess> {
  const p = await startFixture(text, vars);
  open.push(() => p.stop());
  return p;
}

/** The server's URL as the Go fixtures write it (`http://{{.ServerN}}:80`), ours with its port. */
function servers(list: readonly KillableBackend[]): Record<string, string> {
  return Object.fromEntries(list.map((b, i) => [`Server${i + 1}`, b.url]));
}

/** Waits, from log index `from`, for `count` lines `msg` (`server down` / `server up`) about `b`. */
async function serverLogs(
  p: ProxyProcess,
  from: number,
  msg: string,
  b: KillableBackend,
  count = 1,
): Promise<void> {
  const seen = new Set<LogLine>();
  while (seen.size < count) {
    seen.add(await waitForLogFrom(p, from, (l) => l.msg === msg && l.server === b.authority && !seen.has(l)));
  }
}

/** Go's try.Request: `check` again every 50 ms until it holds, for at most `ms`. */
async function eventually(check: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function get(port: number, host: string, path = '/'): Promise<{ status: number; text: string }> {
  return httpRequest(port, { path, headers: { Host: host } });
}

const HEADER = `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"
  noColor = true
`;

const HEALTH = `      path = "/health"
      interval = "1s"
      timeout = "0.9s"`;

describe('traefik integration/healthcheck_test.go', () => {
  it('TestSimpleConfiguration: servers failing their check get no traffic, and come back when it passes', async () => {
    const [w1, w2] = await whoamis(2);
    const p = await start(
      `${HEADER}
[entryPoints]
  [entryPoints.web]
    address = ":8000"

[api]
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    service = "service1"
    rule = "Host(\`test.localhost\`)"

[http.services]
  [http.services.service1.loadBalancer]
    [http.services.service1.loadBalancer.healthcheck]
${HEALTH}
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Server1 }}"
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Server2 }}"
`,
      servers([w1!, w2!]),
    );
    const port = p.ports.web!;
    assert.equal((await get(port, 'test.localhost', '/health')).status, 200);

    let mark = p.logs.length;
    w1!.setMode(500, { scope: 'health' });
    w2!.setMode(500, { scope: 'health' });
    await serverLogs(p, mark, 'server down', w1!);
    await serverLogs(p, mark, 'server down', w2!);
    assert.equal((await get(port, 'test.localhost', '/health')).status, 503);

    mark = p.logs.length;
    w1!.setMode('ok', { scope: 'health' });
    await serverLogs(p, mark, 'server up', w1!);
    assert.equal((await get(port, 'test.localhost', '/health')).status, 200);

    for (let i = 0; i < 6; i++) {
      const r = await get(port, 'test.localhost');
      assert.equal(r.text, 'whoami1', 'whoami2, failing its check, never answers');
    }
    // No router for a request without that Host.
    assert.equal((await httpRequest(port)).status, 404);
  });

  it('TestSimpleConfiguration_Passive: a server that answered 500 is ejected for failureWindow, then back', {
    todo: 'a service with a single server is never ejected here (docs/configuration.md passiveHealthCheck); Traefik ejects it',
  }, async () => {
    const [w1] = await whoamis(1);
    const p = await start(
      `${HEADER}
[entryPoints]
  [entryPoints.web]
    address = ":8000"

[api]
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    service = "service1"
    rule = "Host(\`test.localhost\`)"

[http.services]
  [http.services.service1.loadBalancer]
    [http.services.service1.loadBalancer.passiveHealthCheck]
      failureWindow = "2s"
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Server1 }}"
`,
      servers([w1!]),
    );
    const port = p.ports.web!;
    assert.equal((await get(port, 'test.localhost', '/health')).status, 200);
    w1!.setMode(500, { scope: 'health' });
    // The first failure goes through; the server is then ejected.
    assert.equal((await get(port, 'test.localhost', '/health')).status, 500);
    assert.equal((await get(port, 'test.localhost', '/health')).status, 503);
  });

  it('TestMultipleEntrypoints: the service seen from two entry points follows the same checks', async () => {
    const [w1, w2] = await whoamis(2);
    const p = await start(
      `${HEADER}
[entryPoints]
  [entryPoints.web1]
    address = ":8000"
  [entryPoints.web2]
    address = ":9000"

[api]
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    service = "service1"
    rule = "Host(\`test.localhost\`)"

[http.services]
  [http.services.service1.loadBalancer]
    [http.services.service1.loadBalancer.healthcheck]
${HEALTH}
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Server1 }}"
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Server2 }}"
`,
      servers([w1!, w2!]),
    );
    assert.equal((await get(p.ports.web1!, 'test.localhost', '/health')).status, 200);
    assert.equal((await get(p.ports.web2!, 'test.localhost', '/health')).status, 200);

    let mark = p.logs.length;
    w1!.setMode(500, { scope: 'health' });
    w2!.setMode(500, { scope: 'health' });
    await serverLogs(p, mark, 'server down', w1!);
    await serverLogs(p, mark, 'server down', w2!);
    assert.equal((await get(p.ports.web2!, 'test.localhost', '/health')).status, 503);

    mark = p.logs.length;
    w2!.setMode('ok', { scope: 'health' });
    await serverLogs(p, mark, 'server up', w2!);
    for (let i = 0; i < 4; i++) {
      assert.equal((await get(p.ports.web2!, 'test.localhost')).text, 'whoami2');
      assert.equal((await get(p.ports.web1!, 'test.localhost')).text, 'whoami2');
    }
  });

  it('TestPortOverload: the check probes its own port, traffic goes to the server URL', async () => {
    const [w1] = await whoamis(1);
    const p = await start(
      `${HEADER}
[entryPoints]
  [entryPoints.web]
    address = ":8000"

[api]
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    service = "service1"
    rule = "Host(\`test.localhost\`)"

[http.services]
  [http.services.service1.loadBalancer]
    [http.services.service1.loadBalancer.healthcheck]
      path = "/health"
      port = {{ .HealthPort }}
      interval = "1s"
      timeout = "0.9s"
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Server1 }}"
`,
      // The Go fixture's server is whoami's port 81 (closed), its check port 80.
      { Server1: `http://127.0.0.1:${await freePort()}`, HealthPort: String(w1!.port) },
    );
    const port = p.ports.web!;
    // Bad gateway: the server's own port is closed, its check passes.
    assert.equal((await get(port, 'test.localhost', '/health')).status, 502);

    const mark = p.logs.length;
    w1!.setMode(500, { scope: 'health' });
    await waitForLogFrom(p, mark, (l) => l.msg === 'server down');
    assert.equal((await get(port, 'test.localhost', '/health')).status, 503);
  });

  it('TestMultipleRoutersOnSameService: every router on the service sees its servers go down and up', async () => {
    // The fixture's `recheck = "0.5s"` is no key of Traefik v3's health check: left out.
    const [w1] = await whoamis(1);
    const p = await start(
      `${HEADER}
[entryPoints]
  [entryPoints.web1]
    address = ":8000"
  [entryPoints.web2]
    address = ":9000"

[api]
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    entryPoints = ["web1"]
    service = "service1"
    rule = "Host(\`test.localhost\`)"

  [http.routers.router2]
    entryPoints = ["web2"]
    service = "service1"
    rule = "Host(\`test.localhost\`)"

[http.services]
  [http.services.service1.loadBalancer]
    [http.services.service1.loadBalancer.healthcheck]
${HEALTH}
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Server1 }}"
`,
      servers([w1!]),
    );
    const { web1, web2 } = p.ports as { web1: number; web2: number };
    assert.equal((await get(web1, 'test.localhost', '/health')).status, 200);
    assert.equal((await get(web2, 'test.localhost', '/health')).status, 200);

    let mark = p.logs.length;
    w1!.setMode(500, { scope: 'health' });
    await serverLogs(p, mark, 'server down', w1!);
    assert.equal((await get(web1, 'test.localhost', '/health')).status, 503);
    assert.equal((await get(web2, 'test.localhost', '/health')).status, 503);

    mark = p.logs.length;
    w1!.setMode('ok', { scope: 'health' });
    await serverLogs(p, mark, 'server up', w1!);
    assert.equal((await get(web1, 'test.localhost', '/health')).status, 200);
    assert.equal((await get(web2, 'test.localhost', '/health')).status, 200);
  });

  it('TestPropagate: weighted services with healthCheck skip children whose servers are all down', async () => {
    const ws = await whoamis(4);
    const [w1, w2, w3, w4] = ws as [KillableBackend, KillableBackend, KillableBackend, KillableBackend];
    const weighted = (name: string, a: string, b: string) => `  [http.services.${name}.weighted]
    [http.services.${name}.weighted.healthcheck]
    [[http.services.${name}.weighted.services]]
      name = "${a}"
      weight = 1
    [[http.services.${name}.weighted.services]]
      name = "${b}"
      weight = 1
`;
    const lb = (name: string, ...urls: string[]) => `  [http.services.${name}.loadBalancer]
    [http.services.${name}.loadBalancer.healthcheck]
${HEALTH}
${urls.map((u) => `    [[http.services.${name}.loadBalancer.servers]]\n      url = "${u}"`).join('\n')}
`;
    const p = await start(
      `${HEADER}
[entryPoints]
  [entryPoints.web]
    address = ":8000"

[api]
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.wsp-router-1]
    service = "wsp-service1"
    rule = "Host(\`root.localhost\`)"
  [http.routers.wsp-router-2]
    service = "wsp-service2"
    rule = "Host(\`foo.localhost\`)"
  [http.routers.wsp-router-3]
    service = "wsp-service3"
    rule = "Host(\`bar.localhost\`)"

[http.services]
${weighted('wsp-service1', 'wsp12', 'wsp34')}${weighted('wsp-service2', 'wsp13', 'wsp12')}${weighted('wsp-service3', 'wsp13', 'wsp12b')}${weighted('wsp12', 'wsp1', 'wsp2')}${weighted('wsp34', 'wsp3', 'wsp4')}${weighted('wsp13', 'wsp1', 'wsp3')}
${lb('wsp1', '{{ .Server1 }}')}${lb('wsp2', '{{ .Server2 }}')}${lb('wsp3', '{{ .Server3 }}')}${lb('wsp4', '{{ .Server4 }}')}${lb('wsp12b', '{{ .Server1 }}', '{{ .Server2 }}')}`,
      servers(ws),
    );
    const port = p.ports.web!;
    const counts = async (host: string): Promise<Record<string, number>> => {
      const seen: Record<string, number> = {};
      for (let i = 0; i < 4; i++) {
        const r = await get(port, host);
        assert.equal(r.status, 200, `${host}: ${r.status} ${r.text}`);
        seen[r.text] = (seen[r.text] ?? 0) + 1;
      }
      return seen;
    };
    assert.equal((await get(port, 'root.localhost')).status, 200);

    // whoami1 is checked by wsp1 and wsp12b, whoami3 by wsp3.
    let mark = p.logs.length;
    w1.setMode(500, { scope: 'health' });
    w3.setMode(500, { scope: 'health' });
    await serverLogs(p, mark, 'server down', w1, 2);
    await serverLogs(p, mark, 'server down', w3);

    // root alternates between whoami2 and whoami4.
    const root: string[] = [];
    for (let i = 0; i < 4; i++) root.push((await get(port, 'root.localhost')).text);
    assert.deepEqual(root.toSorted(), ['whoami2', 'whoami2', 'whoami4', 'whoami4']);
    assert.notEqual(root[0], root[1]);
    assert.notEqual(root[1], root[2]);
    assert.deepEqual(await counts('foo.localhost'), { whoami2: 4 });
    assert.deepEqual(await counts('bar.localhost'), { whoami2: 4 });

    mark = p.logs.length;
    w2.setMode(500, { scope: 'health' });
    w4.setMode(500, { scope: 'health' });
    await serverLogs(p, mark, 'server down', w2, 2);
    await serverLogs(p, mark, 'server down', w4);
    for (let i = 0; i < 2; i++) {
      for (const host of ['root.localhost', 'foo.localhost', 'bar.localhost']) {
        assert.equal((await get(port, host)).status, 503, host);
      }
    }

    mark = p.logs.length;
    for (const w of ws) w.setMode('ok', { scope: 'health' });
    await serverLogs(p, mark, 'server up', w1, 2);
    await serverLogs(p, mark, 'server up', w2, 2);
    await serverLogs(p, mark, 'server up', w3);
    await serverLogs(p, mark, 'server up', w4);
    assert.deepEqual(await counts('root.localhost'), { whoami1: 1, whoami2: 1, whoami3: 1, whoami4: 1 });
    assert.deepEqual(await counts('foo.localhost'), { whoami1: 2, whoami2: 1, whoami3: 1 });
    assert.deepEqual(await counts('bar.localhost'), { whoami1: 2, whoami2: 1, whoami3: 1 });
  });

  const propagateNoHealthCheck = `${HEADER}
[entryPoints]
  [entryPoints.web]
    address = ":8000"

[api]
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.wsp-router-1]
    service = "wsp-service1"
    rule = "Host(\`root.localhost\`)"

  [http.routers.noop]
    service = "noop@internal"
    rule = "Host(\`noop.localhost\`)"

[http.services]
  [http.services.wsp-service1.weighted]
    [http.services.wsp-service1.weighted.healthcheck]
    [[http.services.wsp-service1.weighted.services]]
      name = "wsp1"
      weight = 1

  [http.services.wsp1.loadBalancer]
    [[http.services.wsp1.loadBalancer.servers]]
      url = "{{ .Server1 }}"
`;

  it('TestPropagateNoHealthCheck: a weighted healthCheck over a child without one disables the router', async () => {
    const [w1] = await whoamis(1);
    const p = await start(propagateNoHealthCheck, servers([w1!]));
    assert.equal((await get(p.ports.web!, 'root.localhost')).status, 404);
  });

  const reload = (parentCheck: boolean) => `${HEADER}
[entryPoints]
  [entryPoints.web]
    address = ":8000"

[api]
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.wsp-router-1]
    service = "wsp-service1"
    rule = "Host(\`root.localhost\`)"

[http.services]
  [http.services.wsp-service1.weighted]
${parentCheck ? '' : '#'}    [http.services.wsp-service1.weighted.healthcheck]
    [[http.services.wsp-service1.weighted.services]]
      name = "wsp1"
      weight = 1
    [[http.services.wsp-service1.weighted.services]]
      name = "wsp2"
      weight = 1

  [http.services.wsp1.loadBalancer]
    [http.services.wsp1.loadBalancer.healthcheck]
${HEALTH}
    [[http.services.wsp1.loadBalancer.servers]]
      url = "{{ .Server1 }}"
  [http.services.wsp2.loadBalancer]
    [http.services.wsp2.loadBalancer.healthcheck]
${HEALTH}
    [[http.services.wsp2.loadBalancer.servers]]
      url = "{{ .Server2 }}"
`;

  it('TestPropagateReload (before the reload): without healthCheck, the weighted service still sends to a child that is down', async () => {
    const [w1, w2] = await whoamis(2);
    const p = await start(reload(false), servers([w1!, w2!]));
    const mark = p.logs.length;
    w2!.setMode(500, { scope: 'health' });
    await serverLogs(p, mark, 'server down', w2!);
    const statuses = [];
    for (let i = 0; i < 2; i++) statuses.push((await get(p.ports.web!, 'root.localhost')).status);
    assert.ok(statuses.includes(503), String(statuses));
  });

  it('TestPropagateReload: once a reload adds healthCheck to the weighted service, its down child gets nothing', async () => {
    const [w1, w2] = await whoamis(2);
    const vars = servers([w1!, w2!]);
    const p = await start(reload(false), vars);
    let mark = p.logs.length;
    w2!.setMode(500, { scope: 'health' });
    await serverLogs(p, mark, 'server down', w2!);

    mark = p.logs.length;
    p.writeFile(CONFIG_NAME, adaptFixture(reload(true), vars));
    await waitForLogFrom(p, mark, (l) => l.msg === 'configuration applied');
    // As the Go test's try.Request (within its bound), and stricter: four answers in a row from
    // whoami1, which alternation with a wsp2 still used could not give.
    await eventually(async () => {
      for (let i = 0; i < 4; i++) {
        const r = await get(p.ports.web!, 'root.localhost');
        if (r.status !== 200 || r.text !== 'whoami1') return false;
      }
      return true;
    }, 'four answers in a row from whoami1');
  });
});
