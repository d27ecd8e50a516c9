/**
 * A TCP router that terminates TLS with options that do not exist keeps its rule: the
 * connections it matches are closed, as Traefik's brokenTLSRouter closes them
 * (pkg/server/router/tcp/manager.go addTCPHandlers). They never reach another router (here a
 * passthrough catch-all), which would serve them with a TLS policy the user did not ask for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { startEchoServer, type TcpBackend } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, TestPki } from '../helpers/tls-certs.ts';

describe('a TCP router with unknown tls.options', () => {
  let pki: TestPki;
  let cert: Issued;
  let echo: TcpBackend;
  let sink: TcpBackend;
  let proxy: ProxyProcess;

  before(async () => {
    pki = new TestPki('Proxy CA');
    cert = pki.issue('strict.test', ['strict.test']);
    echo = await startEchoServer();
    // The catch-all's server: counts the ClientHellos it is given.
    sink = await startEchoServer();
    proxy = await startProxy({
      config: `entryPoints:
  tls:
    address: "127.0.0.1:0"
tls:
  certificates:
    - { certFile: strict.pem, keyFile: strict.key }
  options:
    modern: { minVersion: VersionTLS13 }
tcp:
  routers:
    strict:
      rule: "HostSNI(\`strict.test\`)"
      service: echo
      tls: { options: missing }
    any:
      rule: "HostSNI(\`*\`)"
      service: sink
      tls: { passthrough: true }
  services:
    echo: { loadBalancer: { servers: [{ address: "127.0.0.1:${echo.port}" }] } }
    sink: { loadBalancer: { servers: [{ address: "127.0.0.1:${sink.port}" }] } }
`,
      files: { 'strict.pem': cert.certPem, 'strict.key': cert.keyPem },
    });
  });
  after(async () => {
    await proxy?.stop();
    await echo?.close();
    await sink?.close();
    pki?.remove();
  });

  /** Opens a TLS connection with that SNI; resolves once it is closed, with whether it was secured. */
  const hello = (servername: string): Promise<boolean> =>
    new Promise((resolve) => {
      let secured = false;
      const s = connect({
        host: '127.0.0.1',
        port: proxy.ports['tls']!,
        servername,
        rejectUnauthorized: false,
      });
      s.on('secureConnect', () => {
        secured = true;
        s.destroy();
      });
      s.on('error', () => {});
      s.on('close', () => resolve(secured));
    });

  it('closes the connections its rule matches instead of handing them to the catch-all', async () => {
    const before = sink.accepted;
    assert.equal(await hello('strict.test'), false);
    assert.equal(sink.accepted, before);
    assert.equal(echo.accepted, 0);
  });

  it('leaves the other routers as they are', async () => {
    const before = sink.accepted;
    await hello('other.test');
    assert.equal(sink.accepted, before + 1);
  });
});
