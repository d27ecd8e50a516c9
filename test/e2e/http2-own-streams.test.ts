/**
 * The own HTTP/2 engine's rules for frames on streams that are no longer open (RFC 9113 §5.1,
 * §5.1.1) and for the client's acknowledgement of our SETTINGS (§6.5.3), against the real proxy
 * process with frames written byte by byte (test/helpers/h2-frames.ts): HEADERS on a stream
 * closed after the client's END_STREAM ends the connection with STREAM_CLOSED (nghttp2's rule);
 * on a stream the client reset, RST_STREAM(STREAM_CLOSED); on a stream we reset, nothing; on an
 * id the client skipped, GOAWAY(PROTOCOL_ERROR); SETTINGS never acknowledged within
 * readHeaderTimeout end the connection with SETTINGS_TIMEOUT.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import {
  DATA,
  END_HEADERS,
  END_STREAM,
  type Frame,
  field,
  frame,
  GOAWAY,
  HEADERS,
  PREFACE,
  parseFrames,
  RST_STREAM,
  requestBlock,
  rst,
  SETTINGS,
} from '../helpers/h2-frames.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const ACK = 0x1;
const PROTOCOL_ERROR = 0x1;
const SETTINGS_TIMEOUT = 0x4;
const STREAM_CLOSED = 0x5;
const CANCEL = 0x8;

function headers(
  id: number,
  flags = END_STREAM | END_HEADERS,
  path = `/s${id}`,
  extra: Buffer[] = [],
): Buffer {
  return frame(HEADERS, flags, id, Buffer.concat([requestBlock(path, '127.0.0.1'), ...extra]));
}

/** A raw h2c connection: the preface, SETTINGS (and their ACK unless `ack` is false), then frames. */
class Raw {
  readonly #sock: net.Socket;
  #chunks: Buffer[] = [];
  #wake: (() => void) | null = null;
  closed = false;

  constructor(port: number, ack = true) {
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

  /** Resolves once `done(frames)` holds; fails if the proxy closes first (or after 10 s). */
  async until(done: (f: Frame[]) => boolean, what: string): Promise<Frame[]> {
    const timer = setTimeout(() => this.#sock.destroy(), 10_000);
    try {
      for (;;) {
        const f = this.frames;
        if (done(f)) return f;
        if (this.closed)
          assert.fail(`${what}: closed; frames ${JSON.stringify(f.map((x) => [x.type, x.stream]))}`);
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

const goawayCode = (f: Frame[]): number | undefined => {
  const g = f.find((x) => x.type === GOAWAY);
  return g === undefined ? undefined : g.payload.readUInt32BE(4);
};
const rstCode = (f: Frame[], id: number): number | undefined => {
  const r = f.find((x) => x.type === RST_STREAM && x.stream === id);
  return r === undefined ? undefined : r.payload.readUInt32BE(0);
};
const answered = (f: Frame[], id: number): boolean =>
  f.some((x) => x.stream === id && (x.type === DATA || x.type === HEADERS) && (x.flags & END_STREAM) !== 0);

describe('HTTP/2 own engine: frames on closed streams (§5.1), the SETTINGS ACK timeout (§6.5.3)', () => {
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startBackend((req, res) => {
      if (req.url?.startsWith('/hold')) return; // answered never: keeps its stream open
      req.resume();
      // Answered after twice the short entry point's readHeaderTimeout (an event, not a sleep here).
      const wait = req.url?.startsWith('/slow') ? 1600 : 0;
      req.on('end', () => setTimeout(() => res.end(`ok ${req.url}`), wait));
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  short:
    address: "127.0.0.1:0"
    transport:
      respondingTimeouts: { readHeaderTimeout: 800ms }
experimental: { http2Engine: own }
log: { level: DEBUG }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('HEADERS on a stream closed after END_STREAM both ways: GOAWAY(STREAM_CLOSED)', async () => {
    const c = new Raw(proxy.ports['web']!);
    c.write(headers(1));
    await c.until((f) => answered(f, 1), 'stream 1 answered');
    c.write(headers(1, END_STREAM | END_HEADERS, '/again'));
    await c.until(() => c.closed, 'closed');
    assert.equal(goawayCode(c.frames), STREAM_CLOSED);
    assert.equal(
      backend.seen.some((s) => s.url === '/again'),
      false,
    );
  });

  it('HEADERS after END_STREAM on a stream still open (its response pending): GOAWAY(STREAM_CLOSED)', async () => {
    const c = new Raw(proxy.ports['web']!);
    c.write(
      Buffer.concat([
        headers(1, END_STREAM | END_HEADERS, '/hold-trailers'),
        frame(HEADERS, END_STREAM | END_HEADERS, 1, field('x-trailer', '1')),
      ]),
    );
    await c.until(() => c.closed, 'closed');
    assert.equal(goawayCode(c.frames), STREAM_CLOSED);
  });

  it('HEADERS on a stream the client reset: RST_STREAM(STREAM_CLOSED), the connection serves on', async () => {
    const c = new Raw(proxy.ports['web']!);
    c.write(Buffer.concat([headers(1, END_HEADERS, '/upload'), rst(1, CANCEL)]));
    c.write(headers(3));
    await c.until((f) => answered(f, 3), 'stream 3 answered');
    c.write(headers(1, END_STREAM | END_HEADERS, '/after-reset'));
    const f = await c.until((f) => rstCode(f, 1) !== undefined, 'stream 1 reset');
    assert.equal(rstCode(f, 1), STREAM_CLOSED);
    c.write(headers(5));
    await c.until((f) => answered(f, 5), 'stream 5 answered');
    assert.equal(goawayCode(c.frames), undefined);
    c.destroy();
  });

  it('HEADERS on a stream the proxy reset: ignored (§5.1), the connection serves on', async () => {
    const c = new Raw(proxy.ports['web']!);
    // Malformed (uppercase name): the proxy resets stream 1 with PROTOCOL_ERROR.
    c.write(headers(1, END_HEADERS, '/bad', [field('X-Upper', 'v')]));
    await c.until((f) => rstCode(f, 1) !== undefined, 'stream 1 reset');
    // Trailers the client had in flight before it saw the reset.
    c.write(frame(HEADERS, END_STREAM | END_HEADERS, 1, field('x-trailer', '1')));
    c.write(headers(3));
    await c.until((f) => answered(f, 3), 'stream 3 answered');
    assert.equal(goawayCode(c.frames), undefined);
    c.destroy();
  });

  it('DATA on a stream closed after END_STREAM both ways: GOAWAY(STREAM_CLOSED)', async () => {
    const c = new Raw(proxy.ports['web']!);
    c.write(headers(1));
    await c.until((f) => answered(f, 1), 'stream 1 answered');
    c.write(frame(DATA, END_STREAM, 1, Buffer.from('late')));
    await c.until(() => c.closed, 'closed');
    assert.equal(goawayCode(c.frames), STREAM_CLOSED);
  });

  it('DATA on a stream the proxy reset: ignored, the connection serves on', async () => {
    const c = new Raw(proxy.ports['web']!);
    c.write(headers(1, END_HEADERS, '/bad', [field('X-Upper', 'v')]));
    await c.until((f) => rstCode(f, 1) !== undefined, 'stream 1 reset');
    // Body bytes the client had in flight before it saw the reset.
    c.write(frame(DATA, END_STREAM, 1, Buffer.from('in flight')));
    c.write(headers(3));
    await c.until((f) => answered(f, 3), 'stream 3 answered');
    assert.equal(goawayCode(c.frames), undefined);
    c.destroy();
  });

  it('HEADERS on a stream id the client skipped (§5.1.1): GOAWAY(PROTOCOL_ERROR)', async () => {
    const c = new Raw(proxy.ports['web']!);
    c.write(Buffer.concat([headers(1), headers(7)]));
    await c.until((f) => answered(f, 1) && answered(f, 7), 'streams 1 and 7 answered');
    c.write(headers(3, END_STREAM | END_HEADERS, '/skipped'));
    await c.until(() => c.closed, 'closed');
    assert.equal(goawayCode(c.frames), PROTOCOL_ERROR);
    assert.equal(
      backend.seen.some((s) => s.url === '/skipped'),
      false,
    );
  });

  it('SETTINGS never acknowledged within readHeaderTimeout: GOAWAY(SETTINGS_TIMEOUT); acknowledged: served', async () => {
    const port = proxy.ports['short']!;
    const good = new Raw(port, true);
    const bad = new Raw(port, false);
    good.write(headers(1, END_STREAM | END_HEADERS, '/slow-good'));
    bad.write(headers(1, END_STREAM | END_HEADERS, '/slow-bad'));
    await bad.until(() => bad.closed, 'closed');
    assert.equal(goawayCode(bad.frames), SETTINGS_TIMEOUT);
    assert.equal(answered(bad.frames, 1), false);
    await good.until((f) => answered(f, 1), 'acknowledged connection answered');
    assert.equal(goawayCode(good.frames), undefined);
    good.destroy();
  });
});
