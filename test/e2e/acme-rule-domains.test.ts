/**
 * Which names a router's certResolver orders when the router has no tls.domains: as Traefik's
 * ACME provider (httpmuxer.ParseDomains), every Host value of its rule, also one a match does
 * not require (`Host(a) || PathPrefix(/x)`), but not a negated one (Traefik v3.7.13, "Ignore
 * negated matchers when parsing rule domains"). Against Debian's pebble on loopback.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { obtainedAndServed } from '../helpers/acme-fetch.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { freePort, PEBBLE_SKIP, type Pebble, startPebble } from '../helpers/pebble.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('ACME: the names of a router rule', { skip: PEBBLE_SKIP }, () => {
  const EITHER = 'acme-either.test';
  const NEVER = 'acme-never.test';
  let dir: string;
  let ca: Pebble;
  let root: string;
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acme-rule-'));
    backend = await startBackend((_req, res) => res.end('backend ok'));
    const webPort = await freePort();
    const tlsPort = await freePort();
    ca = await startPebble({ httpPort: webPort, tlsPort });
    root = await ca.rootCertificate();
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
      httpChallenge: { entryPoint: web }
http:
  routers:
    either:
      rule: "(Host(\`${EITHER}\`) || PathPrefix(\`/either\`)) && !Host(\`${NEVER}\`)"
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

  it('orders the Host of a rule that does not require it, and never the negated one', async () => {
    const got = await obtainedAndServed(proxy, ca, root, { resolver: 'le', host: EITHER });
    assert.equal(got.status, 200);
    const mentions = proxy.logs.filter((l) => JSON.stringify(l).includes(NEVER));
    assert.deepEqual(mentions, [], 'no order, nor a failed one, for the negated name');
    assert.equal(ca.output().includes(NEVER), false);
  });
});
