/**
 * passTLSClientCert through the real proxy: a TLS entry point that verifies client certificates,
 * curl presenting one (HTTP/1.1 and HTTP/2), a node:http backend echoing the fields it received.
 * The client certificate is made by openssl with a fixed serial, dates and names, so the expected
 * values are Traefik v3's, written out by hand (the same literal as the unit test's).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Issued, TestPki } from '../../src/upstream/test-pki.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const CA_CNF = `[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = optional
`;

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

interface ClientPki {
  readonly dir: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** A client CA and one client certificate valid from 2024-01-02 to 2051-06-07, serial 0xF1E2D3C4B5A69788. */
function clientPki(): ClientPki {
  const dir = mkdtempSync(join(tmpdir(), 'tm-ptc-e2e-'));
  const run = (args: readonly string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  writeFileSync(join(dir, 'ca.cnf'), CA_CNF);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), 'F1E2D3C4B5A69788\n');
  writeFileSync(
    join(dir, 'client.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' +
      'subjectAltName=URI:SPIFFE://example.com/client,IP:2001:db8:0:0:1:0:0:1,email:client@example.com,' +
      'DNS:b.example.com,IP:192.0.2.7,DNS:a.example.com,IP:::ffff:10.1.2.3,email:second@example.com\n',
  );
  run([
    'req',
    '-x509',
    ...EC,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '30',
    '-subj',
    '/DC=org/DC=example/C=FR/ST=Occitanie/L=Toulouse/O=Example CA/OU=PKI/CN=Example Root/serialNumber=CA-1',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  run([
    'req',
    '-new',
    ...EC,
    '-keyout',
    'client.key',
    '-out',
    'client.csr',
    '-utf8',
    '-multivalue-rdn',
    '-subj',
    '/DC=com/DC=example/C=FR/C=US/ST=Occitanie/L=Toulouse/L=Lyon/O=Acme, Inc./O=Société Générale' +
      '/OU=Unit A+OU=Unit B/serialNumber=S-1/serialNumber=S-2/CN=first client/CN=client.example.com' +
      '/emailAddress=x@example.com',
  ]);
  run([
    'ca',
    '-batch',
    '-config',
    'ca.cnf',
    '-cert',
    'ca.pem',
    '-keyfile',
    'ca.key',
    '-notext',
    '-preserveDN',
    '-startdate',
    '20240102030405Z',
    '-enddate',
    '20510607080910Z',
    '-extfile',
    'client.ext',
    '-in',
    'client.csr',
    '-out',
    'client.pem',
  ]);
  return {
    dir,
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    certPem: readFileSync(join(dir, 'client.pem'), 'utf8'),
    certFile: join(dir, 'client.pem'),
    keyFile: join(dir, 'client.key'),
  };
}

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
  let client: ClientPki;
  let backend: Backend;
  let proxy: ProxyProcess;
  let tls: number;
  let web: number;

  before(async () => {
    serverPki = new TestPki('Server CA');
    server = serverPki.issue('proxy', ['mtls.test', 'opt.test']);
    client = clientPki();
    backend = await startBackend(echoFields);
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  websecure:
    address: "127.0.0.1:0"
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
      entryPoints: [web]
      middlewares: [client-cert]
      service: be
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
        'client-ca.pem': client.caPem,
      },
    });
    tls = proxy.ports['websecure']!;
    web = proxy.ports['web']!;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    serverPki?.remove();
    if (client !== undefined) rmSync(client.dir, { recursive: true, force: true });
  });

  const https = (host: string): string[] => [
    '--cacert',
    serverPki.ca.certFile,
    '--resolve',
    `${host}:${tls}:127.0.0.1`,
    `https://${host}:${tls}/whoami`,
  ];
  const withCert = (): string[] => ['--cert', client.certFile, '--key', client.keyFile];
  const leafBody = (): string =>
    client.certPem
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

  it('lets no client without a certificate through the mTLS router', async () => {
    const r = await curl([...SPOOFED, ...https('mtls.test')]);
    assert.notEqual(r.exitCode, 0);
    assert.equal(
      backend.seen.some((s) => s.headers['x-forwarded-tls-client-cert'] === 'MIIforged'),
      false,
    );
  });
});
