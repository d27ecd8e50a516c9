import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { type FrameHandler, FrameReader } from './frame-reader.ts';
import { FrameWriter } from './frame-writer.ts';
import {
  E_FRAME_SIZE_ERROR,
  E_NO_ERROR,
  E_PROTOCOL_ERROR,
  F_DATA,
  F_HEADERS,
  FLAG_END_STREAM,
} from './frames.ts';
import { SendQueue, type SendWindow } from './own-send-queue.ts';
import { H2_PREFACE } from './preface.ts';

interface Seen {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

/** Collects frames as a handler would see them (payloads copied: the reader lends its memory). */
function collector(): FrameHandler & { frames: Seen[] } {
  const frames: Seen[] = [];
  return {
    frames,
    onFrame(type, flags, stream, buf, start, end) {
      frames.push({ type, flags, stream, payload: Buffer.from(buf.subarray(start, end)) });
      return true;
    },
  };
}

/** A socket stand-in that keeps what a FrameWriter writes. */
function sink(): { socket: Socket; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  const socket = {
    destroyed: false,
    writableNeedDrain: false,
    write(b: Buffer) {
      chunks.push(Buffer.from(b));
      return true;
    },
    cork() {},
    uncork() {},
  } as unknown as Socket;
  return { socket, bytes: () => Buffer.concat(chunks) };
}

function parse(buf: Buffer): Seen[] {
  const r = new FrameReader(1 << 24, true);
  const c = collector();
  assert.equal(r.feed(buf, 0, buf.length, c), E_NO_ERROR);
  return c.frames;
}

describe('frame reader', () => {
  const w = sink();
  const fw = new FrameWriter(w.socket);
  fw.settings([4, 65535, 3, 100]);
  fw.data(1, Buffer.alloc(5000, 0x61), 0, 5000, false);
  fw.data(1, Buffer.from('tail'), 0, 4, true);
  fw.windowUpdate(0, 1000);
  fw.flush();
  const wire = Buffer.concat([H2_PREFACE, w.bytes()]);

  it('gives the same frames whether the bytes come whole, one by one, or cut anywhere', () => {
    const whole = collector();
    assert.equal(new FrameReader(16_384, false).feed(wire, 0, wire.length, whole), E_NO_ERROR);
    assert.deepEqual(
      whole.frames.map((f) => [f.type, f.flags, f.stream, f.payload.length]),
      [
        [4, 0, 0, 12],
        [0, 0, 1, 5000],
        [0, FLAG_END_STREAM, 1, 4],
        [8, 0, 0, 4],
      ],
    );
    for (const step of [1, 7, 9, 10, 4096]) {
      const r = new FrameReader(16_384, false);
      const c = collector();
      for (let p = 0; p < wire.length; p += step) {
        assert.equal(r.feed(wire, p, Math.min(p + step, wire.length), c), E_NO_ERROR);
      }
      assert.deepEqual(c.frames, whole.frames, `step ${step}`);
    }
  });

  it('refuses a wrong preface and a frame over our SETTINGS_MAX_FRAME_SIZE', () => {
    const bad = Buffer.from('GET / HTTP/1.1\r\n\r\n');
    assert.equal(new FrameReader(16_384, false).feed(bad, 0, bad.length, collector()), E_PROTOCOL_ERROR);
    const big = Buffer.from([0x00, 0x40, 0x01, F_DATA, 0, 0, 0, 0, 1]);
    assert.equal(new FrameReader(16_384, true).feed(big, 0, big.length, collector()), E_FRAME_SIZE_ERROR);
  });
});

describe('frame writer', () => {
  it('cuts a header block into HEADERS + CONTINUATION of the peer frame size, END_HEADERS on the last', () => {
    const w = sink();
    const fw = new FrameWriter(w.socket);
    const block = Buffer.alloc(40_000, 0x41);
    fw.headers(3, block, block.length, true, 16_384);
    fw.flush();
    const frames = parse(w.bytes());
    assert.deepEqual(
      frames.map((f) => [f.type, f.flags, f.stream, f.payload.length]),
      [
        [F_HEADERS, FLAG_END_STREAM, 3, 16_384],
        [9, 0, 3, 16_384],
        [9, 4, 3, 40_000 - 32_768],
      ],
    );
  });
});

describe('flow control: a stream send queue', () => {
  function conn(window: number): SendWindow & { waiting: SendQueue[]; out: ReturnType<typeof sink> } {
    const out = sink();
    const waiting: SendQueue[] = [];
    return {
      out,
      waiting,
      writer: new FrameWriter(out.socket),
      connWindow: window,
      peerMaxFrame: 16_384,
      waitForWindow(q) {
        waiting.push(q);
      },
    };
  }

  it('sends within the stream and connection windows, in frames of the peer size, and the rest after WINDOW_UPDATE', () => {
    const c = conn(100_000);
    const q = new SendQueue(1, 20_000);
    const body = Buffer.alloc(50_000, 0x62);
    assert.equal(q.send(c, body, 0, body.length, true), false);
    c.writer.flush();
    let frames = parse(c.out.bytes());
    assert.deepEqual(
      frames.map((f) => f.payload.length),
      [16_384, 20_000 - 16_384],
    );
    assert.equal(q.bytes, 30_000);
    assert.equal(q.window, 0);
    assert.equal(c.connWindow, 80_000);
    // The stream window opens (WINDOW_UPDATE on the stream): the connection window now limits.
    q.window += 100_000;
    c.connWindow = 10_000;
    assert.equal(q.pump(c), false);
    assert.equal(c.waiting.length, 1, 'waits for the connection window');
    c.connWindow += 50_000;
    assert.equal(q.pump(c), true, 'END_STREAM went out with the last bytes');
    c.writer.flush();
    frames = parse(c.out.bytes());
    const data = frames.filter((f) => f.type === F_DATA);
    assert.equal(Buffer.concat(data.map((f) => f.payload)).length, 50_000);
    assert.equal(data.at(-1)!.flags, FLAG_END_STREAM);
    assert.ok(data.slice(0, -1).every((f) => f.flags === 0));
  });

  it('stops at a window made negative by a smaller SETTINGS_INITIAL_WINDOW_SIZE', () => {
    const c = conn(100_000);
    const q = new SendQueue(1, 10);
    q.window -= 30;
    assert.equal(q.send(c, Buffer.from('abc'), 0, 3, false), false);
    c.writer.flush();
    assert.equal(c.out.bytes().length, 0);
    q.window += 33;
    q.pump(c);
    c.writer.flush();
    assert.deepEqual(
      parse(c.out.bytes()).map((f) => f.payload.toString()),
      ['abc'],
    );
  });
});
