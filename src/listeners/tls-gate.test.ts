/**
 * The gate holds ClientHellos while TLS loads. When the rebuild that was to bring TLS in is
 * refused (main.ts: an outcome not applied while TLS is loaded and no snapshot has it, or TLS
 * failing to load), the held ones are refused at once, with internal_error (Go's answer when its
 * server cannot get a configuration for a ClientHello), and so are the next ones until a snapshot
 * with TLS is in place: they waited the gate's 10 s hold, then a bare close. Real sockets, node's
 * TLS client; every wait is bounded well below the hold, and no time is asserted.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { silentLogger } from '../core/logger.ts';
import type { SnapshotRef } from '../runtime/types.ts';
import { parseClientHello } from '../tls/sni.ts';
import { TlsGate } from './tls-gate.ts';

/** What a node TLS client reports (its error code), or 'timeout' after `boundMs`. */
function handshake(port: number, boundMs: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, servername: 'a.test', rejectUnauthorized: false });
    const done = (r: string): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('timeout'), boundMs);
    s.once('secureConnect', () => done('ok'));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    s.once('close', () => done('closed'));
  });
}

describe('TlsGate: a refused TLS rebuild', () => {
  const ref = { current: { tls: null, tlsWanted: true } } as unknown as SnapshotRef;
  const gate = new TlsGate(ref, silentLogger, () => Promise.reject(new Error('not used')));
  let server: Server;
  let port = 0;
  /** Resolves once the gate holds a connection. */
  let held: (() => void) | undefined;

  before(async () => {
    server = createServer((socket: Socket) => {
      let buf = Buffer.alloc(0);
      const onData = (d: Buffer): void => {
        buf = Buffer.concat([buf, d]);
        const hello = parseClientHello(buf);
        if (hello.kind !== 'hello') return;
        socket.off('data', onData);
        socket.pause();
        gate.handshake('websecure', socket, buf, hello);
        held?.();
      };
      socket.on('data', onData);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });

  after(() => {
    gate.close();
    server.close();
  });

  it('refuses the held ClientHellos with internal_error at once, then the next ones until ready', async () => {
    const isHeld = new Promise<void>((r) => (held = r));
    const first = handshake(port, 3_000);
    await isHeld;
    gate.refused();
    assert.equal(await first, 'ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR');
    // Not held any more: refused as it arrives.
    assert.equal(await handshake(port, 3_000), 'ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR');
  });

  it('holds them again once a snapshot with TLS was announced (ready)', async () => {
    gate.ready();
    const isHeld = new Promise<void>((r) => (held = r));
    const c = handshake(port, 3_000);
    await isHeld;
    gate.refused();
    assert.equal(await c, 'ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR');
  });
});
