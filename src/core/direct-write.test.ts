import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { directWrites, unsentBytes, writeDirect } from './direct-write.ts';

/** A server whose connections keep what they read; reading starts when `go` is called. */
async function paused(): Promise<{
  server: Server;
  port: number;
  accepted: Promise<Socket>;
  readAll: (s: Socket) => Promise<Buffer>;
}> {
  let take: (s: Socket) => void = () => {};
  const accepted = new Promise<Socket>((r) => {
    take = r;
  });
  const server = createServer((s) => {
    s.pause();
    s.on('error', () => {});
    take(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const readAll = async (s: Socket): Promise<Buffer> => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.resume();
    await once(s, 'end');
    return Buffer.concat(parts);
  };
  return { server, port: (server.address() as AddressInfo).port, accepted, readAll };
}

async function client(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  await once(s, 'connect');
  return s;
}

/** `p`, or a failure after 5 s: a write whose failure is lost would otherwise hang the test. */
function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within 5 s`)), 5000);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Stops the handle's reads (pause() does not: it only stops 'data'), so a reset meets a write. */
function stopReading(s: Socket): void {
  (s as unknown as { _handle: { readStop(): number } })._handle.readStop();
}

describe('writeDirect', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  it('is in use on this Node (the proxy relies on it for its speed, not for correctness)', () => {
    assert.equal(directWrites, true);
  });

  it('writes a latin1 string and bytes, in order, as socket.write would', async () => {
    const p = await paused();
    servers.push(p.server);
    const c = await client(p.port);
    const peer = await p.accepted;
    assert.equal(writeDirect(c, 'caf\u00e9 '), true);
    assert.equal(writeDirect(c, Buffer.from('bytes ')), true);
    c.write('then write()');
    c.end();
    const got = await within(p.readAll(peer), 'the bytes');
    assert.deepEqual(got, Buffer.from('caf\u00e9 bytes then write()', 'latin1'));
  });

  it('stands aside while anything is queued: corked, buffered in Writable, or ended', async () => {
    const p = await paused();
    servers.push(p.server);
    const c = await client(p.port);
    const peer = await p.accepted;
    c.cork();
    assert.equal(writeDirect(c, 'W'), false, 'corked with nothing in it');
    c.write('a');
    assert.equal(writeDirect(c, 'X'), false, 'corked');
    c.uncork();
    c.end('b');
    assert.equal(writeDirect(c, 'Y'), false, 'ended');
    assert.equal((await within(p.readAll(peer), 'the bytes')).toString(), 'ab');
  });

  it('keeps a write the kernel cannot take at once, and later writes queue behind it', async () => {
    const p = await paused();
    servers.push(p.server);
    const c = await client(p.port);
    const peer = await p.accepted;
    const big = Buffer.alloc(16 * 1024 * 1024, 'a'.charCodeAt(0));
    assert.equal(writeDirect(c, big), true);
    assert.ok(unsentBytes(c) > 0, 'the peer does not read: libuv holds the rest');
    // Nothing may overtake it: the next direct write stands aside, socket.write queues behind.
    assert.equal(writeDirect(c, 'late'), false);
    const ok = c.write(Buffer.alloc(64 * 1024, 'b'.charCodeAt(0)));
    assert.equal(ok, false, "Writable's backpressure applies to what follows");
    c.end('!');
    const got = await within(p.readAll(peer), 'the bytes');
    assert.equal(got.length, big.length + 64 * 1024 + 1);
    assert.equal(got.indexOf('b'), big.length);
    assert.equal(got.at(-1), '!'.charCodeAt(0));
    assert.equal(unsentBytes(c), 0);
  });

  it("counts Writable's queued bytes once (libuv's queue holds the same bytes)", async () => {
    const p = await paused();
    servers.push(p.server);
    const c = await client(p.port);
    const peer = await p.accepted;
    c.write(Buffer.alloc(16 * 1024 * 1024, 'a'.charCodeAt(0)));
    const inLibuv = (c as unknown as { _handle: { writeQueueSize: number } })._handle.writeQueueSize;
    assert.ok(inLibuv > 0, 'the peer does not read: the write is in flight');
    assert.equal(unsentBytes(c), c.writableLength);
    c.end();
    await within(p.readAll(peer), 'the bytes');
    assert.equal(unsentBytes(c), 0);
  });

  it('destroys the socket with the error when the peer is gone (write without a callback)', async () => {
    const p = await paused();
    servers.push(p.server);
    const c = await client(p.port);
    stopReading(c); // the reset must reach the write, not a read
    const peer = await p.accepted;
    peer.resetAndDestroy();
    await once(peer, 'close');
    await new Promise((r) => setTimeout(r, 20)); // the RST crosses loopback
    const failed = new Promise<NodeJS.ErrnoException>((r) => c.once('error', r));
    assert.equal(writeDirect(c, 'x'), true);
    const err = await within(failed, 'the write error');
    assert.match(String(err.code), /EPIPE|ECONNRESET/);
    assert.equal(err.syscall, 'write');
    assert.equal(c.destroyed, true);
  });

  it('fails a queued write by destroying its socket when the peer resets', async () => {
    const p = await paused();
    servers.push(p.server);
    const c = await client(p.port);
    stopReading(c);
    const peer = await p.accepted;
    const failed = new Promise<NodeJS.ErrnoException>((r) => c.once('error', r));
    assert.equal(writeDirect(c, Buffer.alloc(16 * 1024 * 1024)), true);
    assert.ok(unsentBytes(c) > 0);
    peer.resetAndDestroy();
    const err = await within(failed, 'the write error');
    assert.match(String(err.code), /EPIPE|ECONNRESET/);
    assert.equal(err.syscall, 'write');
    await new Promise((r) => c.once('close', r));
    assert.equal(c.destroyed, true);
  });

  it('leaves TLS sockets to socket.write', async () => {
    const p = await paused();
    servers.push(p.server);
    const c = tlsConnect({ port: p.port, host: '127.0.0.1', rejectUnauthorized: false });
    c.on('error', () => {});
    const peer = await p.accepted;
    assert.equal(writeDirect(c, 'x'), false);
    c.destroy();
    peer.destroy();
  });
});
