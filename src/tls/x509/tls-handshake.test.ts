import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { type ConnectionOptions, connect, createServer, type TlsOptions } from 'node:tls';
import { toPem } from '../../core/pem.ts';
import { type KeyAndCert, selfSignedCertificate, tlsAlpnChallengeCertificate } from './certificate.ts';
import { certificateExtensions } from './test-extensions.ts';

const DAY_MS = 86_400_000;

async function listen(t: TestContext, host: string, options: TlsOptions): Promise<number> {
  const server = createServer(options, (socket) => socket.end());
  // The client's failed verification reaches the server as a reset; that is the expected outcome.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  t.after(() => server.close());
  return (server.address() as AddressInfo).port;
}

interface Outcome {
  readonly ok: boolean;
  readonly code: string | undefined;
  readonly alpn: string | false | null;
  readonly peerDer: Buffer | undefined;
}

function handshake(options: ConnectionOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(options, () => {
      const peer = socket.getPeerX509Certificate();
      resolve({ ok: socket.authorized, code: undefined, alpn: socket.alpnProtocol, peerDer: peer?.raw });
      socket.destroy();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      resolve({ ok: false, code: error.code, alpn: null, peerDer: undefined });
    });
  });
}

async function serve(t: TestContext, pair: KeyAndCert, host = '127.0.0.1'): Promise<number> {
  return listen(t, host, { key: pair.keyPem, cert: pair.certPem });
}

describe('TLS handshakes with a self-signed certificate', () => {
  const pair = selfSignedCertificate(['example.test', '*.apps.example.test', '127.0.0.1', '::1']);

  it('succeeds for a client that trusts the certificate and asks for a name it holds', async (t) => {
    const port = await serve(t, pair);
    const outcome = await handshake({
      host: '127.0.0.1',
      port,
      ca: pair.certPem,
      servername: 'example.test',
    });
    assert.deepEqual([outcome.ok, outcome.code], [true, undefined]);
  });

  it('succeeds for a name under the wildcard', async (t) => {
    const port = await serve(t, pair);
    const outcome = await handshake({
      host: '127.0.0.1',
      port,
      ca: pair.certPem,
      servername: 'web.apps.example.test',
    });
    assert.equal(outcome.ok, true);
  });

  it('fails for a server name the certificate does not hold', async (t) => {
    const port = await serve(t, pair);
    const outcome = await handshake({ host: '127.0.0.1', port, ca: pair.certPem, servername: 'other.test' });
    assert.deepEqual([outcome.ok, outcome.code], [false, 'ERR_TLS_CERT_ALTNAME_INVALID']);
  });

  it('succeeds by IPv4 address through the iPAddress SAN', async (t) => {
    const port = await serve(t, pair);
    assert.equal((await handshake({ host: '127.0.0.1', port, ca: pair.certPem })).ok, true);
  });

  it('succeeds over IPv6 loopback through the IPv6 iPAddress SAN', async (t) => {
    const port = await serve(t, pair, '::1');
    assert.equal((await handshake({ host: '::1', port, ca: pair.certPem })).ok, true);
  });

  it('fails by an IP address the certificate does not hold', async (t) => {
    const only = selfSignedCertificate(['example.test', '::1']);
    const port = await serve(t, only);
    const outcome = await handshake({ host: '127.0.0.1', port, ca: only.certPem });
    assert.deepEqual([outcome.ok, outcome.code], [false, 'ERR_TLS_CERT_ALTNAME_INVALID']);
  });

  it('fails for a client that does not trust it', async (t) => {
    const port = await serve(t, pair);
    const outcome = await handshake({ host: '127.0.0.1', port, servername: 'example.test' });
    assert.deepEqual([outcome.ok, outcome.code], [false, 'DEPTH_ZERO_SELF_SIGNED_CERT']);
  });

  it('fails once the certificate has expired', async (t) => {
    const expired = selfSignedCertificate(['example.test'], {
      notBefore: new Date(Date.now() - 3 * DAY_MS),
      days: 1,
    });
    const port = await serve(t, expired);
    const outcome = await handshake({
      host: '127.0.0.1',
      port,
      ca: expired.certPem,
      servername: 'example.test',
    });
    assert.deepEqual([outcome.ok, outcome.code], [false, 'CERT_HAS_EXPIRED']);
  });
});

describe('TLS handshake with a tls-alpn-01 challenge certificate', () => {
  it('is served on acme-tls/1 and shows the validator the key authorization digest', async (t) => {
    const keyAuthorization = 'token.thumbprint';
    const pair = tlsAlpnChallengeCertificate('example.test', keyAuthorization);
    const port = await listen(t, '127.0.0.1', {
      key: pair.keyPem,
      cert: pair.certPem,
      ALPNProtocols: ['acme-tls/1'],
    });
    // RFC 8737 3: the validator offers only acme-tls/1 and does not verify the chain.
    const outcome = await handshake({
      host: '127.0.0.1',
      port,
      servername: 'example.test',
      ALPNProtocols: ['acme-tls/1'],
      rejectUnauthorized: false,
    });
    assert.equal(outcome.alpn, 'acme-tls/1');
    assert.ok(outcome.peerDer);
    const acme = certificateExtensions(toPem('CERTIFICATE', outcome.peerDer)).get('1.3.6.1.5.5.7.1.31');
    const digest = createHash('sha256').update(keyAuthorization).digest();
    assert.deepEqual(acme, { critical: true, value: Buffer.concat([Buffer.of(0x04, 0x20), digest]) });
  });
});
