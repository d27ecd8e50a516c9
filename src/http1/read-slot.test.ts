import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { adoptReadSlot, copyOut, isSharedReadBuffer, ReadSlot, type ReadTarget } from './read-slot.ts';

/** Collects what a slot delivers: the bytes (copied), and which buffer each read landed in. */
class Collector implements ReadTarget {
  readonly chunks: Buffer[] = [];
  readonly buffers: Buffer[] = [];
  #waiting: { n: number; resolve: () => void } | null = null;
  bytes = 0;
  /** Lend the buffer of the next read (during its callback, as the connections do). */
  lendTo: ReadSlot | null = null;

  onRead(buf: Buffer, n: number): boolean {
    this.lendTo?.lend();
    this.lendTo = null;
    this.chunks.push(Buffer.from(buf.subarray(0, n)));
    this.buffers.push(buf);
    this.bytes += n;
    const w = this.#waiting;
    if (w !== null && this.bytes >= w.n) {
      this.#waiting = null;
      w.resolve();
    }
    return true;
  }

  until(n: number): Promise<void> {
    if (this.bytes >= n) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiting = { n, resolve };
    });
  }
}

async function pair(t: TestContext): Promise<{ server: Socket; client: Socket }> {
  const srv: Server = createServer({ allowHalfOpen: true });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const addr = srv.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  const accepted = once(srv, 'connection');
  const client = connect({ host: '127.0.0.1', port: addr.port, noDelay: true });
  const [server] = (await accepted) as [Socket];
  t.after(() => {
    client.destroy();
    server.destroy();
    srv.close();
  });
  await once(client, 'connect');
  return { server, client };
}

describe('adoptReadSlot', () => {
  it('delivers every byte of an accepted socket into the one reused buffer', async (t) => {
    const { server, client } = await pair(t);
    const slot = new ReadSlot();
    const c = new Collector();
    slot.target = c;
    assert.equal(adoptReadSlot(server, slot), true);
    client.write('GET / HTTP/1.1\r\n');
    await c.until(16);
    client.write('Host: a\r\n\r\n');
    await c.until(27);
    assert.equal(Buffer.concat(c.chunks).toString('latin1'), 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.ok(c.buffers.length >= 2);
    assert.ok(
      c.buffers.every((b) => b === c.buffers[0]),
      'each read reuses the same buffer',
    );
  });

  it('gives the next read a fresh buffer once the current one was lent', async (t) => {
    const { server, client } = await pair(t);
    const slot = new ReadSlot();
    const c = new Collector();
    slot.target = c;
    assert.equal(adoptReadSlot(server, slot), true);
    c.lendTo = slot;
    client.write('one');
    await c.until(3);
    const lent = c.buffers[0]!;
    client.write('two');
    await c.until(6);
    assert.notEqual(c.buffers[1], lent);
    assert.equal(lent.toString('latin1', 0, 3), 'one', 'the lent buffer is not written again');
  });

  it('stops reading on pause, goes on after resume, and still ends the stream on FIN', async (t) => {
    const { server, client } = await pair(t);
    const slot = new ReadSlot();
    const c = new Collector();
    slot.target = c;
    assert.equal(adoptReadSlot(server, slot), true);
    server.pause();
    client.write('held');
    // The client's bytes reach the server's kernel buffer; a read would deliver them now.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const ended = once(server, 'end');
    client.end();
    server.resume();
    await c.until(4);
    await ended;
    assert.equal(Buffer.concat(c.chunks).toString('latin1'), 'held');
  });

  it('refuses a socket that still holds bytes in its stream buffer', async (t) => {
    const { server } = await pair(t);
    server.pause();
    server.unshift(Buffer.from('pending'));
    assert.equal(adoptReadSlot(server, new ReadSlot()), false);
  });

  it('refuses a socket whose reads already go to a buffer of its own', async (t) => {
    const { server } = await pair(t);
    assert.equal(adoptReadSlot(server, new ReadSlot()), true);
    assert.equal(adoptReadSlot(server, new ReadSlot()), false);
  });
});

describe('ReadSlot spares', () => {
  it('reads into a recycled buffer instead of a new one, and never into one still lent', () => {
    const slot = new ReadSlot();
    const a = slot.onread.buffer();
    slot.onread.callback(a.length, a); // a full read: the next buffers are bulk-sized
    const a2 = slot.onread.buffer();
    assert.notEqual(a2, a, 'a full read moves the slot to a bulk-sized buffer');
    assert.equal(slot.lend(), a2);
    const b = slot.onread.buffer();
    assert.notEqual(b, a2, 'a lent buffer is never read into again');
    slot.recycle(a2);
    assert.equal(slot.lend(), b);
    assert.equal(slot.onread.buffer(), a2, 'the recycled buffer is read into next');
    // The current buffer, or one too small for bulk reads, is never kept as a spare.
    slot.recycle(a2);
    slot.recycle(a);
    assert.equal(slot.lend(), a2);
    const c = slot.onread.buffer();
    assert.notEqual(c, a);
    assert.notEqual(c, a2);
  });
});

describe('shared ReadSlot', () => {
  it('reads into the one shared buffer, which it never lends', () => {
    const a = new ReadSlot(false, true);
    const b = new ReadSlot(false, true);
    const buf = a.onread.buffer();
    assert.equal(b.onread.buffer(), buf, 'every shared slot reads into the same buffer');
    assert.equal(isSharedReadBuffer(buf), true);
    a.onread.callback(10, buf);
    assert.throws(() => a.lend(), /cannot be lent/);
    assert.equal(a.onread.buffer(), buf, 'a small read keeps the slot on the shared buffer');
    assert.equal(isSharedReadBuffer(new ReadSlot().onread.buffer()), false, 'a plain slot has its own');
  });

  it('moves to buffers of its own after a read that fills the shared one, or when unshared', () => {
    const a = new ReadSlot(false, true);
    const shared = a.onread.buffer();
    a.onread.callback(shared.length, shared);
    const own = a.onread.buffer();
    assert.notEqual(own, shared);
    assert.equal(isSharedReadBuffer(own), false);
    assert.equal(a.lend(), own, 'a buffer of its own can be lent');
    assert.notEqual(a.onread.buffer(), own);

    const b = new ReadSlot(false, true);
    assert.equal(b.onread.buffer(), shared);
    b.unshare();
    const bOwn = b.onread.buffer();
    assert.notEqual(bOwn, shared);
    assert.equal(b.onread.buffer(), bOwn, 'and reuses it from then on');
  });
});

describe('copyOut', () => {
  it('copies the range into memory of its own, bounded as subarray bounds it', () => {
    const buf = Buffer.from('0123456789');
    const c = copyOut(buf, 2, 6);
    assert.equal(c.toString(), '2345');
    buf.write('xxxxxxxxxx');
    assert.equal(c.toString(), '2345', 'later writes to the source do not reach the copy');
    const src = Buffer.from('abcdef');
    assert.equal(copyOut(src, 4, 99).toString(), 'ef', 'an end past the buffer stops at its end');
    assert.equal(copyOut(src, 3, 3).length, 0);
    assert.equal(copyOut(src, 5, 2).length, 0, 'an empty range when end is before start');
  });
});
