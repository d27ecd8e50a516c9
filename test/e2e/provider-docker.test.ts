/**
 * The Docker provider in the real proxy against a real dockerd started by the test (its own
 * socket and folders; containers on the host network, serving HTTP with busybox httpd): a
 * container started with labels is routed, stopped it is gone; a container with a failing health
 * check is not routed until it is healthy; a label typo is reported with the container and the
 * label; dockerd stopped: the last good configuration keeps serving, the provider shows down in
 * /api/providers and the metrics, and it recovers by itself when dockerd is back. TCP labels
 * give a TCP router and service (Traefik's buildTCPServiceConfiguration); a container in another
 * one's network namespace is reached at that one's address.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type Dockerd, IMAGE, startDockerd } from '../helpers/dockerd.ts';
import { httpRequest } from '../helpers/http-request.ts';
import { freePort } from '../helpers/pebble.ts';
import { providersHead, WEB_AND_TRAEFIK } from '../helpers/provider-config.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { waitForLogFrom } from '../helpers/wait.ts';

describe('Docker provider (e2e, real dockerd)', () => {
  let d: Dockerd;
  let outside: Backend;
  let proxy: ProxyProcess;
  let web = 0;
  let admin = 0;

  before(async () => {
    [d, outside] = await Promise.all([
      startDockerd(),
      startBackend((req, res) => res.end(`outside ${req.url}`)),
    ]);
    proxy = await startProxy({
      config: `${providersHead('100ms', `${WEB_AND_TRAEFIK}  tcpin:\n    address: "127.0.0.1:0"\n`)}  docker:
    endpoint: "${d.endpoint}"
    exposedByDefault: false
`,
    });
    web = proxy.ports['web'] ?? 0;
    admin = proxy.ports['traefik'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([d?.close(), outside?.close()]);
  });

  const get = async (port: number, path: string): Promise<{ status: number; text: string }> => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: r.status, text: (await r.text()).trim() };
  };
  const applied = (l: LogLine): boolean => l.msg === 'configuration applied';
  /** The answer for `path` after the next applied configurations, once it is `status`. */
  const servedAfter = async (
    from: number,
    path: string,
    status: number,
  ): Promise<{ status: number; text: string }> => {
    await waitForLogFrom(proxy, from, applied, 30_000);
    // The route can be applied before the container's server listens (a 502 then, and no later
    // configuration to wait for), or a further update may still come: ask until the answer is
    // the expected one, for up to 30 s.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await get(web, path);
      if (r.status === status || Date.now() > deadline) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  const labels = (name: string, port: number): Record<string, string> => ({
    'traefik.enable': 'true',
    [`traefik.http.routers.${name}.rule`]: `PathPrefix(\`/${name}/\`)`,
    [`traefik.http.services.${name}.loadbalancer.server.port`]: String(port),
  });

  it('routes a container started with labels, and forgets it once stopped', async () => {
    const from = proxy.logs.length;
    const port = await freePort();
    await d.runHttpd('blue', port, labels('blue', port));
    assert.deepEqual(await servedAfter(from, '/blue/', 200), { status: 200, text: 'blue' });
    const stopped = proxy.logs.length;
    await d.docker('stop', 'blue');
    assert.equal((await servedAfter(stopped, '/blue/', 404)).status, 404);
    await d.docker('rm', '-f', 'blue');
  });

  it('keeps the routes of a stopped container with traefik.docker.allownonrunning, without servers (503)', async () => {
    const from = proxy.logs.length;
    const port = await freePort();
    await d.runHttpd('sleepy', port, { ...labels('sleepy', port), 'traefik.docker.allownonrunning': 'true' });
    assert.deepEqual(await servedAfter(from, '/sleepy/', 200), { status: 200, text: 'sleepy' });
    const stopped = proxy.logs.length;
    await d.docker('stop', 'sleepy');
    // Traefik v3.6: the router and its service stay, with no server: 503, not 404.
    assert.equal((await servedAfter(stopped, '/sleepy/', 503)).status, 503);
    const restarted = proxy.logs.length;
    await d.docker('start', 'sleepy');
    assert.deepEqual(await servedAfter(restarted, '/sleepy/', 200), { status: 200, text: 'sleepy' });
    await d.docker('rm', '-f', 'sleepy');
  });

  it('does not route a container whose health check fails, and routes it once healthy', async () => {
    const port = await freePort();
    await d.runHttpd('green', port, labels('green', port), 'test -f /tmp/ok');
    // dockerd tells no one but its events stream: ask it until the check has failed.
    for (let i = 0; i < 100; i++) {
      const status = (await d.docker('inspect', '-f', '{{.State.Health.Status}}', 'green')).trim();
      if (status === 'unhealthy') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal((await d.docker('inspect', '-f', '{{.State.Health.Status}}', 'green')).trim(), 'unhealthy');
    assert.equal((await get(web, '/green/')).status, 404, 'unhealthy: not routed');
    assert.equal((await get(web, '/')).status, 404);

    const healed = proxy.logs.length;
    await d.docker('exec', 'green', 'sh', '-c', 'echo > /tmp/ok');
    assert.deepEqual(await servedAfter(healed, '/green/', 200), { status: 200, text: 'green' });
    await d.docker('rm', '-f', 'green');
  });

  it('reports a label typo with the container and the label', async () => {
    const from = proxy.logs.length;
    const port = await freePort();
    await d.runHttpd('typo', port, {
      'traefik.enable': 'true',
      'traefik.http.routers.typo.rul': 'PathPrefix(`/typo/`)',
      'traefik.htp.routers.typo.rule': 'PathPrefix(`/typo/`)',
      'traefik.http.services.typo.loadbalancer.server.port': String(port),
    });
    const line = await waitForLogFrom(
      proxy,
      from,
      (l) => typeof l.issue === 'string' && l.issue.includes('label traefik.http.routers.typo.rul'),
      30_000,
    );
    assert.match(
      String(line.issue),
      /^container typo label traefik\.http\.routers\.typo\.rul: .*unknown key `rul` \(did you mean `rule`\?\)/,
    );
    await waitForLogFrom(
      proxy,
      from,
      (l) =>
        typeof l.issue === 'string' &&
        l.issue.startsWith('container typo label traefik.htp.routers.typo.rule: warning: unknown label'),
    );
    await d.docker('rm', '-f', 'typo');
  });

  // Traefik's getIPAddress: `Could not find network named …` (a compose network is named
  // `<project>_<name>`); the container is still routed, at the fallback address.
  it('warns when traefik.docker.network names a network the container is not on, and routes it', async () => {
    const from = proxy.logs.length;
    const port = await freePort();
    await d.runHttpd('netlabel', port, { ...labels('netlabel', port), 'traefik.docker.network': 'web' });
    const line = await waitForLogFrom(
      proxy,
      from,
      (l) => typeof l.issue === 'string' && l.issue.startsWith('container netlabel: warning:'),
      30_000,
    );
    assert.equal(
      line.issue,
      "container netlabel: warning: http.services.netlabel: the container is not on the network \"web\" (host networking); a compose project's (or stack's) prefix missing from the name? Using the host's address",
    );
    assert.equal(line.level, 'warn');
    assert.deepEqual(await servedAfter(from, '/netlabel/', 200), { status: 200, text: 'netlabel' });
    await d.docker('rm', '-f', 'netlabel');
  });

  // Traefik's MakeDefaultRuleTemplate: sprig's `env` is os.Getenv; it rendered empty here.
  it('reads the environment in defaultRule (`{{ env "DOMAIN" }}`), as Traefik\'s sprig', async (t) => {
    const own = await startProxy({
      config: `${providersHead('100ms')}  docker:
    endpoint: "${d.endpoint}"
    exposedByDefault: false
    defaultRule: 'Host(\`{{ index .Labels "com.docker.compose.service" }}.{{ env "TM_DOMAIN" }}\`)'
`,
      env: { TM_DOMAIN: 'example.test' },
    });
    t.after(() => own.stop());
    const port = await freePort();
    await d.runHttpd('envrule', port, {
      'traefik.enable': 'true',
      'com.docker.compose.service': 'shop',
      'com.docker.compose.project': 'demo',
      [`traefik.http.services.envrule.loadbalancer.server.port`]: String(port),
    });
    t.after(() => d.docker('rm', '-f', 'envrule'));
    const web2 = own.ports['web'] ?? 0;
    let status = 0;
    for (let i = 0; i < 300 && status !== 200; i++) {
      status = (await httpRequest(web2, { headers: { host: 'shop.example.test' } })).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200);
  });

  it('runs the middlewares a service label names (Traefik v3.7 service middlewares)', async () => {
    const port = await freePort();
    const from = proxy.logs.length;
    await d.runHttpd('marked', port, {
      ...labels('marked', port),
      'traefik.http.middlewares.svc-mark.headers.customresponseheaders.X-Served-By': 'marked-service',
      'traefik.http.middlewares.svc-deny.ipallowlist.sourcerange': '10.0.0.0/8',
      'traefik.http.services.marked.middlewares': 'svc-mark',
      // Two services on one container: each router names its own.
      'traefik.http.routers.marked.service': 'marked',
      'traefik.http.routers.denied.rule': 'PathPrefix(`/denied/`)',
      'traefik.http.routers.denied.service': 'denied',
      'traefik.http.services.denied.loadbalancer.server.port': String(port),
      'traefik.http.services.denied.middlewares': 'svc-deny@docker',
    });
    assert.equal((await servedAfter(from, '/marked/', 200)).text, 'marked');
    const r = await fetch(`http://127.0.0.1:${web}/marked/`);
    assert.equal(r.headers.get('x-served-by'), 'marked-service');
    assert.equal((await get(web, '/denied/')).status, 403);
  });

  it('routes a TCP router and service from labels', async () => {
    const from = proxy.logs.length;
    const port = await freePort();
    await d.runHttpd('raw', port, {
      'traefik.enable': 'true',
      'traefik.tcp.routers.raw.rule': 'HostSNI(`*`)',
      'traefik.tcp.routers.raw.entrypoints': 'tcpin',
      'traefik.tcp.services.raw.loadbalancer.server.port': String(port),
    });
    await waitForLogFrom(proxy, from, applied, 30_000);
    // HTTP/1.0 over the TCP route: the bytes go through as they are, busybox answers and closes.
    const exchange = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = connect(proxy.ports['tcpin'] ?? 0, '127.0.0.1');
        let got = '';
        s.on('data', (b) => {
          got += b.toString('latin1');
        });
        s.on('end', () => resolve(got));
        s.on('error', reject);
        s.write('GET /raw/ HTTP/1.0\r\n\r\n');
      });
    // The route can be applied before busybox listens, and the configuration applied above may
    // be an earlier change's (the proxy's own 404 answers until the TCP route is there): ask
    // until busybox answers, for up to 30 s.
    const deadline = Date.now() + 30_000;
    let answer = '';
    while (Date.now() < deadline) {
      answer = await exchange().catch(() => '');
      if (/^HTTP\/1\.[01] 200/.test(answer)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(answer, /^HTTP\/1\.[01] 200/);
    assert.match(answer, /\r\n\r\nraw\n$/);
    await d.docker('rm', '-f', 'raw');
  });

  it("routes a container in another container's network namespace to that container's address", async () => {
    const from = proxy.logs.length;
    const port = await freePort();
    // `host` serves on the host network, unlabelled (not routed: exposedByDefault is false);
    // `joined` shares its network and carries the labels: Traefik inspects `host` for the address.
    await d.runHttpd('host', port, {});
    await d.docker(
      'run',
      '-d',
      '--name',
      'joined',
      '--network',
      'container:host',
      '--stop-timeout',
      '1',
      '--label',
      'traefik.enable=true',
      '--label',
      'traefik.http.routers.joined.rule=PathPrefix(`/host/`)',
      '--label',
      `traefik.http.services.joined.loadbalancer.server.port=${port}`,
      IMAGE,
      'sleep',
      '3600',
    );
    assert.deepEqual(await servedAfter(from, '/host/', 200), { status: 200, text: 'host' });
    await d.docker('rm', '-f', 'joined', 'host');
  });

  it('reads a constraint regexp that does not compile as no match, with a warning (as Traefik), not as a refusal', async () => {
    const other = await startProxy({
      config: `${providersHead('100ms')}  docker:
    endpoint: "${d.endpoint}"
    exposedByDefault: false
    constraints: "!LabelRegex(\`team\`, \`(\`)"
`,
    });
    try {
      const warned = other.logs.find(
        (l) => typeof l.issue === 'string' && l.issue.includes('invalid regular expression "("'),
      );
      assert.ok(warned, JSON.stringify(other.logs.filter((l) => l.issue !== undefined)));
      assert.match(
        String(warned.issue),
        /^warning: providers\.docker\.constraints: invalid regular expression .*matches nothing, as in Traefik/,
      );
      const from = other.logs.length;
      const port = await freePort();
      await d.runHttpd('kept', port, { ...labels('kept', port), team: 'a' });
      await waitForLogFrom(other, from, applied, 30_000);
      // `!LabelRegex(…)` of a regexp that never matches lets the container through.
      const deadline = Date.now() + 30_000;
      let r = await get(other.ports['web'] ?? 0, '/kept/');
      while (r.status !== 200 && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 100));
        r = await get(other.ports['web'] ?? 0, '/kept/');
      }
      assert.deepEqual(r, { status: 200, text: 'kept' });
    } finally {
      await other.stop();
      await d.docker('rm', '-f', 'kept');
    }
  });

  it('keeps serving while dockerd is down, shows it down, and recovers by itself', async () => {
    let from = proxy.logs.length;
    // Its server lives outside Docker, so it still answers while dockerd is down.
    await d.runHttpd('pointer', await freePort(), {
      'traefik.enable': 'true',
      'traefik.http.routers.pointer.rule': 'PathPrefix(`/pointer`)',
      'traefik.http.services.pointer.loadbalancer.server.url': outside.url,
    });
    assert.deepEqual(await servedAfter(from, '/pointer', 200), { status: 200, text: 'outside /pointer' });
    from = proxy.logs.length;
    await d.stop();
    await waitForLogFrom(
      proxy,
      from,
      (l) => l.msg === 'provider failed: its last configuration keeps serving' && l.provider === 'docker',
      30_000,
    );
    const states = (await (await fetch(`http://127.0.0.1:${admin}/api/providers`)).json()) as {
      name: string;
      phase: string;
    }[];
    assert.equal(states.find((s) => s.name === 'docker')?.phase, 'down');
    assert.deepEqual(
      await get(web, '/pointer'),
      { status: 200, text: 'outside /pointer' },
      'the last good configuration',
    );
    assert.match((await get(admin, '/metrics')).text, /^traffic_provider_up\{provider="docker"\} 0$/m);
    from = proxy.logs.length;
    await d.start(['pointer']);
    await waitForLogFrom(
      proxy,
      from,
      (l) => l.msg === 'provider recovered' && l.provider === 'docker',
      90_000,
    );
    const port = await freePort();
    const later = proxy.logs.length;
    await d.runHttpd('after', port, labels('after', port));
    assert.deepEqual(await servedAfter(later, '/after/', 200), { status: 200, text: 'after' });
  });
});
