/**
 * A TCP serversTransport's `tls.peerCertURI` (Traefik's pkg/config/dynamic/tcp_config.go
 * TLSClientConfig.PeerCertURI, checked by pkg/tcp/dialer.go DialerManager.Build through
 * pkg/tls VerifyPeerCertificate): the TLS server's certificate must carry that URI SAN (a SPIFFE
 * ID), its chain verified against `rootCAs` even with `insecureSkipVerify`, which then only skips
 * the hostname check. Through the real proxy, to a real TLS server on loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { requireTool, startTlsBackend, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { startProxy } from '../helpers/proxy-process.ts';
import { type Issued, TestPki } from '../helpers/tls-certs.ts';

describe('tcp.serversTransports.<name>.tls.peerCertURI', () => {
  let pki: TestPki;
  let backend: TcpBackend;
  let other: Issued;

  before(async () => {
    requireTool('/usr/bin/openssl', 'openssl');
    pki = new TestPki('Mesh CA');
    // A certificate for a name the proxy never asks for: only the URI identifies the server.
    backend = await startTlsBackend(
      pki.issue('db', ['db.internal', 'spiffe://mesh.test/ns/default/svc/db']),
      'echo',
      'db',
    );
    other = new TestPki('Other CA').ca;
  });
  after(() => backend.close());

  const config = (tls: string) => `entryPoints:
  plain:
    address: "127.0.0.1:0"
log: { level: DEBUG }
tcp:
  routers:
    all: { rule: "HostSNI(\`*\`)", service: db, entryPoints: [plain] }
  services:
    db:
      loadBalancer:
        servers: [{ address: "${backend.address}", tls: true }]
        serversTransport: mesh
  serversTransports:
    mesh:
      tls:
${tls}
`;

  async function exchange(tls: string): Promise<string> {
    const proxy = await startProxy({ config: config(tls) });
    try {
      const r = await tcpExchange(proxy.port, 'ping\n', { untilData: 'ping\n' });
      return r.data.toString();
    } finally {
      await proxy.stop();
    }
  }

  it('connects when the certificate carries the URI (case aside), without a hostname check', async () => {
    const data = await exchange(
      `        rootCAs: ["${pki.ca.certFile}"]\n        insecureSkipVerify: true\n        peerCertURI: "SPIFFE://MESH.test/ns/default/svc/db"\n`,
    );
    assert.equal(data, 'ping\n');
  });

  it("refuses the same path in another trust domain (Traefik's check since PR #12575)", async () => {
    const data = await exchange(
      `        rootCAs: ["${pki.ca.certFile}"]\n        insecureSkipVerify: true\n        peerCertURI: "spiffe://other.domain/ns/default/svc/db"\n`,
    );
    assert.equal(data, '');
  });

  it('refuses a certificate without that URI: the connection is closed, nothing reaches the client', async () => {
    const data = await exchange(
      `        rootCAs: ["${pki.ca.certFile}"]\n        insecureSkipVerify: true\n        peerCertURI: "spiffe://mesh.test/ns/default/svc/web"\n`,
    );
    assert.equal(data, '');
  });

  it('verifies the chain against rootCAs even with insecureSkipVerify', async () => {
    const data = await exchange(
      `        rootCAs: ["${other.certFile}"]\n        insecureSkipVerify: true\n        peerCertURI: "spiffe://mesh.test/ns/default/svc/db"\n`,
    );
    assert.equal(data, '');
  });
});
