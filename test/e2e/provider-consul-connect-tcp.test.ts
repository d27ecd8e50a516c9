/**
 * Consul Connect with TCP tags through the real proxy (Traefik's consulcatalog addServerTCP and
 * connectCert.tcpServersTransport): the service's TCP load balancer reaches its Connect-native
 * instance over mTLS, the proxy presenting the leaf of its serviceName and checking the
 * instance's SPIFFE ID (tls.peerCertURI); an instance presenting another service's ID is refused.
 * Consul API on loopback (test/helpers/fake-consul.ts), TLS servers on loopback.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { type Issued, TestPki } from '../../src/upstream/test-pki.ts';
import { type FakeConsul, startFakeConsul } from '../helpers/fake-consul.ts';
import { tcpExchange } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const TRUST_DOMAIN = '5e1d6a2c-0000-4000-8000-000000000002.consul';
const spiffe = (svc: string): string => `spiffe://${TRUST_DOMAIN}/ns/default/dc/dc1/svc/${svc}`;

/** A Connect-native TCP server: echoes with the client's URI SAN, a client certificate required. */
function nativeServer(cert: Issued, ca: string): Promise<Server> {
  const server = createServer(
    { key: cert.keyPem, cert: cert.certPem, ca, requestCert: true, rejectUnauthorized: true },
    (s: TLSSocket) => {
      const uri = /URI:([^,]+)/.exec(s.getPeerCertificate().subjectaltname ?? '')?.[1] ?? 'none';
      s.on('data', (d: Buffer) => s.write(`${uri} ${d.toString()}`));
      s.on('end', () => s.end());
    },
  );
  server.on('tlsClientError', () => {});
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

describe('Consul Connect, TCP tags (e2e)', () => {
  let ca: TestPki;
  let db: Server;
  let impostor: Server;
  let consul: FakeConsul;
  let proxy: ProxyProcess;

  before(async () => {
    ca = new TestPki('Consul Connect CA');
    const leaf = ca.issue('traefik', [spiffe('traefik')]);
    [db, impostor, consul] = await Promise.all([
      nativeServer(ca.issue('db', [spiffe('db')]), ca.ca.certPem),
      // `cache`'s instance, whose certificate from the same CA says it is `db`.
      nativeServer(ca.issue('db', [spiffe('db')]), ca.ca.certPem),
      startFakeConsul(),
    ]);
    consul.setConnectRoots([ca.ca.certPem], TRUST_DOMAIN);
    consul.setConnectLeaf('traefik', leaf.certPem, leaf.keyPem);
    const tags = (ep: string): string[] => [
      'traefik.enable=true',
      'traefik.consulcatalog.connect=true',
      `traefik.tcp.routers.${ep}.rule=HostSNI(\`*\`)`,
      `traefik.tcp.routers.${ep}.entrypoints=${ep}`,
    ];
    consul.register({
      id: 'db-1',
      name: 'db',
      connectNative: true,
      address: '127.0.0.1',
      port: (db.address() as AddressInfo).port,
      tags: tags('db'),
    });
    consul.register({
      id: 'cache-1',
      name: 'cache',
      connectNative: true,
      address: '127.0.0.1',
      port: (impostor.address() as AddressInfo).port,
      tags: tags('cache'),
    });
    proxy = await startProxy({
      entryPoints: 2,
      config: `entryPoints:
  db:
    address: "127.0.0.1:0"
  cache:
    address: "127.0.0.1:0"
log: { level: INFO }
providers:
  consulCatalog:
    exposedByDefault: false
    connectAware: true
    serviceName: traefik
    endpoint:
      address: "${consul.endpoint}"
`,
    });
    // Until the catalog's services are applied (a connection with no router is closed at once).
    let seen = 0;
    for (let i = 0; i < 6; i++) {
      const r = await tcpExchange(proxy.ports['db']!, 'ping', { untilData: 'ping' });
      if (r.data.length > 0) break;
      seen = proxy.logs.filter((l) => l.msg === 'configuration applied').length;
      await proxy.waitForLog(
        (l) => l.msg === 'configuration applied' && proxy.logs.filter((x) => x.msg === l.msg).length > seen,
      );
    }
  });

  after(async () => {
    await proxy?.stop();
    db?.close();
    impostor?.close();
    await consul?.close();
    ca?.remove();
  });

  it("reaches the service's instance over mTLS, presenting the proxy's leaf", async () => {
    const r = await tcpExchange(proxy.ports['db']!, 'ping', { untilData: 'ping' });
    assert.equal(r.data.toString(), `${spiffe('traefik')} ping`);
  });

  it('refuses an instance whose certificate names another service', async () => {
    const r = await tcpExchange(proxy.ports['cache']!, 'ping');
    assert.equal(r.data.length, 0);
  });
});
