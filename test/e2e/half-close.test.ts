import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { simpleConfig } from '../helpers/backends.ts';
import { startProxy } from '../helpers/proxy-process.ts';
import { startSilentUpstream } from '../helpers/stuck-upstream.ts';

describe('a client that half-closes while its upstream hangs', () => {
  it('is answered by a close after readTimeout, and the upstream socket is freed', async (t) => {
    const upstream = await startSilentUpstream();
    t.after(() => upstream.close());
    const config = simpleConfig([upstream.url]).replace(
      'address: "127.0.0.1:0"',
      'address: "127.0.0.1:0"\n    transport: { respondingTimeouts: { readTimeout: 1s } }',
    );
    const proxy = await startProxy({ config });
    t.after(() => proxy.stop());

    const socket = connect({ port: proxy.port, host: '127.0.0.1' });
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // A complete request, then FIN: without a bound the proxy would wait on the silent upstream forever.
    socket.end('GET /slow HTTP/1.1\r\nHost: a\r\n\r\n');
    await upstream.accepted.reach(1);
    await closed;
    assert.equal(Buffer.concat(received).length, 0, 'nothing is sent: no response head ever arrived');
    await upstream.closed.reach(1, 'the upstream socket to be destroyed');
  });
});
