/**
 * A client certificate refused under the TLS options' clientAuth.clientAuthType ends with the
 * alert Go's crypto/tls server sends (handshake_server.go / handshake_server_tls13.go
 * processCertsFromClient, Go 1.21–1.25): none where one is required is certificate_required (116)
 * in TLS 1.3, bad_certificate (42) up to TLS 1.2; a certificate that does not verify is unknown_ca
 * (48) when no chain reaches the client CAs, certificate_expired (45) when it has expired,
 * bad_certificate otherwise. Before, RequireAnyClientCert and VerifyClientCertIfGiven (and
 * RequireAndVerifyClientCert for a certificate that did not verify) closed the connection bare
 * after the handshake, which clients report as an unexpected EOF.
 *
 * What node allows (tls/alerts refuseClientCert, tls/tls-options VERIFY_AFTER_SNI): up to TLS 1.2
 * the alert is Go's, in plaintext before the server's ChangeCipherSpec, as Go sends it; in TLS 1.3
 * a missing certificate is refused inside the handshake by OpenSSL (certificate_required, as Go),
 * and a certificate that does not verify is refused after the handshake without an alert (Go's is
 * encrypted, which node cannot write). Every case here has SNI (without, the server's own mode).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, TestPki } from '../helpers/tls-certs.ts';
import { toolPath } from '../helpers/tools.ts';

interface Outcome {
  /** The fatal alert the client received (s_client -msg), or null. */
  readonly alert: number | null;
  /** The backend's answer came through. */
  readonly served: boolean;
  readonly out: string;
}

/** `openssl s_client` (SNI and Host `host`) sends one request and reads until the proxy closes (10 s at most). */
function sClient(port: number, host: string, flags: readonly string[], sni = true): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      toolPath('openssl'),
      [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        ...(sni ? ['-servername', host] : ['-noservername']),
        '-msg',
        '-ign_eof',
        ...flags,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stdin.end(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      // s_client -msg: "<<< TLS 1.2, Alert [length 0002], fatal unknown_ca" then "02 30".
      const m = /<<< [^\n]*Alert \[length 0002\][^\n]*\n\s+02 ([0-9a-f]{2})/.exec(out);
      resolve({
        alert: m === null ? null : Number.parseInt(m[1]!, 16),
        served: out.includes('backend-ok'),
        out,
      });
    });
  });
}

describe('client certificates refused with the alert Go sends', () => {
  let pki: TestPki;
  let client: Issued;
  let expired: Issued;
  /** Issued by another CA: no chain to the client CAs. */
  let stranger: Issued;
  let backend: Backend;
  let proxy: ProxyProcess;
  let port = 0;

  before(async () => {
    pki = new TestPki('client auth alerts CA');
    const cert = pki.issue('any.test', ['any.test', 'given.test', 'verify.test']);
    client = pki.issue('client', []);
    expired = pki.issue('old client', [], { expired: true });
    stranger = new TestPki('another CA').issue('stranger', []);
    backend = await startBackend((_req, res) => res.end('backend-ok'));
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
http:
  routers:
    any: { rule: "Host(\`any.test\`)", service: be, tls: { options: any } }
    given: { rule: "Host(\`given.test\`)", service: be, tls: { options: given } }
    verify: { rule: "Host(\`verify.test\`)", service: be, tls: { options: verify } }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: c.pem, keyFile: c.key }
  options:
    any: { clientAuth: { caFiles: [ca.pem], clientAuthType: RequireAnyClientCert } }
    given: { clientAuth: { caFiles: [ca.pem], clientAuthType: VerifyClientCertIfGiven } }
    verify: { clientAuth: { caFiles: [ca.pem], clientAuthType: RequireAndVerifyClientCert } }
`,
      files: { 'c.pem': cert.certPem, 'c.key': cert.keyPem, 'ca.pem': pki.ca.certPem },
    });
    port = proxy.ports['websecure']!;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  const as = (c: { certFile: string; keyFile: string } | null): string[] =>
    c === null ? [] : ['-cert', c.certFile, '-key', c.keyFile];
  const strangerCert = (): Issued => stranger;

  /** Each case: host, client certificate, then the alert (or 'served') in TLS 1.2 and in TLS 1.3. */
  const none = (): null => null;
  const client_ = (): Issued => client;
  const expired_ = (): Issued => expired;
  const label = (c: () => Issued | null): string =>
    c === none
      ? 'no certificate'
      : c === strangerCert
        ? "another CA's certificate"
        : c === expired_
          ? 'an expired certificate'
          : 'a valid certificate';
  const cases: readonly [string, () => Issued | null, number | 'served', number | 'served' | null][] = [
    // RequireAnyClientCert: any certificate, unverified; none is refused.
    ['any.test', none, 42, 116],
    ['any.test', client_, 'served', 'served'],
    ['any.test', strangerCert, 'served', 'served'],
    ['any.test', expired_, 'served', 'served'],
    // VerifyClientCertIfGiven: none is fine; one that does not verify is refused.
    ['given.test', none, 'served', 'served'],
    ['given.test', client_, 'served', 'served'],
    ['given.test', strangerCert, 48, null],
    ['given.test', expired_, 45, null],
    // RequireAndVerifyClientCert.
    ['verify.test', none, 42, 116],
    ['verify.test', client_, 'served', 'served'],
    ['verify.test', strangerCert, 48, null],
    ['verify.test', expired_, 45, null],
  ];

  for (const [host, cert, tls12, tls13] of cases) {
    it(`${host}, ${label(cert)}: TLS 1.2 ${tls12}, TLS 1.3 ${tls13}`, async () => {
      for (const [flag, want] of [
        ['-tls1_2', tls12],
        ['-tls1_3', tls13],
      ] as const) {
        const r = await sClient(port, host, [flag, ...as(cert())]);
        if (want === 'served') {
          assert.equal(r.alert, null, r.out);
          assert.ok(r.served, r.out);
        } else {
          assert.equal(r.alert, want, `${flag}: ${r.out}`);
          assert.equal(r.served, false, r.out);
          // Up to TLS 1.2 the alert is a plaintext record, TLS 1.2's version, as Go writes it.
          if (flag === '-tls1_2') assert.match(r.out, /<<< .*RecordHeader.*\n\s+15 03 03 00 02/, r.out);
        }
      }
    });
  }

  it('curl reports the alert (TLS 1.2)', async () => {
    const f = strangerCert();
    const r = await curl([
      '-k',
      '--tls-max',
      '1.2',
      '--cert',
      f.certFile,
      '--key',
      f.keyFile,
      '--resolve',
      `verify.test:${port}:127.0.0.1`,
      `https://verify.test:${port}/`,
    ]);
    assert.match(r.stderr, /unknown ca/i, r.stderr);
  });
});

describe('RequireAnyClientCert without SNI (the default options)', () => {
  let pki: TestPki;
  let backend: Backend;
  let proxy: ProxyProcess;
  let port = 0;

  before(async () => {
    pki = new TestPki('client auth alerts, no SNI');
    const cert = pki.issue('none.test', ['none.test']);
    backend = await startBackend((_req, res) => res.end('backend-ok'));
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
http:
  routers:
    r: { rule: "Host(\`none.test\`)", service: be, tls: {} }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  stores:
    default: { defaultCertificate: { certFile: c.pem, keyFile: c.key } }
  options:
    default: { clientAuth: { caFiles: [ca.pem], clientAuthType: RequireAnyClientCert } }
`,
      files: { 'c.pem': cert.certPem, 'c.key': cert.keyPem, 'ca.pem': pki.ca.certPem },
    });
    port = proxy.ports['websecure']!;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('refuses no certificate with certificate_required in TLS 1.3 when the client offers ALPN (ALPNCallback)', async () => {
    const r13 = await sClient(port, 'none.test', ['-tls1_3', '-alpn', 'http/1.1'], false);
    assert.equal(r13.alert, 116, r13.out);
    assert.equal(r13.served, false, r13.out);
    const r12 = await sClient(port, 'none.test', ['-tls1_2', '-alpn', 'http/1.1'], false);
    assert.equal(r12.alert, 42, r12.out);
  });

  it("refuses no certificate with Go's bad_certificate in TLS 1.2, bare in TLS 1.3 (no SNI, no ALPN)", async () => {
    const r12 = await sClient(port, 'none.test', ['-tls1_2'], false);
    assert.equal(r12.alert, 42, r12.out);
    assert.equal(r12.served, false, r12.out);
    const r13 = await sClient(port, 'none.test', ['-tls1_3'], false);
    assert.equal(r13.alert, null, r13.out);
    assert.equal(r13.served, false, r13.out);
  });

  it('serves any certificate, unverified', async () => {
    const other = new TestPki('yet another CA').issue('someone', []);
    for (const v of [['-tls1_2'], ['-tls1_3'], ['-tls1_3', '-alpn', 'http/1.1']]) {
      const r = await sClient(
        port,
        'none.test',
        [...v, '-cert', other.certFile, '-key', other.keyFile],
        false,
      );
      assert.equal(r.alert, null, r.out);
      assert.ok(r.served, r.out);
    }
  });
});
