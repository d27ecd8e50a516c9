/**
 * A TLS handshake a TCP router terminates is bounded like an HTTPS one: a client that sends its
 * ClientHello and then never finishes the handshake is closed after the entry point's
 * readHeaderTimeout. Traefik before v3.6.9 (CVE-2026-26999, GHSA-xw98-5q62-jx94) cleared the
 * read deadline before handing the connection to the TCP router's TLS: a slowloris on TLS held
 * the connection for ever. A relay passes a real client's ClientHello to the proxy and nothing
 * after it.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, TestPki } from '../helpers/tls-certs.ts';

describe('a stalled TLS handshake on a TCP router that terminates TLS (CVE-2026-26999)', () => {
  let pki: TestPki;
  let cert: Issued;
  let backend: net.Server;
  let proxy: ProxyProcess;

  before(async () => {
    pki = new TestPki('tcp tls CA');
    cert = pki.issue('tcp.test', ['tcp.test']);
    backend = net.createServer((s) => s.pipe(s));
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const port = (backend.address() as net.AddressInfo).port;
    proxy = await startProxy({
      config: `entryPoints:
  tcp:
    address: "127.0.0.1:0"
    transport:
      respondingTimeouts: { readHeaderTimeout: 500ms }
log: { level: INFO }
tcp:
  routers:
    echo: { rule: "HostSNI(\`tcp.test\`)", service: echo, tls: {} }
  services:
    echo: { loadBalancer: { servers: [{ address: "127.0.0.1:${port}" }] } }
tls:
  certificates:
    - { certFile: c.pem, keyFile: c.key }
`,
      files: { 'c.pem': cert.certPem, 'c.key': cert.keyPem },
    });
  });
  after(async () => {
    await proxy?.stop();
    await new Promise<void>((r) => backend.close(() => r()));
    pki?.remove();
  });

  it('closes the connection that never finishes its handshake', async () => {
    // The relay forwards the client's first TLS record (its ClientHello) and drops the rest.
    let upstream: net.Socket | undefined;
    const relay = net.createServer((down) => {
      const up = net.connect(proxy.port, '127.0.0.1');
      upstream = up;
      let sent = false;
      down.on('data', (d: Buffer) => {
        if (!sent) {
          sent = true;
          up.write(d.subarray(0, 5 + d.readUInt16BE(3)));
        }
      });
      up.on('data', () => {}); // the ServerHello and the rest: read, never answered
      up.on('error', () => {});
      down.on('error', () => {});
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const client = tlsConnect({
      host: '127.0.0.1',
      port: (relay.address() as net.AddressInfo).port,
      servername: 'tcp.test',
      ca: pki.ca.certPem,
    });
    client.on('error', () => {});
    try {
      await new Promise<void>((resolve) => {
        const wait = (): void => {
          if (upstream === undefined) setImmediate(wait);
          else upstream.once('close', () => resolve());
        };
        wait();
      });
      // A handshake that completes goes through to the echo server.
      const ok = tlsConnect({
        host: '127.0.0.1',
        port: proxy.port,
        servername: 'tcp.test',
        ca: pki.ca.certPem,
      });
      const echoed = await new Promise<string>((resolve, reject) => {
        ok.on('secureConnect', () => ok.write('ping'));
        ok.once('data', (d: Buffer) => resolve(d.toString()));
        ok.on('error', reject);
      });
      ok.destroy();
      assert.equal(echoed, 'ping');
    } finally {
      client.destroy();
      relay.close();
    }
  });
});
