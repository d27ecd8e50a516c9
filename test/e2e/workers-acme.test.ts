/**
 * ACME with `workers: 2` against Debian's pebble (test/e2e/acme.test.ts has the single process):
 * the control plane runs both resolvers once, and pebble's validator connects to the entry
 * points the two workers share (SO_REUSEPORT), so either worker may get its http-01 request or
 * tls-alpn-01 handshake: each must have the challenge before pebble is told to look. Then every
 * worker serves the certificates the control plane obtained.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { acmeContext, fetchTls, hasDomain, untilTrusted } from '../helpers/acme-fetch.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { freePort, PEBBLE_SKIP, type Pebble, startPebble } from '../helpers/pebble.ts';
import type { ProxyProcess } from '../helpers/proxy-process.ts';
import { killWorkers, scrape, startWorkers } from '../helpers/workers.ts';

const HTTP_NAME = 'workers-http.test';
const ALPN_NAME = 'workers-alpn.test';

describe('workers: ACME runs in the control plane, challenges and certificates reach every worker', {
  skip: PEBBLE_SKIP,
}, () => {
  let dir: string;
  let ca: Pebble;
  let root: string;
  let backend: Backend;
  let proxy: ProxyProcess;
  let tlsPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'workers-acme-'));
    backend = await startBackend((_req, res) => res.end('backend ok'));
    const webPort = await freePort();
    tlsPort = await freePort();
    ca = await startPebble({ httpPort: webPort, tlsPort });
    root = await ca.rootCertificate();
    const caFile = join(dir, 'pebble-ca.pem');
    writeFileSync(caFile, ca.serverCaPem);
    const storage = join(dir, 'acme.json');
    const resolver = (challenge: string) => `    acme:
      email: "admin@acme.test"
      caServer: "${ca.directoryUrl}"
      storage: "${storage}"
      caCertificates: ["${caFile}"]
      keyType: EC256 # RSA-4096, the default, takes seconds a key; not what this tests
      ${challenge}
`;
    proxy = await startWorkers({
      config: `workers: 2
log: { level: INFO, format: json }
entryPoints:
  web:
    address: "127.0.0.1:${webPort}"
  websecure:
    address: "127.0.0.1:${tlsPort}"
    http: { tls: {} }
  traefik:
    address: "127.0.0.1:0"
api: { insecure: true }
metrics:
  prometheus: { entryPoint: traefik, addEntryPointsLabels: true }
certificatesResolvers:
  le:
${resolver('httpChallenge: { entryPoint: web }')}  alpn:
${resolver('tlsChallenge: {}')}http:
  routers:
    viaHttp: { rule: "Host(\`${HTTP_NAME}\`)", entryPoints: [websecure], service: be, tls: { certResolver: le } }
    viaAlpn: { rule: "Host(\`${ALPN_NAME}\`)", entryPoints: [websecure], service: be, tls: { certResolver: alpn } }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
  });

  after(async () => {
    await killWorkers(proxy);
    await ca?.close();
    await backend?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  for (const [name, resolver, kind] of [
    [HTTP_NAME, 'le', 'http-01'],
    [ALPN_NAME, 'alpn', 'tls-alpn-01'],
  ] as const) {
    it(`obtains ${name} once (${kind}, in the control plane) and every worker serves it`, async () => {
      const obtained = await proxy
        .waitForLog((l) => l.msg === 'acme certificate obtained' && hasDomain(l, name), 30_000)
        .catch((e: Error) => assert.fail(`${e.message}${acmeContext(proxy, ca)}`));
      assert.equal(obtained.resolver, resolver);
      assert.equal(obtained.worker, undefined, 'obtained by the control plane, not a worker');
      const first = await untilTrusted(tlsPort, name, root, {
        what: `pebble's certificate for ${name}`,
        ms: 10_000,
      });
      assert.match(first.issuer, /Pebble Intermediate/);
      // New connections land on both workers: each presents the same certificate.
      const before = await scrape(proxy.ports['traefik']!);
      for (let i = 0; i < 30; i++) {
        const got = await fetchTls(tlsPort, name, root);
        assert.equal(got.trusted, true, got.why);
        assert.equal(got.fingerprint, first.fingerprint);
        assert.equal(got.body, 'backend ok');
      }
      const after = await scrape(proxy.ports['traefik']!);
      for (const w of ['1', '2']) {
        assert.ok(after.perWorker.get(w)! > (before.perWorker.get(w) ?? 0), `worker ${w} served ${name}`);
      }
      // No worker ran an ACME client: one order per name, none failed.
      const acmeLogs = proxy.logs.filter((l) => String(l.msg).startsWith('acme'));
      assert.deepEqual(
        acmeLogs.filter((l) => l.worker !== undefined).map((l) => l.msg),
        [],
      );
      assert.equal(
        acmeLogs.filter((l) => l.msg === 'acme certificate obtained' && hasDomain(l, name)).length,
        1,
      );
      assert.equal(
        acmeLogs.some((l) => l.msg === 'acme certificate request failed'),
        false,
        acmeContext(proxy, ca),
      );
    });
  }
});
