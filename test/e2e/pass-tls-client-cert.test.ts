/**
 * passTLSClientCert through the real proxy: a TLS entry point that verifies client certificates,
 * curl presenting one (HTTP/1.1 and HTTP/2), a node:http backend echoing the fields it received.
 * The client certificate comes from src/middleware/test-client-cert.ts (fixed serial, dates and
 * names), so the expected values are Traefik v3's, written out by hand (the unit test's literal).
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type ClientCertPki, makeClientCertPki } from '../../src/middleware/test-client-cert.ts';
import { type Issued, TestPki } from '../../src/upstream/test-pki.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const EXPECTED_INFO =
  'Subject%3D%22DC%3Dcom%2CDC%3Dexample%2CC%3DFR%2CC%3DUS%2CST%3DOccitanie%2CL%3DToulouse%2CL%3DLyon' +
  '%2CO%3DAcme%2C+Inc.%2CO%3DSoci%C3%A9t%C3%A9+G%C3%A9n%C3%A9rale%2COU%3DUnit+A%2COU%3DUnit+B%2CSN%3DS-2' +
  '%2CCN%3Dclient.example.com%22%3BIssuer%3D%22DC%3Dorg%2CDC%3Dexample%2CC%3DFR%2CST%3DOccitanie' +
  '%2CL%3DToulouse%2CO%3DExample+CA%2CSN%3DCA-1%2CCN%3DExample+Root%22%3BSerialNumber%3D%22' +
  '17429726349691885448%22%3BNB%3D%221704164645%22%3BNA%3D%222569738150%22%3BSAN%3D%22b.example.com' +
  '%2Ca.example.com%2Cclient%40example.com%2Csecond%40example.com%2C2001%3Adb8%3A%3A1%3A0%3A0%3A1' +
  '%2C192.0.2.7%2C10.1.2.3%2Cspiffe%3A%2F%2Fexample.com%2Fclient%22';

const DN_ALL =
  'country: true, province: true, locality: true, organization: true, commonName: true, serialNumber: true, domainComponent: true';

/** Answers with the request's raw field lines, so repeated fields stay visible. */
function echoFields(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.on('end', () => {
    const fields: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      fields.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(fields));
  });
}

/** Values of the client-certificate fields the backend received, by lowercased name. */
function certFields(body: Buffer): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of JSON.parse(body.toString()) as [string, string][]) {
    const l = name.toLowerCase();
    if (!l.startsWith('x-forwarded-tls-client-cert')) continue;
    const values = out[l] ?? [];
    values.push(value);
    out[l] = values;
  }
  return out;
}

const SPOOFED = [
  '-H',
  'X-Forwarded-Tls-Client-Cert: MIIforged',
  '-H',
  'X-Forwarded-Tls-Client-Cert-Info: Subject%3D%22CN%3Dadmin%22',
];

describe('passTLSClientCert through the proxy', () => {
  let serverPki: TestPki;
  let server: Issued;
  let client: ClientCertPki;
  let backend: Backend;
  let proxy: ProxyProcess;
  let tls: number;
  let web: number;
  let inner: number;
  let innerTls: number;

  before(async () => {
    serverPki = new TestPki('Server CA');
    server = serverPki.issue('proxy', ['mtls.test', 'opt.test']);
    client = makeClientCertPki();
    backend = await startBackend(echoFields);
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  websecure:
    address: "127.0.0.1:0"
    http:
      tls: {}
  inner:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1/32"] }
  innersecure:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1/32"] }
    http:
      tls: {}
log: { level: DEBUG }
http:
  middlewares:
    client-cert:
      passTLSClientCert:
        pem: true
        info:
          notAfter: true
          notBefore: true
          sans: true
          serialNumber: true
          subject: { ${DN_ALL}, organizationalUnit: true }
          issuer: { ${DN_ALL} }
  routers:
    mtls:
      rule: "Host(\`mtls.test\`)"
      entryPoints: [websecure]
      middlewares: [client-cert]
      service: be
      tls: { options: mtls }
    optional:
      rule: "Host(\`opt.test\`)"
      entryPoints: [websecure]
      middlewares: [client-cert]
      service: be
      tls: { options: optional }
    plain:
      rule: "PathPrefix(\`/\`)"
      entryPoints: [web, inner]
      middlewares: [client-cert]
      service: be
    inner-optional:
      rule: "Host(\`opt.test\`)"
      entryPoints: [innersecure]
      middlewares: [client-cert]
      service: be
      tls: { options: optional }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: server.pem, keyFile: server.key }
  options:
    mtls:
      clientAuth:
        caFiles: [client-ca.pem]
        clientAuthType: RequireAndVerifyClientCert
    optional:
      clientAuth:
        caFiles: [client-ca.pem]
        clientAuthType: VerifyClientCertIfGiven
`,
      files: {
        'server.pem': server.certPem,
        'server.key': server.keyPem,
        'client-ca.pem': client.ca,
      },
    });
    tls = proxy.ports['websecure']!;
    web = proxy.ports['web']!;
    inner = proxy.ports['inner']!;
    innerTls = proxy.ports['innersecure']!;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    serverPki?.remove();
    client?.remove();
  });

  const https = (host: string): string[] => [
    '--cacert',
    serverPki.ca.certFile,
    '--resolve',
    `${host}:${tls}:127.0.0.1`,
    `https://${host}:${tls}/whoami`,
  ];
  const withCert = (): string[] => ['--cert', client.clientFile, '--key', client.clientKeyFile];
  const leafBody = (): string =>
    client.client
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('-----'))
      .join('');

  for (const version of ['--http1.1', '--http2'] as const) {
    it(`gives the backend the verified client certificate over ${version.slice(2)}, never the client's own fields`, async () => {
      const r = await curl([version, ...withCert(), ...SPOOFED, ...https('mtls.test')]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.status, 200);
      assert.equal(r.transfers[0]!.info['http_version'], version === '--http2' ? '2' : '1.1');
      assert.deepEqual(certFields(r.body), {
        'x-forwarded-tls-client-cert': [leafBody()],
        'x-forwarded-tls-client-cert-info': [EXPECTED_INFO],
      });
    });
  }

  it('passes the certificate when the options only verify one if given', async () => {
    const r = await curl([...withCert(), ...https('opt.test')]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(certFields(r.body), {
      'x-forwarded-tls-client-cert': [leafBody()],
      'x-forwarded-tls-client-cert-info': [EXPECTED_INFO],
    });
  });

  it('removes the fields a TLS client without a certificate wrote itself', async () => {
    for (const version of ['--http1.1', '--http2'] as const) {
      const r = await curl([version, ...SPOOFED, ...https('opt.test')]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.status, 200);
      assert.deepEqual(certFields(r.body), {}, version);
    }
  });

  it('removes them on a cleartext entry point too', async () => {
    const r = await curl([...SPOOFED, `http://127.0.0.1:${web}/whoami`]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.status, 200);
    assert.deepEqual(certFields(r.body), {});
  });

  // Traefik's ServeHTTP sets the fields only when req.TLS has peer certificates; the entry point
  // removes them from untrusted peers only. A trusted proxy in front that terminated the client's
  // TLS (a first Traefik with the same middleware) keeps its fields up to the backend.
  it("keeps a trusted peer's fields when it has no certificate of its own, replaces them when it has one", async () => {
    const front = [
      '-H',
      'X-Forwarded-Tls-Client-Cert: MIIfromTheFrontProxy',
      '-H',
      'X-Forwarded-Tls-Client-Cert-Info: Subject%3D%22CN%3Dfront%22',
    ];
    const kept = {
      'x-forwarded-tls-client-cert': ['MIIfromTheFrontProxy'],
      'x-forwarded-tls-client-cert-info': ['Subject%3D%22CN%3Dfront%22'],
    };
    const plain = await curl([...front, `http://127.0.0.1:${inner}/whoami`]);
    assert.equal(plain.status, 200);
    assert.deepEqual(certFields(plain.body), kept);
    const h = (): string[] => [
      '--resolve',
      `opt.test:${innerTls}:127.0.0.1`,
      '--cacert',
      serverPki.ca.certFile,
    ];
    const noCert = await curl([...front, ...h(), `https://opt.test:${innerTls}/whoami`]);
    assert.equal(noCert.exitCode, 0, noCert.stderr);
    assert.deepEqual(certFields(noCert.body), kept);
    const cert = await curl([...withCert(), ...front, ...h(), `https://opt.test:${innerTls}/whoami`]);
    assert.equal(cert.exitCode, 0, cert.stderr);
    assert.deepEqual(certFields(cert.body), {
      'x-forwarded-tls-client-cert': [leafBody()],
      'x-forwarded-tls-client-cert-info': [EXPECTED_INFO],
    });
  });

  it('lets no client without a certificate through the mTLS router', async () => {
    const r = await curl([...SPOOFED, ...https('mtls.test')]);
    assert.notEqual(r.exitCode, 0);
    assert.equal(
      backend.seen.some((s) => s.headers['x-forwarded-tls-client-cert'] === 'MIIforged'),
      false,
    );
  });
});
