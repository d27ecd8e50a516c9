/**
 * Traefik's root `tcpServersTransport` (pkg/config/static/static_config.go): the default TCP
 * servers transport, `default@internal` (pkg/provider/traefik/internal.go serverTransportTCP),
 * used by the TCP services that name none. Here its `tls.insecureSkipVerify` lets a service reach
 * a TLS server whose certificate no trusted CA signed; without it the same service cannot.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { requireTool, startTlsBackend, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { startProxy } from '../helpers/proxy-process.ts';
import { TestPki } from '../helpers/tls-certs.ts';

describe('tcpServersTransport (static)', () => {
  let backend: TcpBackend;

  before(async () => {
    requireTool('/usr/bin/openssl', 'openssl');
    const pki = new TestPki('Private CA');
    backend = await startTlsBackend(pki.issue('db.test', ['db.test']), 'echo', 'db');
  });
  after(() => backend.close());

  const config = (transport: string) => `entryPoints:
  plain:
    address: "127.0.0.1:0"
log: { level: DEBUG }
${transport}
tcp:
  routers:
    all: { rule: "HostSNI(\`*\`)", service: db, entryPoints: [plain] }
  services:
    db:
      loadBalancer:
        servers: [{ address: "${backend.address}", tls: true }]
`;

  it('is the transport of TCP services that name none: its TLS settings apply', async (t) => {
    const proxy = await startProxy({
      config: config('tcpServersTransport:\n  dialTimeout: 5s\n  tls:\n    insecureSkipVerify: true\n'),
    });
    t.after(() => proxy.stop());
    const r = await tcpExchange(proxy.port, 'ping\n', { untilData: 'ping\n' });
    assert.equal(r.data.toString(), 'ping\n');
  });

  it('without it, no TLS connection is made: no serverName nor insecureSkipVerify (Go refuses)', async (t) => {
    const proxy = await startProxy({ config: config('') });
    t.after(() => proxy.stop());
    const accepted = backend.accepted;
    const r = await tcpExchange(proxy.port, 'ping\n');
    assert.notEqual(r.how, 'data');
    assert.equal(r.data.length, 0);
    assert.equal(backend.accepted, accepted, 'no TLS connection was completed');
  });
});
