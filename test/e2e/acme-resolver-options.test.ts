/**
 * Traefik v3's resolver keys through the real proxy process against pebble (loopback, as in
 * acme.test.ts): a CA that requires External Account Binding and offers an alternate chain
 * (PEBBLE_ALTERNATE_ROOTS). A static file with `eab`, `preferredChain`, `profile`,
 * `emailAddresses`, `disableCommonName`, `certificatesDuration`, the client timeouts and both
 * httpChallenge and tlsChallenge loads, and the certificate the proxy then serves was
 * registered with the binding and leads to the root `preferredChain` names. (What pebble 2.4 does
 * not show, the profile and the CSR's email addresses and subject, is tested against a fake CA in
 * src/tls/acme/acme-fake-ca.test.ts.)
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { acmeContext, hasDomain, untilTrusted } from '../helpers/acme-fetch.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { freePort, PEBBLE_SKIP, type Pebble, startPebble } from '../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe("ACME with Traefik v3's resolver options through the proxy", { skip: PEBBLE_SKIP }, () => {
  const NAME = 'acme-options.test';
  const KID = 'kid-traffic';
  const HMAC = Buffer.from('a MAC key handed out with the customer account').toString('base64url');
  let dir: string;
  let ca: Pebble;
  let backend: Backend;
  let proxy: ProxyProcess;
  let tlsPort: number;
  let alternateRoot: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acme-options-e2e-'));
    backend = await startBackend((_req, res) => res.end('backend ok'));
    const webPort = await freePort();
    tlsPort = await freePort();
    ca = await startPebble({
      httpPort: webPort,
      tlsPort,
      externalAccountMACKeys: { [KID]: HMAC },
      alternateRoots: 1,
    });
    alternateRoot = await ca.rootCertificate(1);
    const rootName = /^CN=(.*)$/m.exec(new X509Certificate(alternateRoot).subject)?.[1] ?? '';
    const caFile = join(dir, 'pebble-ca.pem');
    writeFileSync(caFile, ca.serverCaPem);
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:${webPort}"
  websecure:
    address: "127.0.0.1:${tlsPort}"
    http:
      tls: {}
log: { level: INFO }
certificatesResolvers:
  le:
    acme:
      email: "admin@acme.test"
      caServer: "${ca.directoryUrl}"
      storage: "${join(dir, 'acme.json')}"
      caCertificates: ["${caFile}"]
      keyType: EC256 # RSA-4096, the default, takes seconds a key; not what this tests
      eab:
        kid: ${KID}
        hmacEncoded: ${HMAC}
      preferredChain: "${rootName}"
      profile: classic
      emailAddresses: [pki@acme.test]
      disableCommonName: true
      certificatesDuration: 168
      clientTimeout: 1m
      clientResponseHeaderTimeout: 20s
      httpChallenge: { entryPoint: web }
      tlsChallenge: {}
http:
  routers:
    site:
      rule: "Host(\`${NAME}\`)"
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

  it('registers with the binding and serves the chain of the preferred root', async () => {
    await proxy
      .waitForLog((l) => l.msg === 'acme certificate obtained' && hasDomain(l, NAME), 20_000)
      .catch((e: Error) => assert.fail(`${e.message}${acmeContext(proxy, ca)}`));
    const got = await untilTrusted(tlsPort, NAME, alternateRoot, {
      what: `the chain of pebble's alternate root for ${NAME}`,
      ms: 5_000,
    });
    assert.equal(got.status, 200);
    assert.equal(got.body, 'backend ok');
    assert.ok(
      proxy.logs.some((l) => l.msg === 'acme account registered'),
      acmeContext(proxy, ca),
    );
    assert.equal(
      proxy.logs.some((l) => l.msg === 'acme certificate request failed'),
      false,
      acmeContext(proxy, ca),
    );
    // httpChallenge and tlsChallenge both set: lego's choice, tls-alpn-01 (pebble offers it), so
    // pebble never fetched an http-01 token.
    assert.equal(ca.output().includes(`validate w/ HTTP: http://${NAME}`), false, acmeContext(proxy, ca));
  });
});
