/**
 * DNS-01 through the real proxy process with lego's generic providers, against Debian's pebble
 * whose validator asks pebble-challtestsrv for TXT records, all on loopback:
 *
 * - `exec`: EXEC_PATH is a shell script written here that publishes and withdraws the record with
 *   curl on challtestsrv's management API (`/set-txt`, `/clear-txt`), as a user's script would
 *   call their DNS host's API;
 * - `httpreq`: HTTPREQ_ENDPOINT is a small node:http service here, behind Basic authentication,
 *   that does the same for `POST /present` and `POST /cleanup`.
 *
 * Nothing else publishes records, so a certificate issued means the provider published exactly
 * the value pebble expected. Clients trust only pebble's root: "trusted" means the proxy presents
 * the issued chain for that SNI, not its generated default certificate.
 *
 * The propagation check asks challtestsrv's DNS port (`resolvers`), on the resolvers only
 * (`requireAllRNS`, `disableANSChecks`): challtestsrv answers SOA and NS with NOTIMP, and is the
 * only server that has the records. A script that publishes its record late shows that the check
 * is what lets the order succeed: with `disableChecks` the same order fails.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { acmeContext, fetchTls, hasDomain, untilTrusted } from '../helpers/acme-fetch.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type Pebble, startPebble } from '../helpers/pebble.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { runCli } from '../helpers/run-cli.ts';
import { toolPath } from '../helpers/tools.ts';

/** curl for the scripts, resolved when a script is written: a missing one fails naming its package. */
const curlPath = (): string => toolPath('curl');

/** POSTs JSON to challtestsrv's management API; resolves with its status. */
function challtestsrv(base: string, path: string, body: unknown): Promise<number> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: 'POST', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

interface DnsCall {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: { fqdn?: string; value?: string };
}

/**
 * The user's httpreq service: checks Basic credentials, then publishes on challtestsrv.
 * A record name containing `fail-httpreq` gets a 503, as from a DNS host that is down; one
 * containing `unpublished` gets a 200 but is never published, as from a host that loses it.
 */
async function startHttpReqService(
  dnsManagementUrl: string,
  credentials: string,
): Promise<{ url: string; calls: DnsCall[]; close(): Promise<void> }> {
  const calls: DnsCall[] = [];
  const expected = `Basic ${Buffer.from(credentials).toString('base64')}`;
  const server: Server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
    });
    req.on('end', () => {
      void (async () => {
        const body = JSON.parse(text) as DnsCall['body'];
        calls.push({ path: req.url ?? '', authorization: req.headers.authorization, body });
        if (req.headers.authorization !== expected) {
          res.writeHead(401).end('bad credentials');
          return;
        }
        if (String(body.fqdn).includes('fail-httpreq')) {
          res.writeHead(503).end('dns backend down');
          return;
        }
        if (String(body.fqdn).includes('unpublished')) {
          res.writeHead(200).end();
          return;
        }
        const status =
          req.url === '/present'
            ? await challtestsrv(dnsManagementUrl, '/set-txt', { host: body.fqdn, value: body.value })
            : req.url === '/cleanup'
              ? await challtestsrv(dnsManagementUrl, '/clear-txt', { host: body.fqdn })
              : 404;
        res.writeHead(status === 200 ? 200 : 502).end();
      })().catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The user's exec program: curl to challtestsrv, one line per call in `log`. A record name
 * containing `fail-exec` fails with a message on stderr, as a script whose DNS API refuses.
 */
function execScript(dnsManagementUrl: string, log: string): string {
  return `#!/bin/sh
set -eu
case "$2" in
  *fail-exec*) echo "dns api: zone for $2 is locked" >&2; exit 4 ;;
esac
case "$1" in
  present) ${curlPath()} -sS -f -X POST -d "{\\"host\\":\\"$2\\",\\"value\\":\\"$3\\"}" '${dnsManagementUrl}/set-txt' ;;
  cleanup) ${curlPath()} -sS -f -X POST -d "{\\"host\\":\\"$2\\"}" '${dnsManagementUrl}/clear-txt' ;;
  *) echo "unknown action $1" >&2; exit 2 ;;
esac
echo "$1 $2 $3" >> '${log}'
`;
}

/** The check on challtestsrv's DNS port, the only server that has the records. */
function checkedOn(dns: string): string {
  return `resolvers: ["${dns}"], propagation: { requireAllRNS: true, disableANSChecks: true }`;
}

/**
 * An exec program that returns at once and publishes its record about 2 s later, in the
 * background, as a DNS host whose API answers before its nameservers serve the change. Its
 * output goes nowhere, so that the provider's run ends with the script itself.
 */
function latePublishingScript(dnsManagementUrl: string, log: string): string {
  return `#!/bin/sh
set -eu
case "$1" in
  present) ( sleep 2; ${curlPath()} -sS -f -X POST -d "{\\"host\\":\\"$2\\",\\"value\\":\\"$3\\"}" '${dnsManagementUrl}/set-txt' ) >/dev/null 2>&1 & ;;
  cleanup) ${curlPath()} -sS -f -X POST -d "{\\"host\\":\\"$2\\"}" '${dnsManagementUrl}/clear-txt' ;;
  *) echo "unknown action $1" >&2; exit 2 ;;
esac
echo "$1 $2 $3" >> '${log}'
`;
}

function router(name: string, host: string, resolver: string, domains?: string): string {
  return `    ${name}:
      rule: "Host(\`${host}\`)"
      entryPoints: [websecure]
      service: be
      tls:
        certResolver: ${resolver}
${domains === undefined ? '' : `        domains: [${domains}]\n`}`;
}

/**
 * The outcome of the first order for `name`: the "obtained" line, or a test failure quoting the
 * "request failed" line (a provider that published a wrong value fails here at once).
 */
async function obtained(proxy: ProxyProcess, ca: Pebble, name: string): Promise<LogLine> {
  const line = await proxy
    .waitForLog(
      (l) =>
        (l.msg === 'acme certificate obtained' || l.msg === 'acme certificate request failed') &&
        hasDomain(l, name),
      30_000,
    )
    .catch((e: Error) => assert.fail(`${e.message}${acmeContext(proxy, ca)}`));
  if (line.msg !== 'acme certificate obtained')
    assert.fail(`${name}: ${String(line.error)}${acmeContext(proxy, ca)}`);
  return line;
}

/** What both proxy suites run against: pebble, a backend, the exec script and the httpreq service. */
interface DnsWorld {
  readonly dir: string;
  readonly ca: Pebble;
  readonly root: string;
  readonly backend: Backend;
  readonly service: Awaited<ReturnType<typeof startHttpReqService>>;
  /** One line per call of the exec script. */
  readonly execLog: string;
  readonly script: string;
  /** challtestsrv's DNS address, for the propagation check. */
  readonly dns: string;
  /** A `certificatesResolvers.<n>` body with this `dnsChallenge` (YAML flow map). */
  resolver(dnsChallenge: string): string;
  /** The static configuration: a TLS entry point, these resolvers and routers, one backend. */
  config(resolvers: string, routers: string): string;
  /** The environment of the proxy: the providers' variables, the httpreq credentials. */
  env(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

const CREDENTIALS = 'acme-user:s3cret';

async function startDnsWorld(
  prefix: string,
  script: (dnsManagementUrl: string, log: string) => string,
): Promise<DnsWorld> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const backend = await startBackend((_req, res) => res.end('backend ok'));
  const ca = await startPebble();
  const root = await ca.rootCertificate();
  const caFile = join(dir, 'pebble-ca.pem');
  writeFileSync(caFile, ca.serverCaPem);
  const execLog = join(dir, 'exec-calls.log');
  const scriptFile = join(dir, 'publish-txt.sh');
  writeFileSync(scriptFile, script(ca.dnsManagementUrl, execLog));
  chmodSync(scriptFile, 0o755);
  const service = await startHttpReqService(ca.dnsManagementUrl, CREDENTIALS);
  const [user = '', password = ''] = CREDENTIALS.split(':');
  return {
    dir,
    ca,
    root,
    backend,
    service,
    execLog,
    script: scriptFile,
    dns: ca.dnsAddress,
    resolver: (dnsChallenge) => `    acme:
      email: "admin@acme.test"
      caServer: "${ca.directoryUrl}"
      storage: "${join(dir, 'acme.json')}"
      caCertificates: ["${caFile}"]
      keyType: EC256 # RSA-4096, the default, takes seconds a key; not what this tests
      dnsChallenge: ${dnsChallenge}
`,
    config: (resolvers, routers) => `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http:
      tls: {}
log: { level: INFO }
certificatesResolvers:
${resolvers}http:
  routers:
${routers}  services:
    be:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
`,
    env: (extra = {}) => ({
      EXEC_PATH: scriptFile,
      HTTPREQ_ENDPOINT: service.url,
      HTTPREQ_USERNAME: user,
      HTTPREQ_PASSWORD: password,
      ...extra,
    }),
    close: async () => {
      await service.close();
      await ca.close();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('ACME dns-01 through the proxy with the exec and httpreq providers', () => {
  const WILD = '*.exec-wild.test';
  const WILD_BASE = 'exec-wild.test';
  const WILD_HOST = 'api.exec-wild.test';
  const HTTPREQ_HOST = 'www.httpreq.test';
  const EXEC_FAIL = 'fail-exec.test';
  const HTTPREQ_FAIL = 'fail-httpreq.test';
  let world: DnsWorld;
  let ca: Pebble;
  let root: string;
  let service: DnsWorld['service'];
  let proxy: ProxyProcess;
  let execLog: string;
  let tlsPort: number;

  before(async () => {
    world = await startDnsWorld('acme-dns-e2e-', execScript);
    ({ ca, root, service, execLog } = world);
    const resolver = (provider: string) =>
      world.resolver(`{ provider: ${provider}, ${checkedOn(world.dns)} }`);
    proxy = await startProxy({
      config: world.config(
        `  viaexec:\n${resolver('exec')}  viahttpreq:\n${resolver('httpreq')}`,
        `${router('wild', WILD_HOST, 'viaexec', `{ main: "${WILD}", sans: ["${WILD_BASE}"] }`)}${router('httpreq', HTTPREQ_HOST, 'viahttpreq')}${router('execfail', EXEC_FAIL, 'viaexec')}${router('httpreqfail', HTTPREQ_FAIL, 'viahttpreq')}`,
      ),
      env: world.env(),
    });
    tlsPort = proxy.ports['websecure'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await world?.close();
  });

  it('obtains a wildcard certificate through the exec program and serves it by SNI for names below it', async () => {
    assert.equal((await obtained(proxy, ca, WILD)).resolver, 'viaexec');
    const got = await untilTrusted(tlsPort, WILD_HOST, root);
    assert.equal(got.status, 200);
    assert.equal(got.body, 'backend ok');
    assert.match(got.issuer, /Pebble Intermediate/);
    assert.equal(got.san, `DNS:${WILD}, DNS:${WILD_BASE}`);
    // The wildcard covers any one label: a name no router knows gets it too (and a 404).
    const other = await fetchTls(tlsPort, `other.${WILD_BASE}`, root);
    assert.ok(other.trusted, other.why);
    assert.equal(other.status, 404);
    const base = await fetchTls(tlsPort, WILD_BASE, root);
    assert.ok(base.trusted, base.why);

    // Two authorizations (the wildcard and the base name) share one record name: each value was
    // published, then withdrawn, one after the other.
    const calls = readFileSync(execLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .filter((c) => c[1] === `_acme-challenge.${WILD_BASE}.`);
    assert.deepEqual(
      calls.map((c) => c[0]),
      ['present', 'cleanup', 'present', 'cleanup'],
      readFileSync(execLog, 'utf8'),
    );
    assert.equal(calls[0]?.[2], calls[1]?.[2]);
    assert.equal(calls[2]?.[2], calls[3]?.[2]);
    assert.notEqual(calls[0]?.[2], calls[2]?.[2], 'one value per authorization');
    for (const c of calls) assert.match(c[2] ?? '', /^[A-Za-z0-9_-]{43}$/, 'base64url of a SHA-256');
  });

  it('obtains a certificate through the httpreq service, with its Basic credentials, and serves it by SNI', async () => {
    assert.equal((await obtained(proxy, ca, HTTPREQ_HOST)).resolver, 'viahttpreq');
    const got = await untilTrusted(tlsPort, HTTPREQ_HOST, root);
    assert.equal(got.status, 200);
    assert.equal(got.body, 'backend ok');
    assert.equal(got.san, `DNS:${HTTPREQ_HOST}`);
    const calls = service.calls.filter((c) => c.body.fqdn === `_acme-challenge.${HTTPREQ_HOST}.`);
    assert.deepEqual(
      calls.map((c) => c.path),
      ['/present', '/cleanup'],
    );
    for (const c of calls) {
      assert.equal(c.authorization, `Basic ${Buffer.from(CREDENTIALS).toString('base64')}`);
      assert.deepEqual(Object.keys(c.body).sort(), ['fqdn', 'value']);
      assert.match(c.body.value ?? '', /^[A-Za-z0-9_-]{43}$/);
    }
    assert.equal(calls[0]?.body.value, calls[1]?.body.value, 'cleanup names the value it withdraws');
  });

  it("logs a failing exec program's exit status and stderr, and keeps serving the generated certificate", async () => {
    const failed = await proxy
      .waitForLog((l) => l.msg === 'acme certificate request failed' && hasDomain(l, EXEC_FAIL), 30_000)
      .catch((e: Error) => assert.fail(`${e.message}${acmeContext(proxy, ca)}`));
    assert.equal(failed.resolver, 'viaexec');
    assert.match(
      String(failed.error),
      /present _acme-challenge\.fail-exec\.test\.: exited with status 4: dns api: zone for _acme-challenge\.fail-exec\.test\. is locked$/,
    );
    const got = await fetchTls(tlsPort, EXEC_FAIL, root);
    assert.equal(got.trusted, false, 'no certificate was issued');
    assert.equal(got.status, 200, 'the router still serves, with the generated certificate');
  });

  it("logs the httpreq service's error status", async () => {
    const failed = await proxy
      .waitForLog((l) => l.msg === 'acme certificate request failed' && hasDomain(l, HTTPREQ_FAIL), 30_000)
      .catch((e: Error) => assert.fail(`${e.message}${acmeContext(proxy, ca)}`));
    assert.equal(failed.resolver, 'viahttpreq');
    assert.equal(
      failed.error,
      `httpreq: POST ${service.url}/present answered 503 Service Unavailable: dns backend down`,
    );
  });
});

describe('ACME dns-01 propagation check through the proxy', () => {
  const CHECKED = 'late.test';
  const UNCHECKED = 'late-unchecked.test';
  const LOST = 'unpublished.test';
  let world: DnsWorld;
  let ca: Pebble;
  let root: string;
  let service: DnsWorld['service'];
  let proxy: ProxyProcess;
  let execLog: string;

  before(async () => {
    world = await startDnsWorld('acme-dns-propagation-', latePublishingScript);
    ({ ca, root, service, execLog } = world);
    const checked = checkedOn(world.dns);
    proxy = await startProxy({
      config: world.config(
        `  checked:\n${world.resolver(`{ provider: exec, ${checked} }`)}  unchecked:\n${world.resolver('{ provider: exec, propagation: { disableChecks: true } }')}  lost:\n${world.resolver(`{ provider: httpreq, ${checked} }`)}`,
        `${router('checked', CHECKED, 'checked')}${router('unchecked', UNCHECKED, 'unchecked')}${router('lost', LOST, 'lost')}`,
      ),
      env: world.env({
        EXEC_POLLING_INTERVAL: '1',
        HTTPREQ_PROPAGATION_TIMEOUT: '2',
        HTTPREQ_POLLING_INTERVAL: '1',
      }),
    });
  });

  after(async () => {
    await proxy?.stop();
    await world?.close();
  });

  it('waits until the late record is served before the CA validates, and obtains the certificate', async () => {
    const record = `_acme-challenge.${CHECKED}.`;
    assert.equal((await obtained(proxy, ca, CHECKED)).resolver, 'checked');
    const waiting = proxy.logs.findIndex(
      (l) => l.msg === 'acme dns-01 waiting for the record to propagate' && l.record === record,
    );
    const seen = proxy.logs.findIndex(
      (l) => l.msg === 'acme dns-01 record propagated' && l.record === record,
    );
    assert.ok(waiting !== -1 && seen > waiting, acmeContext(proxy, ca));
    const got = await untilTrusted(proxy.ports['websecure'] ?? 0, CHECKED, root);
    assert.equal(got.san, `DNS:${CHECKED}`);
    const calls = readFileSync(execLog, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => l.split(' ')[1] === record)
      .map((l) => l.split(' ')[0]);
    assert.deepEqual(calls, ['present', 'cleanup']);
  });

  it('fails the same order with disableChecks: the CA looks before the record is there', async () => {
    const failed = await proxy
      .waitForLog((l) => l.msg === 'acme certificate request failed' && hasDomain(l, UNCHECKED), 30_000)
      .catch((e: Error) => assert.fail(`${e.message}${acmeContext(proxy, ca)}`));
    assert.equal(failed.resolver, 'unchecked');
    // pebble: "No TXT records found for DNS challenge".
    assert.match(
      String(failed.error),
      new RegExp(
        `^ACME urn:ietf:params:acme:error:unauthorized: dns-01 for ${UNCHECKED.replaceAll('.', '\\.')}: `,
      ),
    );
    assert.ok(
      !proxy.logs.some(
        (l) => l.msg === 'acme dns-01 waiting for the record to propagate' && l.resolver === 'unchecked',
      ),
      'no check ran for the unchecked resolver',
    );
  });

  it("fails at the provider's propagation timeout, naming the record and the server, and withdraws it", async () => {
    const record = `_acme-challenge.${LOST}.`;
    const failed = await proxy
      .waitForLog((l) => l.msg === 'acme certificate request failed' && hasDomain(l, LOST), 30_000)
      .catch((e: Error) => assert.fail(`${e.message}${acmeContext(proxy, ca)}`));
    assert.equal(failed.resolver, 'lost');
    assert.match(
      String(failed.error),
      new RegExp(
        `^dns-01: TXT record ${record.replaceAll('.', '\\.')} "[A-Za-z0-9_-]{43}" not seen within 2s \\(the DNS provider's propagation timeout\\): recursive nameserver ${ca.dnsAddress.replaceAll('.', '\\.')}: no TXT record$`,
      ),
    );
    assert.deepEqual(
      service.calls.filter((c) => c.body.fqdn === record).map((c) => c.path),
      ['/present', '/cleanup'],
    );
  });
});

describe('ACME dns-01 provider configuration at start-up', () => {
  function config(dir: string, provider: string): string {
    const file = join(dir, 'traffic.yaml');
    writeFileSync(
      file,
      `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http:
      tls: {}
certificatesResolvers:
  dns:
    acme:
      email: "admin@acme.test"
      caServer: "https://127.0.0.1:1/dir"
      storage: "${join(dir, 'acme.json')}"
      dnsChallenge: { provider: ${provider} }
`,
    );
    return file;
  }

  it('refuses to start without the environment variable the provider needs, naming it', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'acme-dns-env-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const exec = await runCli(['run', '--config', config(dir, 'exec')], {
      env: { EXEC_PATH: '', EXEC_PATH_FILE: '' },
    });
    assert.equal(exec.code, 1, exec.stderr);
    assert.match(
      exec.stderr,
      /certificatesResolvers\.dns\.acme\.dnsChallenge \(provider exec\): the exec provider needs the environment variable EXEC_PATH/,
    );
    assert.doesNotMatch(exec.stderr, /entry point listening/, 'refused before opening any port');
    assert.doesNotMatch(
      exec.stderr,
      /fatal|\n\s+at /,
      'a configuration error, not a crash with a stack trace',
    );
    const httpreq = await runCli(['run', '--config', config(dir, 'httpreq')], {
      env: { HTTPREQ_ENDPOINT: '', HTTPREQ_ENDPOINT_FILE: '', HTTPREQ_MODE: 'RAW' },
    });
    assert.equal(httpreq.code, 1, httpreq.stderr);
    assert.match(httpreq.stderr, /needs the environment variable HTTPREQ_ENDPOINT/);
    assert.match(httpreq.stderr, /HTTPREQ_MODE=RAW is not supported yet/);
  });

  it('names the supported providers for another lego provider', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'acme-dns-env-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const r = await runCli(['run', '--config', config(dir, 'bluecat')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /dnsChallenge\.provider: `bluecat` is not supported yet \(supported: acme-dns, azuredns, bunny, challtestsrv, cloudflare, cloudns, desec, digitalocean, dnsimple, duckdns, dynu, exec, gandi, gandiv5, gcloud, godaddy, hetzner, httpreq, hurricane, infomaniak, inwx, ionos, linode, namecheap, namesilo, netcup, njalla, ovh, pdns, porkbun, rfc2136, route53, scaleway, transip, vultr\)/,
    );
  });
});
