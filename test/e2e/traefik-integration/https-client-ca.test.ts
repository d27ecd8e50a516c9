/**
 * Traefik's integration/https_test.go (v3 branch), its client certificate and backend root CA
 * tests (the rest is in ./https.test.ts): fixtures integration/fixtures/https/clientca/*.toml and
 * rootcas/*.toml adapted by ./fixture.ts, the CAs and client certificates of
 * fixtures/https/clientca/ made by ./fixture-https.ts under the same file names.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { type Backend, startBackend } from '../../helpers/backends.ts';
import { httpRequest } from '../../helpers/http-request.ts';
import type { StartOptions } from '../../helpers/proxy-process.ts';
import { TestPki } from '../../helpers/tls-certs.ts';
import { startFixture } from './fixture.ts';
import { clientCaFiles, httpsGet, removeFixturePkis, snitestCerts } from './fixture-https.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
  removeFixturePkis();
});

/** Go's startTestServer: answers 200 with `text`. */
async function server(text: string): Promise<Backend> {
  const b = await startBackend((_req, res) => res.end(text));
  open.push(() => b.close());
  return b;
}

async function proxy(text: string, vars: Record<string, string>, opts: Partial<StartOptions> = {}) {
  const p = await startFixture(text, vars, { ...opts, files: { ...snitestCerts().files, ...opts.files } });
  open.push(() => p.stop());
  return p;
}

describe('traefik integration/https_test.go (client certificates, backend root CAs)', () => {
  /** integration/fixtures/https/clientca/https_*config.toml: snitest.com and .org, one client auth. */
  const clientCaFixture = (clientAuth: string): string => `[entryPoints]
  [entryPoints.websecure]
    address = ":4443"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    service = "service1"
    rule = "Host(\`snitest.com\`)"
    [http.routers.router1.tls]

  [http.routers.router2]
    service = "service2"
    rule = "Host(\`snitest.org\`)"
    [http.routers.router2.tls]

[http.services]
  [http.services.service1]
    [http.services.service1.loadBalancer]
      [[http.services.service1.loadBalancer.servers]]
        url = "{{ .Server1 }}"

  [http.services.service2]
    [http.services.service2.loadBalancer]
      [[http.services.service2.loadBalancer.servers]]
        url = "{{ .Server2 }}"

[[tls.certificates]]
  certFile = "fixtures/https/snitest.com.cert"
  keyFile = "fixtures/https/snitest.com.key"

[[tls.certificates]]
  certFile = "fixtures/https/snitest.org.cert"
  keyFile = "fixtures/https/snitest.org.key"

[tls.options]
  [tls.options.default.clientAuth]
${clientAuth}`;

  async function clientCaProxy(clientAuth: string): Promise<number> {
    const [b1, b2] = [await server('server1'), await server('server2')];
    const p = await proxy(
      clientCaFixture(clientAuth),
      { Server1: b1.url, Server2: b2.url },
      { files: clientCaFiles().files },
    );
    return p.ports.websecure!;
  }

  /** The request with client certificate `n` (1, 2, 3; 0: none): its body, or the error. */
  async function withClient(port: number, n: 0 | 1 | 2 | 3): Promise<string | Error> {
    const c = n === 0 ? undefined : clientCaFiles().clients[n - 1]!;
    const r = await httpsGet(port, {
      servername: 'snitest.com',
      ...(c === undefined ? {} : { cert: c.certPem, key: c.keyPem }),
    }).catch((e: Error) => e);
    return r instanceof Error ? r : r.body;
  }

  // integration/fixtures/https/clientca/https_1ca1config.toml. Go's client sends a certificate
  // only when its issuer is among the server's acceptable CAs (crypto/tls
  // getClientCertificate): its client2 step sends none, and is served. Node's client sends it,
  // and Go's server, as ours, refuses a certificate that does not verify when one is given.
  it('TestWithClientCertificateAuthentication: VerifyClientCertIfGiven serves no certificate and ca1 ones, not another CA', async () => {
    const port = await clientCaProxy(`    caFiles = ["fixtures/https/clientca/ca1.crt"]
    clientAuthType = "VerifyClientCertIfGiven"
`);
    assert.equal(await withClient(port, 0), 'server1');
    assert.equal(await withClient(port, 1), 'server1');
    assert.ok((await withClient(port, 2)) instanceof Error, 'a ca2 certificate was accepted');
  });

  for (const [name, caFiles] of [
    // integration/fixtures/https/clientca/https_2ca1config.toml
    ['TestWithClientCertificateAuthenticationMultipleCAs', '["fixtures/https/clientca/ca1and2.crt"]'],
    // integration/fixtures/https/clientca/https_2ca2config.toml
    [
      'TestWithClientCertificateAuthenticationMultipleCAsMultipleFiles',
      '["fixtures/https/clientca/ca1.crt", "fixtures/https/clientca/ca2.crt"]',
    ],
  ] as const) {
    it(`${name}: RequireAndVerifyClientCert with ${caFiles}: none and ca3 refused, ca1 and ca2 served`, async () => {
      const port = await clientCaProxy(`    caFiles = ${caFiles}
    clientAuthType = "RequireAndVerifyClientCert"
`);
      assert.ok((await withClient(port, 0)) instanceof Error, 'served without a client certificate');
      assert.equal(await withClient(port, 1), 'server1');
      assert.equal(await withClient(port, 2), 'server1');
      assert.ok((await withClient(port, 3)) instanceof Error, 'a ca3 certificate was accepted');
    });
  }

  /** A TLS backend (Go's httptest.NewTLSServer) whose certificate a fresh CA signed for 127.0.0.1. */
  async function tlsBackend(): Promise<{ url: string; caPem: string }> {
    const pki = new TestPki('httptest CA');
    const leaf = pki.issue('127.0.0.1', ['127.0.0.1']);
    pki.remove();
    const s = createHttpsServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => res.end());
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    open.push(
      () =>
        new Promise<void>((r) => {
          s.closeAllConnections();
          s.close(() => r());
        }),
    );
    return { url: `https://127.0.0.1:${(s.address() as AddressInfo).port}`, caPem: pki.ca.certPem };
  }

  // integration/fixtures/https/rootcas/https.toml and https_with_file.toml (local.crt: the CA that
  // signed the backend's certificate).
  for (const [name, rootCAs] of [
    ['TestWithRootCAsContentForHTTPSOnBackend', (pem: string) => `"""${pem}"""`],
    ['TestWithRootCAsFileForHTTPSOnBackend', () => '"fixtures/https/rootcas/local.crt"'],
  ] as const) {
    it(`${name}: serversTransport.rootCAs verifies the HTTPS backend`, async () => {
      const b = await tlsBackend();
      const p = await proxy(
        `[serversTransport]
  rootCAs = [ ${rootCAs(b.caPem)} ]

[entryPoints]
  [entryPoints.web]
    address = ":8081"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    service = "service1"
    rule = "Path(\`/ping\`)"

[http.services]
  [http.services.service1]
    [http.services.service1.loadBalancer]
      [[http.services.service1.loadBalancer.servers]]
        url = "{{ .BackendHost }}"
`,
        { BackendHost: b.url },
        { files: { 'fixtures/https/rootcas/local.crt': b.caPem } },
      );
      assert.equal((await httpRequest(p.ports.web!, { path: '/ping' })).status, 200);
    });
  }
});
