/**
 * A raw h2c client for e2e tests of the own HTTP/2 engine: the preface and SETTINGS, then frames
 * written as the test builds them (h2-frames.ts), and every frame the proxy sends kept for the
 * test to wait on. No client library would send the malformed or out-of-order frames these tests
 * need.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  DATA,
  END_HEADERS,
  END_STREAM,
  type Frame,
  frame,
  GOAWAY,
  HEADERS,
  PREFACE,
  parseFrames,
  RST_STREAM,
  requestBlock,
  SETTINGS,
} from './h2-frames.ts';

/** SETTINGS and PING's ACK flag (RFC 9113 §6.5, §6.7). */
export const ACK = 0x1;

/** A request HEADERS frame on stream `id` (GET `path`), `extra` fields after the request's own. */
export function requestHeaders(
  id: number,
  extra: Buffer[] = [],
  flags = END_STREAM | END_HEADERS,
  path = `/s${id}`,
): Buffer {
  return frame(HEADERS, flags, id, Buffer.concat([requestBlock(path, '127.0.0.1'), ...extra]));
}

/**
 * A raw h2c connection: the preface and SETTINGS (and the ACK of the proxy's SETTINGS unless
 * `ack` is false), then what the test writes; `until` resolves once the frames read hold a
 * condition, and fails if the proxy closes the connection first (or after 10 s).
 */
export class RawH2 {
  readonly #sock: net.Socket;
  #chunks: Buffer[] = [];
  #wake: (() => void) | null = null;
  closed = false;

  constructor(port: number, ack = false) {
    this.#sock = net.connect(port, '127.0.0.1');
    this.#sock.on('data', (d: Buffer) => {
      this.#chunks.push(d);
      this.#wake?.();
    });
    this.#sock.on('error', () => {});
    this.#sock.on('close', () => {
      this.closed = true;
      this.#wake?.();
    });
    const first = [PREFACE, frame(SETTINGS, 0, 0)];
    if (ack) first.push(frame(SETTINGS, ACK, 0));
    this.#sock.write(Buffer.concat(first));
  }

  write(b: Buffer): void {
    this.#sock.write(b, () => {});
  }

  get frames(): Frame[] {
    return parseFrames(Buffer.concat(this.#chunks));
  }

  async until(done: (f: Frame[]) => boolean, what: string): Promise<Frame[]> {
    const timer = setTimeout(() => this.#sock.destroy(), 10_000);
    try {
      for (;;) {
        const f = this.frames;
        if (done(f)) return f;
        if (this.closed)
          assert.fail(
            `${what}: connection closed; frames ${JSON.stringify(f.map((x) => [x.type, x.stream]))}`,
          );
        await new Promise<void>((r) => {
          this.#wake = r;
        });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  destroy(): void {
    this.#sock.destroy();
  }
}

/** The error code of the proxy's GOAWAY, if it sent one. */
export function goawayCode(f: Frame[]): number | undefined {
  const g = f.find((x) => x.type === GOAWAY);
  return g === undefined ? undefined : g.payload.readUInt32BE(4);
}

/** The error code of the proxy's RST_STREAM on stream `id`, if it sent one. */
export function rstCode(f: Frame[], id: number): number | undefined {
  const r = f.find((x) => x.type === RST_STREAM && x.stream === id);
  return r === undefined ? undefined : r.payload.readUInt32BE(0);
}

/** Stream `id`'s response ended (END_STREAM on its HEADERS or DATA). */
export function answered(f: Frame[], id: number): boolean {
  return f.some(
    (x) => x.stream === id && (x.type === DATA || x.type === HEADERS) && (x.flags & END_STREAM) !== 0,
  );
}
