/**
 * Slowloris on a TLS entry point: a client that opens a connection and never completes its
 * handshake holds a socket (and a TLS state) for as long as the proxy lets it. Both halves of the
 * handshake are bounded by `readHeaderTimeout` (node's own default would be 120 s after the
 * ClientHello). Real sockets; a real node:tls client whose bytes after its ClientHello are held
 * back.
 */
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { selfSignedCertificate } from '../helpers/tls-certs.ts';
import { within } from '../helpers/wait.ts';

/** A TCP connection's end as the client sees it: what arrived before the close. */
interface Stalled {
  readonly raw: Socket;
  /** Bytes the proxy sent before it closed (its ServerHello … Finished). */
  received: number;
  readonly closed: Promise<void>;
}

/**
 * A TLS client that sends its first write (the ClientHello) and nothing after it: the proxy's
 * flight arrives, the client's Finished never leaves. The handshake cannot complete.
 */
function stalledAfterHello(port: number): Stalled {
  const raw = netConnect(port, '127.0.0.1');
  let sent = 0;
  const state: Stalled = {
    raw,
    received: 0,
    closed: new Promise((resolve) => raw.once('close', () => resolve())),
  };
  const tap = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      if (sent++ === 0) raw.write(chunk);
      cb();
    },
  });
  raw.on('data', (d: Buffer) => {
    state.received += d.length;
    tap.push(d);
  });
  raw.on('error', () => {});
  const client = tlsConnect({ socket: tap, servername: 'slow.test', rejectUnauthorized: false });
  client.on('error', () => {});
  void state.closed.then(() => client.destroy());
  return state;
}

describe('TLS handshake of a slow client', () => {
  let be: Backend;
  let proxy: ProxyProcess;
  const cert = selfSignedCertificate(['slow.test']);

  before(async () => {
    be = await startBackend();
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
    transport:
      respondingTimeouts: { readHeaderTimeout: 500ms, readTimeout: 60s, idleTimeout: 60s }
log: { level: DEBUG }
tls:
  certificates:
    - { certFile: slow.pem, keyFile: slow.key }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`,
      files: { 'slow.pem': cert.certPem, 'slow.key': cert.keyPem },
    });
  });

  after(async () => {
    await proxy?.stop();
    await be?.close();
  });

  it('closes a connection whose ClientHello does not complete within readHeaderTimeout', async () => {
    const raw = netConnect(proxy.ports.websecure!, '127.0.0.1');
    raw.on('error', () => {});
    let received = 0;
    raw.on('data', (d: Buffer) => {
      received += d.length;
    });
    const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    // A TLS handshake record header announcing 512 bytes, and 3 of them.
    raw.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01]));
    await within(closed, 'the proxy to close a half-sent ClientHello', 20_000);
    assert.equal(received, 0, 'not a byte for a handshake that never began');
  });

  it('closes a connection that stalls after its ClientHello within readHeaderTimeout, not 120 s', async () => {
    const from = proxy.logs.length;
    const s = stalledAfterHello(proxy.ports.websecure!);
    await within(s.closed, 'the proxy to give up the stalled handshake (node would wait 120 s)', 20_000);
    assert.ok(s.received > 0, 'the ClientHello was answered: the stall was in the handshake itself');
    const why = await within(
      proxy.waitForLog((l) => proxy.logs.indexOf(l) >= from && l.msg === 'TLS handshake failed'),
      'the log line',
    );
    assert.match(String(why.error), /timeout/i, 'ended by the handshake timeout');
    s.raw.destroy();
  });

  it('still serves a client that completes its handshake', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const c = tlsConnect(
        {
          host: '127.0.0.1',
          port: proxy.ports.websecure!,
          servername: 'slow.test',
          rejectUnauthorized: false,
        },
        () => c.write('GET / HTTP/1.1\r\nHost: slow.test\r\nConnection: close\r\n\r\n'),
      );
      let text = '';
      c.setEncoding('latin1');
      c.on('data', (d: string) => {
        text += d;
      });
      c.on('error', reject);
      c.on('close', () => resolve(text));
    });
    assert.match(reply, /^HTTP\/1\.1 200 /);
  });
});
