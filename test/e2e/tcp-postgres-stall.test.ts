/**
 * GHSA-89p3-4642-cr2w (Traefik v3.6.8): after answering a Postgres SSLRequest with `S`, Traefik
 * cleared the connection's read deadline, so a client that never sent its ClientHello held the
 * connection (and its goroutine) for ever. Through the real proxy with a raw socket: the wait for
 * the ClientHello after `S` is bounded as the first bytes' are (readHeaderTimeout), whether the
 * client sends nothing or part of a ClientHello; the test waits for the proxy to close, no clock.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]);

describe('Postgres STARTTLS: the ClientHello wait is bounded (GHSA-89p3-4642-cr2w)', () => {
  let proxy: ProxyProcess;

  before(async () => {
    proxy = await startProxy({
      config: `entryPoints:
  pg:
    address: "127.0.0.1:0"
    transport:
      respondingTimeouts:
        readHeaderTimeout: 300ms
tcp:
  routers:
    term: { entryPoints: [pg], rule: "HostSNI(\`term.test\`)", service: pg, tls: {} }
  services:
    pg: { loadBalancer: { servers: [{ address: "127.0.0.1:9" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop('SIGTERM', 3_000);
  });

  /** Sends the SSLRequest, reads the `S`, then `then` (maybe nothing); resolves with what was read when the proxy closes. */
  const stall = async (then: Buffer): Promise<Buffer> => {
    const s: Socket = connect({ host: '127.0.0.1', port: proxy.ports['pg']! });
    const read: Buffer[] = [];
    s.on('data', (d: Buffer) => read.push(d));
    s.on('error', () => {});
    await once(s, 'connect');
    s.write(SSL_REQUEST);
    while (Buffer.concat(read).length === 0) await once(s, 'data');
    if (then.length > 0) s.write(then);
    await once(s, 'close');
    return Buffer.concat(read);
  };

  it('closes a client that sends nothing after the S', async () => {
    assert.deepEqual(await stall(Buffer.alloc(0)), Buffer.from('S'));
  });

  it('closes a client that sends part of a ClientHello and stops', async () => {
    // A TLS record header announcing more bytes than ever come.
    assert.deepEqual(await stall(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])), Buffer.from('S'));
  });
});
