/**
 * A refused TLS handshake ends with the alert Go's crypto/tls server sends against Traefik, so
 * that clients report the same error: Traefik's GetCertificate (pkg/tls/tlsmanager.go Get)
 * returns no certificate (and no error) for an sniStrict set without a certificate for the name,
 * with or without SNI, and for a ClientHello offering acme-tls/1 with no pending challenge; Go's
 * getCertificate then answers errNoCertificates, sent as unrecognized_name (112), a fatal alert
 * in a plaintext record whose version is the negotiated one (TLS 1.2's for TLS 1.3). Options that
 * cannot be built are Traefik's brokenTLSRouter: the connection is closed, no alert. The proxy
 * closed the socket in every case, which clients report as a reset.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { run, selfSignedCertificate } from '../helpers/tls-certs.ts';

/** The error a node TLS client reports (its code), or 'ok'. */
function nodeHandshake(port: number, servername: string | undefined, alpn?: string[]): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({
      host: '127.0.0.1',
      port,
      ...(servername === undefined ? {} : { servername }),
      ...(alpn === undefined ? {} : { ALPNProtocols: alpn }),
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => done('timeout'), 5_000);
    const done = (r: string): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    s.once('secureConnect', () => done('ok'));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    s.once('close', () => done('closed'));
  });
}

describe('TLS refusals send the alert Go sends', () => {
  const cert = selfSignedCertificate(['a.test']);
  let backend: Backend;
  let proxy: ProxyProcess;
  let port: number;

  before(async () => {
    backend = await startBackend((_req, res) => res.end('site'));
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    a: { rule: "Host(\`a.test\`)", entryPoints: [websecure], service: be, tls: {} }
    b: { rule: "Host(\`b.test\`)", entryPoints: [websecure], service: be, tls: { options: broken } }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: c.pem, keyFile: c.key }
  options:
    default: { sniStrict: true }
    broken: { cipherSuites: [TLS_NOT_A_SUITE] }
`,
      files: { 'c.pem': cert.certPem, 'c.key': cert.keyPem },
    });
    port = proxy.ports['websecure']!;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('serves a name it has a certificate for', async () => {
    assert.equal(await nodeHandshake(port, 'a.test'), 'ok');
  });

  it('sends unrecognized_name under sniStrict for an unknown name, and without SNI (node client)', async () => {
    assert.equal(await nodeHandshake(port, 'unknown.test'), 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME');
    assert.equal(await nodeHandshake(port, undefined), 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME');
  });

  it('curl reports the alert', async () => {
    const r = await curl([
      '-k',
      '--resolve',
      `unknown.test:${port}:127.0.0.1`,
      `https://unknown.test:${port}/`,
    ]);
    assert.equal(r.exitCode, 35, r.stderr);
    assert.match(r.stderr, /unrecognized name/i);
  });

  it('sends unrecognized_name to acme-tls/1 without a pending challenge (node client)', async () => {
    assert.equal(await nodeHandshake(port, 'a.test', ['acme-tls/1']), 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME');
  });

  it('writes a fatal alert 112 in a TLS 1.2 record (openssl s_client, TLS 1.3 and 1.2)', async () => {
    for (const flags of [
      ['-servername', 'unknown.test'],
      ['-servername', 'unknown.test', '-tls1_2'],
      ['-noservername'],
      ['-servername', 'a.test', '-alpn', 'acme-tls/1'],
    ]) {
      const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-msg', ...flags]);
      assert.match(r.out, /alert number 112|unrecognized name/i, `${flags.join(' ')}: ${r.out}`);
      // The record header as s_client prints it: alert (0x15), version 3,3, length 2; then fatal, 112.
      assert.match(r.out, /<<< .*RecordHeader.*\n\s+15 03 03 00 02/, r.out);
      assert.match(r.out, /<<< .*Alert.*\n\s+02 70/, r.out);
    }
  });

  it("closes without an alert for options that cannot be built, as Traefik's brokenTLSRouter", async () => {
    const r = await nodeHandshake(port, 'b.test');
    assert.ok(r === 'ECONNRESET' || r === 'closed', r);
  });
});
