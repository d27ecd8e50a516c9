import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { uriSans } from './peer-cert-uri.ts';
import { type Issued, TestPki } from './test-pki.ts';
import { tlsConnectError } from './tls-errors.ts';
import { loadUpstreamTls, type TransportTlsConfig, tlsConnectOptions } from './transport-tls.ts';

const WEB = 'spiffe://11111111-2222.consul/ns/default/dc/dc1/svc/web';

let pki: TestPki;
let stranger: TestPki;
let web: Issued;
let db: Issued;
let noUri: Issued;
let foreign: Issued;
let twoUris: Issued;

before(() => {
  pki = new TestPki('Connect CA');
  stranger = new TestPki('Stranger CA');
  web = pki.issue('web', [WEB]);
  db = pki.issue('db', ['spiffe://11111111-2222.consul/ns/default/dc/dc1/svc/db', 'web.test']);
  noUri = pki.issue('plain', ['127.0.0.1']);
  foreign = stranger.issue('web', [WEB]);
  twoUris = pki.issue('two', ['spiffe://11111111-2222.consul/ns/default/dc/dc1/svc/other', WEB]);
});

after(() => {
  pki.remove();
  stranger.remove();
});

/** One TLS handshake to a real server presenting `cert`; 'ok' or the classified error code and text. */
async function handshake(cert: Issued, cfg: TransportTlsConfig): Promise<string> {
  const server: Server = createServer({ key: cert.keyPem, cert: cert.certPem }, (_q, s) => s.end());
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const r = loadUpstreamTls(cfg);
    assert.ok(r.ok);
    const port = (server.address() as AddressInfo).port;
    return await new Promise<string>((resolve) => {
      const s = connect(tlsConnectOptions(r.tls, '127.0.0.1', port));
      s.once('secureConnect', () => {
        s.destroy();
        resolve('ok');
      });
      s.once('error', (e) => {
        const p = tlsConnectError(e, true);
        resolve(`${p.code}: ${p.message}`);
      });
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

describe('uriSans', () => {
  it("reads the URI SANs of Node's subjectaltname text, quoted ones too", () => {
    assert.deepEqual(uriSans('DNS:a.test, URI:spiffe://td/ns/x, IP Address:10.0.0.1, URI:https://b/'), [
      'spiffe://td/ns/x',
      'https://b/',
    ]);
    assert.deepEqual(uriSans('URI:"spiffe://td/a,b"'), ['spiffe://td/a,b']);
    assert.deepEqual(uriSans(undefined), []);
  });
});

describe('peerCertURI (one check per TLS connection)', () => {
  const connectTransport = (peerCertURI: string): TransportTlsConfig => ({
    rootCAs: [pki.ca.certPem],
    insecureSkipVerify: true,
    peerCertURI,
  });

  it('accepts the server one of whose URI SANs is the SPIFFE ID, whatever the host name', async () => {
    assert.equal(await handshake(web, { ...connectTransport(WEB), serverName: 'default-dc1-web' }), 'ok');
    // Not only the first (Traefik PR #12575).
    assert.equal(await handshake(twoUris, connectTransport(WEB)), 'ok');
  });

  it('ignores case but not the trust domain, as Traefik since PR #12575', async () => {
    assert.equal(await handshake(web, connectTransport(WEB.toUpperCase())), 'ok');
    assert.match(
      await handshake(web, connectTransport('spiffe://other.consul/ns/default/dc/dc1/svc/web')),
      /^UPSTREAM_TLS_PEER_URI: server certificate is for spiffe:\/\/11111111-2222\.consul\/.*, want spiffe:\/\/other\.consul\//,
    );
    assert.match(
      await handshake(web, connectTransport('spiffe:///ns/default/dc/dc1/svc/web')),
      /^UPSTREAM_TLS_PEER_URI/,
    );
  });

  it('refuses another service, and a certificate without a URI SAN', async () => {
    assert.match(
      await handshake(db, connectTransport(WEB)),
      /^UPSTREAM_TLS_PEER_URI: server certificate is for spiffe:\/\/.*\/svc\/db, want .*\/svc\/web \(peerCertURI\)$/,
    );
    assert.match(await handshake(noUri, connectTransport(WEB)), /^UPSTREAM_TLS_PEER_URI: .*has no URI SAN/);
  });

  it('still verifies the chain with insecureSkipVerify', async () => {
    assert.match(await handshake(foreign, connectTransport(WEB)), /^UPSTREAM_TLS_UNTRUSTED/);
  });

  it('checks the host name too without insecureSkipVerify', async () => {
    const cfg = { rootCAs: [pki.ca.certPem], peerCertURI: WEB };
    assert.match(await handshake(web, cfg), /^UPSTREAM_TLS_HOSTNAME/);
    const dbId = 'spiffe://11111111-2222.consul/ns/default/dc/dc1/svc/db';
    assert.equal(await handshake(db, { ...cfg, serverName: 'web.test', peerCertURI: dbId }), 'ok');
  });

  it('keys the transport by its peerCertURI, and does not call it insecure', () => {
    const a = loadUpstreamTls(connectTransport(WEB));
    const b = loadUpstreamTls(connectTransport(`${WEB}x`));
    assert.ok(a.ok && b.ok);
    assert.notEqual(a.tls.id, b.tls.id);
    assert.equal(a.tls.insecureSkipVerify, false);
  });
});

describe('peerCertSANs (a BackendTLSPolicy`s subjectAltNames)', () => {
  const sansTransport = (peerCertSANs: string[]): TransportTlsConfig => ({
    rootCAs: [pki.ca.certPem],
    serverName: 'sni.internal',
    peerCertSANs,
  });

  it('accepts a certificate carrying one of the names, whatever the SNI: DNS (wildcards as Go) or URI', async () => {
    const wild = pki.issue('wild', ['*.backend.test']);
    assert.equal(await handshake(db, sansTransport(['nope.test', 'web.test'])), 'ok');
    assert.equal(await handshake(db, sansTransport(['WEB.test.'])), 'ok', 'case and a trailing dot ignored');
    assert.equal(await handshake(web, sansTransport([WEB])), 'ok');
    assert.equal(await handshake(wild, sansTransport(['a.backend.test'])), 'ok');
    assert.match(await handshake(wild, sansTransport(['a.b.backend.test'])), /^UPSTREAM_TLS_PEER_URI/);
  });

  it('refuses a certificate with none of them, and still verifies the chain', async () => {
    assert.match(
      await handshake(db, sansTransport(['sni.internal', 'spiffe://x/other'])),
      /^UPSTREAM_TLS_PEER_URI: server certificate matches none of the subject alternative names sni\.internal, spiffe:\/\/x\/other \(peerCertSANs\)$/,
    );
    assert.match(await handshake(foreign, sansTransport([WEB])), /^UPSTREAM_TLS_UNTRUSTED/);
  });

  it('keys the transport by its peerCertSANs', () => {
    const a = loadUpstreamTls(sansTransport(['a.test']));
    const b = loadUpstreamTls(sansTransport(['b.test']));
    assert.ok(a.ok && b.ok);
    assert.notEqual(a.tls.id, b.tls.id);
    assert.equal(a.tls.insecureSkipVerify, false);
  });
});
