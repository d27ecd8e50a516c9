import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { connect, createServer } from 'node:tls';
import { parseDynamic } from '../config/dynamic/parse.ts';
import { formatIssue } from '../config/issues.ts';
import { selfSignedCertificate } from '../tls/x509/index.ts';
import { loadUpstreamTls, tlsConnectOptions } from './transport-tls.ts';

const cert = selfSignedCertificate(['127.0.0.1']);

/** A serversTransport from YAML lines, trusting `cert`. */
function transport(extra: string) {
  const pem = cert.certPem
    .trim()
    .split('\n')
    .map((l) => `          ${l}`)
    .join('\n');
  const r = parseDynamic(
    `http:\n  serversTransports:\n    t:\n      rootCAs:\n        - |\n${pem}\n${extra}`,
    'dyn.yaml',
  );
  return { lines: r.issues.map(formatIssue), config: r.config?.http.serversTransports['t'] };
}

/** The suite a TLS 1.2 server accepting only `serverCiphers` agreed on, or the failure. */
async function negotiated(extra: string, serverCiphers: string): Promise<string> {
  const t = transport(extra);
  assert.deepEqual(t.lines, []);
  assert.ok(t.config);
  const r = loadUpstreamTls(t.config);
  assert.ok(r.ok);
  const server = createServer({
    key: cert.keyPem,
    cert: cert.certPem,
    maxVersion: 'TLSv1.2',
    ciphers: serverCiphers,
  });
  server.on('tlsClientError', () => {});
  server.on('secureConnection', (s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    return await new Promise<string>((resolve) => {
      const s = connect(tlsConnectOptions(r.tls, '127.0.0.1', port));
      s.once('secureConnect', () => {
        resolve(s.getCipher().standardName);
        s.destroy();
      });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('serversTransports.cipherSuites (Traefik: pkg/server/service/transport.go createTLSConfig)', () => {
  it('offers the listed TLS 1.2 suites only', async () => {
    const both = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384';
    assert.equal(
      await negotiated('      cipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n', both),
      'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
    );
    assert.match(
      await negotiated(
        '      cipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n',
        'ECDHE-ECDSA-AES256-GCM-SHA384',
      ),
      /^error /,
    );
  });

  it('without the key, Node’s default suites are offered', async () => {
    assert.equal(
      await negotiated('', 'ECDHE-ECDSA-AES128-GCM-SHA256'),
      'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
    );
  });

  it('refuses a name Go does not know, as tls.options does', () => {
    assert.equal(transport('      cipherSuites: [TLS_NOPE]\n').lines.length, 1);
  });
});
