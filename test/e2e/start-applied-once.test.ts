/**
 * One "configuration applied" line for the start-up's configuration, TLS or not. A proxy whose
 * static configuration terminates no TLS loads it when its first configuration asks for it (a
 * router with `tls`): the snapshot built without it serves cleartext meanwhile (the TLS gate
 * holds ClientHellos), and the one built once TLS is loaded is the one logged as applied.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { selfSignedCertificate } from '../helpers/tls-certs.ts';

const NAME = 'applied-once.test';
const cert = selfSignedCertificate([NAME]);

/** The subject of the certificate the proxy presents for `NAME`. */
function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, servername: NAME, rejectUnauthorized: false }, () => {
      const raw = s.getPeerCertificate().raw;
      s.destroy();
      resolve(new X509Certificate(raw).subjectAltName ?? '');
    });
    s.setTimeout(5_000, () => s.destroy(new Error('handshake timed out')));
    s.on('error', reject);
  });
}

describe('"configuration applied" at start-up', () => {
  let backend: Backend;
  const open: ProxyProcess[] = [];
  after(async () => {
    for (const p of open) await p.stop();
    await backend?.close();
  });

  const config = (backendUrl: string, staticTls: boolean, routerTls: boolean): string => `entryPoints:
  web:
    address: "127.0.0.1:0"
${staticTls ? '    http: { tls: {} }\n' : ''}http:
  routers:
    r:
      rule: Host(\`${NAME}\`)
      service: s
${routerTls ? '      tls: {}\n' : ''}  services:
    s:
      loadBalancer:
        servers: [{ url: "${backendUrl}" }]
tls:
  certificates:
    - certFile: c.pem
      keyFile: k.pem
`;

  for (const [name, staticTls, routerTls] of [
    ['TLS loaded on demand (a router with tls, no TLS entry point)', false, true],
    ['TLS entry point', true, false],
  ] as const) {
    it(`is logged once: ${name}`, async () => {
      backend ??= await startBackend((_req, res) => res.end('ok'));
      const p = await startProxy({
        config: config(backend.url, staticTls, routerTls),
        files: { 'c.pem': cert.certPem, 'k.pem': cert.keyPem },
      });
      open.push(p);
      // The router's certificate is served: the configuration with TLS is in force.
      assert.match(await presented(p.port), new RegExp(NAME.replaceAll('.', '\\.')));
      assert.equal(await p.stop(), 0);
      const applied = p.logs.filter((l) => l.msg === 'configuration applied');
      assert.equal(applied.length, 1, JSON.stringify(applied));
    });
  }
});
