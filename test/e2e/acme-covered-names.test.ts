/**
 * A router's certResolver orders nothing for names that certificates of the TLS store already
 * cover, as Traefik's ACME provider (pkg/provider/acme/provider.go getUncheckedDomains: the
 * default store's GetAllDomains, matched with types.MatchDomain, wildcards included): a file
 * certificate for `*.covered.test` keeps `a.covered.test` from being ordered, while a router
 * for a name nothing covers gets its certificate. Against Debian's pebble on loopback.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { selfSignedCertificate } from '../../src/tls/x509/index.ts';
import { obtainedAndServed } from '../helpers/acme-fetch.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { freePort, PEBBLE_SKIP, type Pebble, startPebble } from '../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('ACME: names a store certificate covers are not ordered', { skip: PEBBLE_SKIP }, () => {
  const COVERED = 'a.covered.test';
  const OTHER = 'acme-uncovered.test';
  let dir: string;
  let ca: Pebble;
  let root: string;
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acme-covered-'));
    backend = await startBackend((_req, res) => res.end('backend ok'));
    const webPort = await freePort();
    const tlsPort = await freePort();
    ca = await startPebble({ httpPort: webPort, tlsPort });
    root = await ca.rootCertificate();
    const caFile = join(dir, 'pebble-ca.pem');
    writeFileSync(caFile, ca.serverCaPem);
    const wildcard = selfSignedCertificate(['*.covered.test']);
    writeFileSync(join(dir, 'wild.pem'), wildcard.certPem);
    writeFileSync(join(dir, 'wild.key'), wildcard.keyPem);
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:${webPort}"
  websecure:
    address: "127.0.0.1:${tlsPort}"
log: { level: INFO }
certificatesResolvers:
  le:
    acme:
      email: "admin@acme.test"
      caServer: "${ca.directoryUrl}"
      storage: "${join(dir, 'acme.json')}"
      caCertificates: ["${caFile}"]
      keyType: EC256 # RSA-4096, the default, takes seconds a key; not what this tests
      httpChallenge: { entryPoint: web }
tls:
  certificates:
    - certFile: "${join(dir, 'wild.pem')}"
      keyFile: "${join(dir, 'wild.key')}"
http:
  routers:
    covered:
      rule: "Host(\`${COVERED}\`)"
      entryPoints: [websecure]
      service: be
      tls: { certResolver: le }
    other:
      rule: "Host(\`${OTHER}\`)"
      entryPoints: [websecure]
      service: be
      tls: { certResolver: le }
  services:
    be:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await ca?.close();
    await backend?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('orders the uncovered name only', async () => {
    const got = await obtainedAndServed(proxy, ca, root, { resolver: 'le', host: OTHER });
    assert.equal(got.status, 200);
    // The covered router comes first: an order for it would have been made before OTHER's.
    const mentions = proxy.logs.filter(
      (l) => String(l.msg).startsWith('acme') && JSON.stringify(l).includes(COVERED),
    );
    assert.deepEqual(mentions, [], 'no order for the name the file certificate covers');
    assert.equal(ca.output().includes(COVERED), false);
  });
});
