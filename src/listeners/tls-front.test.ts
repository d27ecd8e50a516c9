import assert from 'node:assert/strict';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { selfSignedCertificate } from '../../test/helpers/tls-certs.ts';
import { within } from '../../test/helpers/wait.ts';
import { silentLogger } from '../core/logger.ts';
import type { SnapshotRef } from '../runtime/types.ts';
import { TlsFront } from './tls-front.ts';

/**
 * The TLS-ALPN-01 challenge's handshake (RFC 8737) is bounded by the entry point's handshake
 * timeout like any other, as Traefik v3.7.13 bounds it: a client that names a pending challenge
 * with `acme-tls/1` and then stalls after its ClientHello is dropped, not kept for node's 120 s.
 */
describe('TlsFront: the acme-tls/1 challenge handshake', () => {
  const cert = selfSignedCertificate(['pending.test']);
  let server: Server;
  let port = 0;

  before(async () => {
    const front = new TlsFront({
      ref: { current: { tls: null } } as unknown as SnapshotRef,
      logger: silentLogger,
      entryPoint: 'websecure',
      onSecure: (s) => s.destroy(),
      challenges: { lookup: (name) => (name === 'pending.test' ? cert : undefined) },
      handshakeTimeoutMs: 300,
    });
    // The dispatcher's part: the ClientHello read, then the socket handed over with it.
    server = createServer((socket: Socket) => {
      socket.once('data', (hello: Buffer) => {
        socket.pause();
        front.handshake(socket, hello, { serverName: 'pending.test', alpn: ['acme-tls/1'] });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('drops a client that stalls after its ClientHello', async () => {
    const raw = netConnect(port, '127.0.0.1');
    raw.on('error', () => {});
    let received = 0;
    const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    // Only the first write (the ClientHello) leaves: the handshake can never complete.
    let sent = 0;
    const tap = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        if (sent++ === 0) raw.write(chunk);
        cb();
      },
    });
    raw.on('data', (d: Buffer) => {
      received += d.length;
      tap.push(d);
    });
    const client = tlsConnect({
      socket: tap,
      servername: 'pending.test',
      ALPNProtocols: ['acme-tls/1'],
      rejectUnauthorized: false,
    });
    client.on('error', () => {});
    await within(closed, 'the stalled challenge handshake to be dropped (node would wait 120 s)', 20_000);
    assert.ok(received > 0, 'the challenge certificate was presented: the stall was in the handshake');
    client.destroy();
  });
});
