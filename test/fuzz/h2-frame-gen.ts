/**
 * Random HTTP/2 client byte streams for the frame-layer fuzzer: a preface (rarely damaged), a
 * SETTINGS frame, then a sequence of frames of every type, mostly well framed with hostile
 * contents (wrong lengths for the type, stream 0 where a stream is needed and the reverse, even
 * stream ids, padding longer than the frame, HPACK blocks with bad indexes, oversized integers,
 * table size updates, Huffman garbage), sometimes torn (a length that runs past the end). Written
 * in random pieces. Everything derives from the seed, so a failing case replays from it.
 */
import { END_HEADERS, END_STREAM, frame, literal, PREFACE, requestBlock } from '../helpers/h2-frames.ts';

export type Rand = () => number;

const int = (r: Rand, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;
const chance = (r: Rand, p: number): boolean => r() < p;

const BOUNDARY_32 = [
  0, 1, 2, 0x3fff, 0x4000, 0xffff, 0x10000, 0xffffff, 0x1000000, 0x7fffffff, 0x80000000, 0xffffffff,
];

function randomBytes(r: Rand, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(r, 256);
  return b;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

function streamId(r: Rand, last: number): number {
  return pick(r, [
    last, // the current stream
    last + 2, // the next one
    0, // the connection
    last + 1, // even: a server-initiated id
    1,
    0x7fffffff,
    int(r, 1000),
    last > 2 ? last - 2 : 1, // an older (closed) stream
  ]);
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1), with `first` holding the high bits. */
function hpackInt(first: number, prefixBits: number, value: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([first | value]);
  const out = [first | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** A header block: a request that may be valid, or HPACK that is not. */
function headerBlock(r: Rand): Buffer {
  const path = pick(r, [
    '/',
    '/fuzz',
    '/fuzz?q=1',
    '*',
    '',
    'noslash',
    '/%00',
    `/${'a'.repeat(int(r, 120))}`,
  ]);
  const authority = pick(r, ['a', 'fuzz.test', '', 'a:99999', 'A.B', '[::1]']);
  const parts: Buffer[] = [];
  if (chance(r, 0.7)) parts.push(requestBlock(path, authority));
  const n = int(r, 4);
  for (let i = 0; i < n; i++) {
    switch (int(r, 12)) {
      case 0: // an indexed field beyond both tables
        parts.push(hpackInt(0x80, 7, pick(r, [0, 62, 63, 200, 4096, 0x7fffffff])));
        break;
      case 1: // a dynamic table size update, possibly above what SETTINGS allowed
        parts.push(hpackInt(0x20, 5, pick(r, [0, 100, 4096, 4097, 1 << 20, 0x7fffffff])));
        break;
      case 2: // a literal with incremental indexing, new name
        parts.push(
          Buffer.from([0x40]),
          literal(pick(r, ['x-f', 'Upper', 'connection', 'te', ':path', ''])),
          literal(pick(r, ['v', 'trailers', '\r\n', 'a\x00b'])),
        );
        break;
      case 3: // a Huffman-flagged string of random bytes
        parts.push(
          Buffer.from([0x00]),
          Buffer.from([0x80 | 4]),
          randomBytes(r, 4),
          Buffer.from([0x01, 0x76]),
        );
        break;
      case 4: // an integer that never ends (continuation bits set to the end of the block)
        parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
        break;
      case 5: // a string length past the end of the block
        parts.push(Buffer.from([0x00, 0x7f, 0xff, 0x03]));
        break;
      case 6: // pseudo-header after a regular one, duplicated pseudo-headers
        parts.push(Buffer.from([0x00]), literal('x-a'), literal('1'), Buffer.from([0x82, 0x84]));
        break;
      case 7: // :method CONNECT with :protocol (extended CONNECT) and odd values
        parts.push(
          Buffer.from([0x00]),
          literal(':method'),
          literal('CONNECT'),
          Buffer.from([0x00]),
          literal(':protocol'),
          literal(pick(r, ['websocket', 'x', ''])),
        );
        break;
      case 8: // content-length that will not match the DATA
        parts.push(
          Buffer.from([0x00]),
          literal('content-length'),
          literal(pick(r, ['0', '5', '-1', 'abc', '99999999999999999999'])),
        );
        break;
      case 9: // a large literal
        parts.push(Buffer.from([0x00]), literal('x-big'), hpackInt(0x00, 7, 3000), Buffer.alloc(3000, 0x61));
        break;
      default:
        parts.push(randomBytes(r, int(r, 24)));
    }
  }
  return Buffer.concat(parts);
}

function padded(r: Rand, payload: Buffer): { flags: number; payload: Buffer } {
  if (!chance(r, 0.2)) return { flags: 0, payload };
  // Pad length may exceed the frame (a PROTOCOL_ERROR the peer must detect).
  const pad = pick(r, [0, 1, 10, 255, payload.length + 1]);
  return {
    flags: 0x8,
    payload: Buffer.concat([Buffer.from([pad & 0xff]), payload, Buffer.alloc(Math.min(pad, 255))]),
  };
}

function settingsPayload(r: Rand): Buffer {
  const n = int(r, 5);
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const id = Buffer.alloc(2);
    id.writeUInt16BE(pick(r, [1, 2, 3, 4, 5, 6, 8, 9, 0, 0x99]));
    parts.push(id, u32(pick(r, BOUNDARY_32)));
  }
  return Buffer.concat(parts);
}

/** One frame; `state.stream` is the client's current stream id. */
function randomFrame(r: Rand, state: { stream: number }): Buffer {
  const sid = streamId(r, state.stream);
  switch (int(r, 13)) {
    case 0:
    case 1: {
      // HEADERS, opening the next stream most of the time
      state.stream += 2;
      const id = chance(r, 0.8) ? state.stream : sid;
      let flags = (chance(r, 0.8) ? END_HEADERS : 0) | (chance(r, 0.6) ? END_STREAM : 0);
      let block = headerBlock(r);
      if (chance(r, 0.15)) {
        flags |= 0x20; // PRIORITY: 5 more bytes, maybe depending on itself
        block = Buffer.concat([u32(chance(r, 0.3) ? id : int(r, 10)), Buffer.from([int(r, 256)]), block]);
      }
      const p = padded(r, block);
      return frame(0x1, flags | p.flags, id, p.payload);
    }
    case 2: // CONTINUATION, on the right stream or not
      return frame(
        0x9,
        chance(r, 0.5) ? END_HEADERS : 0,
        chance(r, 0.6) ? state.stream : sid,
        headerBlock(r),
      );
    case 3: {
      // DATA
      const p = padded(r, randomBytes(r, pick(r, [0, 1, 100, 16384, 20000])));
      return frame(0x0, (chance(r, 0.5) ? END_STREAM : 0) | p.flags, sid, p.payload);
    }
    case 4: // PRIORITY, of the right length (5) or not
      return frame(0x2, 0, sid, randomBytes(r, pick(r, [5, 5, 4, 6, 0])));
    case 5: // RST_STREAM
      return frame(0x3, 0, sid, chance(r, 0.8) ? u32(int(r, 16)) : randomBytes(r, pick(r, [0, 3, 5])));
    case 6: // SETTINGS, ACK with a payload, on a stream, or a length not a multiple of 6
      return frame(
        0x4,
        chance(r, 0.2) ? 0x1 : 0,
        chance(r, 0.9) ? 0 : sid,
        chance(r, 0.85) ? settingsPayload(r) : randomBytes(r, pick(r, [1, 5, 7])),
      );
    case 7: // PUSH_PROMISE: clients must not send it
      return frame(0x5, END_HEADERS, sid, Buffer.concat([u32(state.stream + 1), headerBlock(r)]));
    case 8: // PING
      return frame(
        0x6,
        chance(r, 0.3) ? 0x1 : 0,
        chance(r, 0.9) ? 0 : sid,
        randomBytes(r, pick(r, [8, 8, 0, 7, 9])),
      );
    case 9: // GOAWAY
      return frame(
        0x7,
        0,
        chance(r, 0.9) ? 0 : sid,
        Buffer.concat([u32(int(r, 100)), u32(int(r, 16)), randomBytes(r, int(r, 8))]),
      );
    case 10: // WINDOW_UPDATE: 0, the maximum, an overflow, a wrong length
      return frame(
        0x8,
        0,
        sid,
        chance(r, 0.85)
          ? u32(pick(r, [0, 1, 65535, 0x7fffffff, 0x80000000]))
          : randomBytes(r, pick(r, [0, 3, 8])),
      );
    case 11: // an unknown type: must be ignored
      return frame(0xa + int(r, 0xf6), int(r, 256), sid, randomBytes(r, int(r, 30)));
    default: {
      // a torn or oversized frame head
      const head = Buffer.alloc(9);
      head.writeUIntBE(pick(r, [16385, 1 << 20, 0xffffff, 100]), 0, 3);
      head[3] = int(r, 10);
      head[4] = int(r, 256);
      head.writeUInt32BE(sid >>> 0, 5);
      return Buffer.concat([head, randomBytes(r, int(r, 50))]);
    }
  }
}

/** The whole byte stream of one fuzz case, cut into the pieces it is written in. */
export function h2Case(r: Rand): Buffer[] {
  const parts: Buffer[] = [];
  let preface = PREFACE;
  if (chance(r, 0.03)) {
    preface = Buffer.from(preface);
    preface[int(r, preface.length)] = int(r, 256);
  }
  parts.push(preface);
  if (chance(r, 0.95)) parts.push(frame(0x4, 0, 0, settingsPayload(r)));
  const state = { stream: -1 };
  const n = 1 + int(r, 12);
  for (let i = 0; i < n; i++) parts.push(randomFrame(r, state));
  const all = Buffer.concat(parts);
  // Random write boundaries, including inside frame heads.
  const pieces: Buffer[] = [];
  let at = 0;
  while (at < all.length) {
    const len = chance(r, 0.5) ? all.length - at : 1 + int(r, Math.min(64, all.length - at));
    pieces.push(all.subarray(at, at + len));
    at += len;
  }
  return pieces;
}
