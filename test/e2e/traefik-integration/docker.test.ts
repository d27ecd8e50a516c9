/**
 * Traefik's integration/docker_test.go (v3) run against our proxy and a real dockerd
 * (test/helpers/dockerd.ts: its own socket and folders, containers on the host network). No image
 * can be pulled here, so the compose services of integration/resources/compose/docker.yml run
 * the busybox image the helper imports, with the same labels:
 *
 * - `swarm:1.0.0` (`manage token://…`), which answers `GET /version` with
 *   `{"Version":"swarm/1.0.0",…}`: busybox httpd serving that file;
 * - `traefik/whoamitcp -name my.super.host`, which answers each connection with its name:
 *   busybox nc (`-ll -e echo my.super.host`).
 *
 * On the host network a container's port is its exposed port (`--expose`, a free loopback port):
 * compose's images expose theirs; the `…server.port` labels name that port instead of 8080 and
 * 2375. The fixture is integration/fixtures/docker/simple.toml's v3 form (the stored one is v1's
 * `[docker]`): the Go test's fields `DockerHost` and `DefaultRule`, `exposedByDefault`, the API on
 * the `traefik` entry point (./fixture-prov.ts). Containers are named as compose's services, which
 * Traefik's `.Name` is for a compose container.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { type DnsRelay, dnsAddress, dnsRelay } from '../../helpers/dns-relay.ts';
import { type Dockerd, IMAGE, startDockerd } from '../../helpers/dockerd.ts';
import { freePort } from '../../helpers/free-port.ts';
import { type Named, startNamed } from '../../helpers/named.ts';
import type { ProxyProcess } from '../../helpers/proxy-process.ts';
import { get, startFixtureWithApi, until } from './fixture-prov.ts';

let d: Dockerd;
const proxies: ProxyProcess[] = [];
before(async () => {
  d = await startDockerd();
});
after(async () => {
  for (const p of proxies) await p.stop();
  await d?.close();
});

const SIMPLE = `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[entryPoints]
  [entryPoints.web]
    address = ":8000"

[api]
  insecure = true

[providers.docker]
  endpoint = "{{ .DockerHost }}"
  defaultRule = "{{ .DefaultRule }}"
  exposedByDefault = true
`;

async function startTraefik(): Promise<ProxyProcess> {
  const p = await startFixtureWithApi(SIMPLE, {
    DockerHost: d.endpoint,
    DefaultRule: 'Host(`{{ normalize .Name }}.docker.localhost`)',
  });
  proxies.push(p);
  return p;
}

/** The proxy stopped and the test's containers removed (Go's TearDownTest composeStop). */
async function tearDown(p: ProxyProcess, ...containers: string[]): Promise<void> {
  await p.stop();
  proxies.splice(proxies.indexOf(p), 1);
  if (containers.length > 0) await d.docker('rm', '-f', ...containers);
}

/** The `swarm:1.0.0` stand-in: `GET /version` answers its JSON; on `port`, exposed. */
async function swarm(name: string, port: number, labels: Readonly<Record<string, string>>): Promise<void> {
  const args = [
    'run',
    '-d',
    '--name',
    name,
    '--network',
    'host',
    '--stop-timeout',
    '1',
    '--expose',
    String(port),
  ];
  for (const [k, v] of Object.entries(labels)) args.push('--label', `${k}=${v}`);
  const version = JSON.stringify({ Version: 'swarm/1.0.0', ApiVersion: '1.21' });
  await d.docker(
    ...args,
    IMAGE,
    'sh',
    '-c',
    `echo '${version}' > /www/version && exec httpd -f -p 127.0.0.1:${port} -h /www`,
  );
}

/** GET /version with `host`, until `status` (Go's try.ResponseUntilStatusCode, bounded). */
async function version(p: ProxyProcess, host: string, status: number) {
  const r = await until(
    () => get(p.ports.web!, '/version', host),
    (r) => r.status === status,
    100,
  );
  assert.equal(r.status, status, `${host}: ${r.text}`);
  return r;
}

describe('traefik integration/docker_test.go', () => {
  it('TestSimpleConfiguration: 404 with no container', async () => {
    const p = await startTraefik();
    assert.equal((await get(p.ports.web!, '/')).status, 404);
    await tearDown(p);
  });

  it('TestDefaultDockerContainers: a container without labels gets the default rule', async () => {
    await swarm('simple', await freePort(), {});
    const p = await startTraefik();
    const r = await version(p, 'simple.docker.localhost', 200);
    assert.equal((JSON.parse(r.text) as { Version: string }).Version, 'swarm/1.0.0');
    await tearDown(p, 'simple');
  });

  it('TestDockerContainersWithTCPLabels: a TCP router with TLS from the labels', async () => {
    const port = await freePort();
    await d.docker(
      'run',
      '-d',
      '--name',
      'withtcplabels',
      '--network',
      'host',
      '--stop-timeout',
      '1',
      '--expose',
      String(port),
      '--label',
      'traefik.tcp.Routers.Super.Rule=HostSNI(`my.super.host`)',
      '--label',
      'traefik.tcp.Routers.Super.tls=true',
      '--label',
      `traefik.tcp.Services.Super.Loadbalancer.server.port=${port}`,
      IMAGE,
      'busybox',
      'nc',
      '-ll',
      '-p',
      String(port),
      '-e',
      'busybox',
      'echo',
      'my.super.host',
    );
    const p = await startTraefik();
    const raw = await until(
      () => get(p.ports.traefik!, '/api/rawdata'),
      (r) => r.status === 200 && r.text.includes('HostSNI(`my.super.host`)'),
      100,
    );
    assert.ok(raw.text.includes('HostSNI(`my.super.host`)'), raw.text);
    // Go's guessWho: "WHO" over TLS with SNI my.super.host, the answer read.
    const who = await new Promise<string>((resolve, reject) => {
      const s = connect({
        host: '127.0.0.1',
        port: p.ports.web!,
        servername: 'my.super.host',
        rejectUnauthorized: false,
      });
      let got = '';
      s.setTimeout(10_000, () => s.destroy(new Error(`no answer: ${got}`)));
      s.on('secureConnect', () => s.write('WHO'));
      s.setEncoding('utf8');
      s.on('data', (c: string) => {
        got += c;
      });
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
    assert.ok(who.includes('my.super.host'), who);
    await tearDown(p, 'withtcplabels');
  });

  it('TestDockerContainersWithLabels: each container routed by its router label', async () => {
    await swarm('withlabels1', await freePort(), {
      'traefik.http.Routers.Super.Rule': 'Host(`my.super.host`)',
    });
    await swarm('withlabels2', await freePort(), {
      'traefik.http.Routers.SuperHost.Rule': 'Host(`my-super.host`)',
    });
    const p = await startTraefik();
    await version(p, 'my-super.host', 200);
    const r = await version(p, 'my.super.host', 200);
    assert.equal((JSON.parse(r.text) as { Version: string }).Version, 'swarm/1.0.0');
    await tearDown(p, 'withlabels1', 'withlabels2');
  });

  it('TestDockerContainersWithOneMissingLabels: an unknown label routes nothing there', async () => {
    await swarm('withonelabelmissing', await freePort(), { 'traefik.random.value': 'my.super.host' });
    const p = await startTraefik();
    // The container's default-rule router is there: wait for it, then my.super.host is 404.
    await version(p, 'withonelabelmissing.docker.localhost', 200);
    await version(p, 'my.super.host', 404);
    await tearDown(p, 'withonelabelmissing');
  });

  it('TestRestartDockerContainers: a stopped container leaves the configuration, back when started', async () => {
    const port = await freePort();
    await swarm('powpow', port, {
      'traefik.http.Routers.Super.Rule': 'Host(`my.super.host`)',
      'traefik.http.Services.powpow.LoadBalancer.server.Port': String(port),
    });
    const p = await startTraefik();
    const r = await version(p, 'my.super.host', 200);
    assert.equal((JSON.parse(r.text) as { Version: string }).Version, 'swarm/1.0.0');
    const rawdata = () => get(p.ports.traefik!, '/api/rawdata');
    assert.ok((await until(rawdata, (r) => r.text.includes('powpow'), 100)).text.includes('powpow'));
    await d.docker('stop', 'powpow');
    const gone = await until(rawdata, (r) => !r.text.includes('powpow'), 100);
    assert.ok(!gone.text.includes('powpow'), gone.text);
    await d.docker('start', 'powpow');
    const back = await until(rawdata, (r) => r.text.includes('powpow'), 100);
    assert.ok(back.text.includes('powpow'), back.text);
    await tearDown(p, 'powpow');
  });

  // The stored compose file predates this test's `nonRunning` service: its labels are the ones
  // the test implies (router NonRunning, Host non.running.host, Traefik v3.6's
  // traefik.docker.allownonrunning); traefik/whoami's answer starts with `Hostname:`.
  it('TestDockerAllowNonRunning: a stopped container with allownonrunning keeps its router, 503', async () => {
    const port = await freePort();
    await d.docker(
      'run',
      '-d',
      '--name',
      'nonRunning',
      '--network',
      'host',
      '--stop-timeout',
      '1',
      '--expose',
      String(port),
      '--label',
      'traefik.http.Routers.NonRunning.Rule=Host(`non.running.host`)',
      '--label',
      'traefik.docker.allownonrunning=true',
      IMAGE,
      'sh',
      '-c',
      `echo 'Hostname: nonRunning' > /www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /www`,
    );
    const p = await startTraefik();
    const web = () => get(p.ports.web!, '/', 'non.running.host');
    const up = await until(web, (r) => r.status === 200, 100);
    assert.equal(up.status, 200, up.text);
    assert.ok(up.text.includes('Hostname:'), up.text);
    const routers = () => get(p.ports.traefik!, '/api/http/routers');
    assert.ok((await routers()).text.includes('NonRunning'));
    await d.docker('stop', 'nonRunning');
    // The router stays; its service has no server left: 503.
    const down = await until(web, (r) => r.status === 503, 100);
    assert.equal(down.status, 503, down.text);
    assert.ok((await routers()).text.includes('NonRunning'));
    assert.ok((await get(p.ports.traefik!, '/api/http/services')).text.includes('nonRunning'));
    await tearDown(p, 'nonRunning');
  });
});

/**
 * integration/hostresolver_test.go: the compose whoami (resources/compose/hostresolver.yml, v3
 * labels) routed by `Host(\`github.com\`)`, asked as www.github.com, whose CNAME leads there.
 * The CNAME is not the internet's: a real BIND on loopback holds github.com's zone
 * (www CNAME github.com.), reached through test/helpers/dns-relay.ts; `resolvConfig` names a
 * resolv.conf pointing at it (Traefik's default reads /etc/resolv.conf). The fixture is
 * integration/fixtures/simple_hostresolver.toml in v3's form.
 */
describe('traefik integration/hostresolver_test.go', () => {
  let named: Named;
  let relay: DnsRelay;
  let resolv = '';
  before(async () => {
    named = await startNamed([
      { name: 'github.com', records: ['@ IN A 127.0.0.1', 'www IN CNAME github.com.'] },
    ]);
    const address = dnsAddress();
    relay = await dnsRelay(address, named.port);
    resolv = `nameserver ${address}\n`;
  });
  after(async () => {
    relay?.close();
    await named?.close();
  });

  it('TestSimpleConfig: a host whose CNAME leads to a routed name is routed there; another is 404', async () => {
    const port = await freePort();
    await d.docker(
      'run',
      '-d',
      '--name',
      'server1',
      '--network',
      'host',
      '--stop-timeout',
      '1',
      '--expose',
      String(port),
      '--label',
      'traefik.enable=true',
      '--label',
      `traefik.http.services.service1.loadbalancer.server.port=${port}`,
      '--label',
      'traefik.http.routers.router1.rule=Host(`github.com`)',
      IMAGE,
      'sh',
      '-c',
      `echo 'Hostname: server1' > /www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /www`,
    );
    const p = await startFixtureWithApi(
      `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[entryPoints]
  [entryPoints.web]
    address = ":8000"

[api]
  insecure = true

[providers.docker]
  endpoint = "{{ .DockerHost }}"
  exposedByDefault = false
  defaultRule = "Host(\`{{ normalize .Name }}.docker.local\`)"
  watch = true

[hostResolver]
  cnameFlattening = true
  resolvConfig = "resolv.conf"
`,
      { DockerHost: d.endpoint },
      { files: { 'resolv.conf': resolv } },
    );
    proxies.push(p);
    for (const [host, status] of [
      ['www.github.com', 200],
      ['frontend.docker.local', 404],
    ] as const) {
      const r = await until(
        () => get(p.ports.web!, '/', host),
        (r) => r.status === status && r.text !== '',
        100,
      );
      assert.equal(r.status, status, `${host}: ${r.text}`);
      assert.notEqual(r.text, '', host);
    }
    await tearDown(p, 'server1');
  });
});
