import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FrameWriter } from './frame-writer.ts';
import { FRAME_HEAD } from './frames.ts';
import { SendQueue } from './own-send-queue.ts';
import { type ScheduledStream, WriteScheduler } from './own-write-scheduler.ts';
import { StreamMap } from './stream-map.ts';

/** A loopback connection: `ours` writes, `peer` is the other end, paused until a test reads. */
async function socketPair(server: Server): Promise<{ ours: Socket; peer: Socket }> {
  const accepted = once(server, 'connection');
  const addr = server.address() as { port: number };
  const ours = createConnection({ host: '127.0.0.1', port: addr.port });
  await once(ours, 'connect');
  const [peer] = (await accepted) as [Socket];
  peer.pause();
  return { ours, peer };
}

/** Reads `n` bytes from the peer (flowing until they arrived, then paused again). */
function readBytes(peer: Socket, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer): void => {
      chunks.push(c);
      got += c.length;
      if (got < n) return;
      peer.off('data', onData);
      peer.off('error', reject);
      peer.pause();
      resolve(Buffer.concat(chunks));
    };
    peer.on('data', onData);
    peer.on('error', reject);
    peer.resume();
  });
}

/** A stream that records what the scheduler tells it. */
function stream(log: string[], name: string): ScheduledStream {
  return {
    pump: () => log.push(`${name}:pump`),
    onDrain: () => log.push(`${name}:drain`),
  };
}

const PING = Buffer.alloc(8, 7);
/** A connection window no pump uses up. */
const OPEN = { connWindow: 1 << 30 };
const nextImmediate = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('own engine write scheduler', () => {
  let server: Server;
  const open: Socket[] = [];
  before(async () => {
    server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  after(() => {
    for (const s of open) s.destroy();
    server.close();
  });

  async function setup(): Promise<{
    ours: Socket;
    peer: Socket;
    writer: FrameWriter;
    input: { inRead: boolean };
    streams: StreamMap<ScheduledStream>;
    w: WriteScheduler;
  }> {
    const { ours, peer } = await socketPair(server);
    open.push(ours, peer);
    const writer = new FrameWriter(ours);
    const input = { inRead: false };
    const streams = new StreamMap<ScheduledStream>();
    return { ours, peer, writer, input, streams, w: new WriteScheduler(ours, writer, input, streams) };
  }

  it('writes frames gathered outside a read at the end of the tick, once for many schedules', async () => {
    const { peer, writer, w } = await setup();
    let flushes = 0;
    const flush = writer.flush.bind(writer);
    writer.flush = () => {
      flushes++;
      return flush();
    };
    writer.ping(PING, 0);
    w.schedule();
    writer.ping(PING, 0);
    w.schedule();
    assert.equal(writer.pending, true, 'nothing is written before the tick ends');
    await nextImmediate();
    assert.equal(writer.pending, false);
    assert.equal(flushes, 1, 'one write for both');
    const bytes = await readBytes(peer, 2 * (FRAME_HEAD + 8));
    assert.equal(bytes.length, 2 * (FRAME_HEAD + 8));
    // A later schedule writes again (the flag was reset by the flush).
    writer.ping(PING, 0);
    w.schedule();
    await nextImmediate();
    assert.equal(writer.pending, false);
    assert.equal(flushes, 2);
  });

  it('leaves frames gathered during a read to the flush at its end', async () => {
    const { writer, input, w } = await setup();
    input.inRead = true;
    writer.ping(PING, 0);
    w.schedule();
    await nextImmediate();
    assert.equal(writer.pending, true, 'a read in progress defers the write to its end');
    input.inRead = false;
    w.flushNow();
    assert.equal(writer.pending, false);
    // flushNow with nothing gathered writes nothing and is harmless.
    w.flushNow();
    assert.equal(writer.pending, false);
  });

  it('pumps the streams that waited for connection window, once, skipping those closed meanwhile', async () => {
    const { streams, w } = await setup();
    const log: string[] = [];
    streams.set(1, stream(log, 's1'));
    streams.set(3, stream(log, 's3'));
    w.waitForWindow(new SendQueue(1, 100));
    w.waitForWindow(new SendQueue(3, 100));
    w.waitForWindow(new SendQueue(5, 100));
    streams.delete(3);
    w.pumpWaiting(OPEN);
    assert.deepEqual(log, ['s1:pump']);
    w.pumpWaiting(OPEN);
    assert.deepEqual(log, ['s1:pump'], 'the waiting list was emptied');
  });

  it('keeps a stream that waits again while being pumped for the next window update', async () => {
    const { streams, w } = await setup();
    let pumps = 0;
    const q = new SendQueue(1, 100);
    streams.set(1, {
      pump: () => {
        pumps++;
        if (pumps === 1) w.waitForWindow(q);
      },
      onDrain: () => {},
    });
    w.waitForWindow(q);
    w.pumpWaiting(OPEN);
    w.pumpWaiting(OPEN);
    w.pumpWaiting(OPEN);
    assert.equal(pumps, 2);
  });

  it('wakes on each update only the streams its window feeds, each in turn (1-byte updates)', async () => {
    const { streams, w } = await setup();
    // A connection window of 1 byte that the first stream pumped uses up, as a peer sending
    // WINDOW_UPDATEs of 1 to a connection with many streams waiting makes it.
    const conn = { connWindow: 0 };
    const pumped: number[] = [];
    const queues = new Map<number, SendQueue>();
    for (let id = 1; id <= 399; id += 2) {
      const q = new SendQueue(id, 100);
      queues.set(id, q);
      streams.set(id, {
        pump: () => {
          pumped.push(id);
          conn.connWindow = 0;
          w.waitForWindow(q);
        },
        onDrain: () => {},
      });
      w.waitForWindow(q);
    }
    for (let n = 0; n < 400; n++) {
      conn.connWindow = 1;
      w.pumpWaiting(conn);
    }
    assert.equal(pumped.length, 400, 'one pump per update, not one per waiting stream');
    // Round robin: the 200 streams twice, in the order they began to wait.
    const order = [...queues.keys()];
    assert.deepEqual(pumped, [...order, ...order]);
  });

  it('tells the streams that wrote into a full socket when it drains', async () => {
    const { ours, peer, writer, w } = await setup();
    const log: string[] = [];
    // Fill the socket until node asks for a drain (the peer does not read yet).
    const big = Buffer.alloc(64 * 1024, 1);
    let sent = 0;
    while (!w.socketFull) {
      writer.data(1, big, 0, big.length, false);
      w.flushNow();
      sent += FRAME_HEAD + big.length;
    }
    assert.equal(w.socketFull, true);
    w.waitForDrain(stream(log, 'a'));
    w.waitForDrain(stream(log, 'b'));
    ours.once('drain', () => w.onDrain());
    const drained = once(ours, 'drain');
    await readBytes(peer, sent);
    await drained;
    assert.equal(w.socketFull, false);
    assert.deepEqual(log, ['a:drain', 'b:drain']);
    w.onDrain();
    assert.deepEqual(log, ['a:drain', 'b:drain'], 'each waiter hears one drain');
  });
});
