/**
 * Raw HTTP/2 for tests that must send what a well-behaved client library refuses to: frames
 * written byte by byte and a minimal HPACK encoder (literals without Huffman coding).
 */
import assert from 'node:assert/strict';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const DATA = 0x0;
export const HEADERS = 0x1;
export const RST_STREAM = 0x3;
export const SETTINGS = 0x4;
export const GOAWAY = 0x7;
export const CONTINUATION = 0x9;
export const END_STREAM = 0x1;
export const END_HEADERS = 0x4;
export const PING = 0x6;
/** Error codes (RFC 9113 §7). */
export const PROTOCOL_ERROR = 0x1;
export const SETTINGS_TIMEOUT = 0x4;
export const STREAM_CLOSED = 0x5;
export const REFUSED_STREAM = 0x7;
export const CANCEL = 0x8;
export const ENHANCE_YOUR_CALM = 0xb;

export function frame(
  type: number,
  flags: number,
  stream: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK string literal without Huffman coding (RFC 7541 §5.2), lengths below 127 only. */
export function literal(s: string): Buffer {
  const v = Buffer.from(s, 'latin1');
  assert.ok(v.length < 127);
  return Buffer.concat([Buffer.from([v.length]), v]);
}

/**
 * A request header block: `:method GET` and `:scheme http` from the static table (indexes 2
 * and 6), `:path` and `:authority` as literals without indexing on static names 4 and 1.
 */
export function requestBlock(path: string, authority: string): Buffer {
  return Buffer.concat([
    Buffer.from([0x82, 0x86, 0x04]),
    literal(path),
    Buffer.from([0x01]),
    literal(authority),
  ]);
}

/** A literal header field without indexing, new name (RFC 7541 §6.2.2). */
export function field(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), literal(name), literal(value)]);
}

export function rst(stream: number, code: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(RST_STREAM, 0, stream, p);
}

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly stream: number;
  readonly payload: Buffer;
}

export function parseFrames(buf: Buffer): Frame[] {
  const out: Frame[] = [];
  let p = 0;
  while (p + 9 <= buf.length) {
    const len = buf.readUIntBE(p, 3);
    if (p + 9 + len > buf.length) break;
    out.push({
      type: buf[p + 3]!,
      flags: buf[p + 4]!,
      stream: buf.readUInt32BE(p + 5) & 0x7fffffff,
      payload: buf.subarray(p + 9, p + 9 + len),
    });
    p += 9 + len;
  }
  return out;
}
