/**
 * HTTP/2 floods against the real proxy process, written as raw frames (a small frame and HPACK
 * encoder below): rapid reset (CVE-2023-44487) and CONTINUATION floods (CVE-2024-27316 class).
 * A flood must cost the attacker its own connection (GOAWAY, then the socket closes), never the
 * proxy its health: a normal client is served right after, and the backend never sees the flood.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import {
  CANCEL,
  CONTINUATION,
  DATA,
  END_HEADERS,
  END_STREAM,
  type Frame,
  field,
  frame,
  GOAWAY,
  HEADERS,
  literal,
  PREFACE,
  parseFrames,
  RST_STREAM,
  requestBlock,
  rst,
  SETTINGS,
} from '../helpers/h2-frames.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

interface Outcome {
  readonly frames: Frame[];
  /** Error code of the proxy's GOAWAY, or -1 when it sent none. */
  readonly goaway: number;
  /** The proxy closed the connection (rather than our timeout). */
  readonly closedByProxy: boolean;
}

/** Writes `bytes` on a new connection and reads until the proxy closes it (or `timeoutMs`). */
function attack(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      sock.destroy();
    }, timeoutMs);
    sock.on('connect', () => {
      // A flooder does not wait for the proxy to read: errors on our side are expected.
      sock.write(bytes, () => {});
    });
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      try {
        const frames = parseFrames(Buffer.concat(chunks));
        const ga = frames.find((f) => f.type === GOAWAY);
        resolve({
          frames,
          goaway: ga === undefined ? -1 : ga.payload.readUInt32BE(4),
          closedByProxy: !timedOut,
        });
      } catch (e) {
        reject(e);
      }
    });
  });
}

function settingsFrame(): Buffer {
  return frame(SETTINGS, 0, 0);
}

for (const engine of H2_ENGINES) {
  describe(`HTTP/2 floods [${engine} engine]`, () => {
    let backend: Backend;
    let proxy: ProxyProcess;
    let base: string;

    before(async () => {
      backend = await startBackend((req, res) => {
        res.end(`ok ${req.url}`);
      });
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
`,
      });
      base = `http://127.0.0.1:${proxy.port}`;
    });

    after(async () => {
      await proxy?.stop();
      await backend?.close();
    });

    /**
     * The proxy's GOAWAY may be lost: once the proxy closes, the flooder's unsent bytes make the
     * proxy's kernel answer RST, and a RST purges what the flooder had not read yet. So a GOAWAY
     * is checked when it arrived, and the proxy's own log says why it closed the session.
     */
    function assertGoaway(out: Outcome, codes: readonly number[]): void {
      assert.equal(out.closedByProxy, true, 'the proxy closed the connection');
      if (out.goaway !== -1) assert.ok(codes.includes(out.goaway), `GOAWAY code ${out.goaway}`);
    }

    function count(pred: (l: LogLine) => boolean): number {
      return proxy.logs.filter(pred).length;
    }

    const isFlood = (l: LogLine): boolean => l.msg === 'http2 flood: session closed';
    const sessionError = (re: RegExp) => (l: LogLine) =>
      l.msg === 'http2 session error' && re.test(String(l.error));

    async function assertHealthy(): Promise<void> {
      const h2 = await curl(['--http2-prior-knowledge', `${base}/after`]);
      assert.equal(h2.status, 200, h2.stderr);
      const h1 = await curl([`${base}/after-h1`]);
      assert.equal(h1.status, 200, h1.stderr);
      assert.equal(proxy.child.exitCode, null, 'the proxy process is alive');
    }

    it('closes a session that opens and resets streams in a burst (rapid reset), and keeps serving', async () => {
      const seenBefore = backend.seen.length;
      const parts: Buffer[] = [PREFACE, settingsFrame()];
      const n = 5000;
      for (let i = 0; i < n; i++) {
        const id = 1 + 2 * i;
        parts.push(frame(HEADERS, END_STREAM | END_HEADERS, id, requestBlock(`/flood/${i}`, 'flood.test')));
        parts.push(rst(id, CANCEL));
      }
      const out = await attack(proxy.port, Buffer.concat(parts));
      // ENHANCE_YOUR_CALM from our per-second count, or INTERNAL_ERROR from nghttp2's own limit
      // (1000 resets) when it processes the whole burst before node hands us the streams.
      assertGoaway(out, [0xb, 0x2]);
      const reached = backend.seen.length - seenBefore;
      assert.ok(reached < 250, `the flood barely reached the backend: ${reached} of ${n} requests`);
      await proxy.waitForLog((l) => isFlood(l) || sessionError(/protocol error/i)(l));
      await assertHealthy();
    });

    it('closes a session that resets streams faster than the limit even across reads', async () => {
      const floodsBefore = count(isFlood);
      // The same attack trickled in small writes: the streams start, then get reset.
      const sock = net.connect(proxy.port, '127.0.0.1');
      await new Promise<void>((resolve) => sock.on('connect', () => resolve()));
      const chunks: Buffer[] = [];
      sock.on('data', (d: Buffer) => chunks.push(d));
      sock.on('error', () => {});
      let closedByProxy = true;
      const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
      sock.write(Buffer.concat([PREFACE, settingsFrame()]));
      let id = 1;
      for (let round = 0; round < 60 && !sock.destroyed; round++) {
        const burst: Buffer[] = [];
        for (let i = 0; i < 10; i++, id += 2) {
          burst.push(frame(HEADERS, END_STREAM | END_HEADERS, id, requestBlock('/slow', 'flood.test')));
        }
        sock.write(Buffer.concat(burst));
        await new Promise((r) => setTimeout(r, 5));
        const resets: Buffer[] = [];
        for (let k = id - 20; k < id; k += 2) resets.push(rst(k, CANCEL));
        sock.write(Buffer.concat(resets), () => {});
      }
      const timer = setTimeout(() => {
        closedByProxy = false;
        sock.destroy();
      }, 10_000);
      await closed;
      clearTimeout(timer);
      assert.equal(closedByProxy, true, 'the proxy closed the connection');
      const frames = parseFrames(Buffer.concat(chunks));
      const ga = frames.find((f) => f.type === GOAWAY);
      // 600 resets stay under nghttp2's own limit (1000): this is the proxy's per-second count.
      assertGoaway(
        { frames, goaway: ga === undefined ? -1 : ga.payload.readUInt32BE(4), closedByProxy: true },
        [0xb],
      );
      await proxy.waitForLog((l) => isFlood(l) && count(isFlood) > floodsBefore);
      await assertHealthy();
    });

    it('closes a session that floods CONTINUATION frames after an unfinished HEADERS, and keeps serving', async () => {
      const parts: Buffer[] = [PREFACE, settingsFrame()];
      parts.push(frame(HEADERS, END_STREAM, 1, requestBlock('/cont', 'flood.test')));
      for (let i = 0; i < 10_000; i++) parts.push(frame(CONTINUATION, 0, 1, field(`x-${i % 50}`, 'v')));
      const before = count(sessionError(/CONTINUATION/));
      const out = await attack(proxy.port, Buffer.concat(parts));
      assertGoaway(out, [0x1, 0x2, 0xb]);
      await proxy.waitForLog(
        (l) => sessionError(/CONTINUATION/)(l) && count(sessionError(/CONTINUATION/)) > before,
      );
      assert.equal(
        backend.seen.some((q) => q.url === '/cont'),
        false,
        'the request never reached the backend',
      );
      await assertHealthy();
    });

    it('closes a session that floods empty CONTINUATION frames, and keeps serving', async () => {
      const parts: Buffer[] = [PREFACE, settingsFrame()];
      parts.push(frame(HEADERS, END_STREAM, 1, requestBlock('/cont-empty', 'flood.test')));
      for (let i = 0; i < 50_000; i++) parts.push(frame(CONTINUATION, 0, 1));
      const before = count(sessionError(/CONTINUATION/));
      const out = await attack(proxy.port, Buffer.concat(parts));
      assertGoaway(out, [0x1, 0x2, 0xb]);
      await proxy.waitForLog(
        (l) => sessionError(/CONTINUATION/)(l) && count(sessionError(/CONTINUATION/)) > before,
      );
      await assertHealthy();
    });

    it('refuses a header list over the limit without closing the session', async () => {
      // 40 fields of 1000 bytes: over maxHeaderBytes (16 KiB) + 32 bytes per field.
      const big: Buffer[] = [requestBlock('/big-head', 'flood.test')];
      for (let i = 0; i < 40; i++)
        big.push(
          Buffer.concat([
            Buffer.from([0x00]),
            literal(`x-pad-${i}`),
            Buffer.from([0x7f, 0xe9, 0x06]),
            Buffer.alloc(1000, 0x61),
          ]),
        );
      const block = Buffer.concat(big);
      const parts: Buffer[] = [PREFACE, settingsFrame()];
      // Split into HEADERS + CONTINUATION frames of at most 16 KiB (the default SETTINGS_MAX_FRAME_SIZE).
      const max = 16_384;
      for (let off = 0; off < block.length; off += max) {
        const piece = block.subarray(off, off + max);
        const last = off + max >= block.length;
        parts.push(
          frame(
            off === 0 ? HEADERS : CONTINUATION,
            (off === 0 ? END_STREAM : 0) | (last ? END_HEADERS : 0),
            1,
            piece,
          ),
        );
      }
      // A normal request on the same connection afterwards.
      parts.push(frame(HEADERS, END_STREAM | END_HEADERS, 3, requestBlock('/fine', 'flood.test')));
      const sock = net.connect(proxy.port, '127.0.0.1');
      const chunks: Buffer[] = [];
      sock.on('data', (d: Buffer) => chunks.push(d));
      sock.on('error', () => {});
      sock.write(Buffer.concat(parts));
      const frames = await new Promise<Frame[]>((resolve) => {
        const check = (): void => {
          const fs = parseFrames(Buffer.concat(chunks));
          if (
            fs.some(
              (f) =>
                f.stream === 3 && (f.type === DATA || f.type === HEADERS) && (f.flags & END_STREAM) !== 0,
            )
          ) {
            resolve(fs);
          }
        };
        sock.on('data', check);
        setTimeout(() => resolve(parseFrames(Buffer.concat(chunks))), 10_000);
      });
      sock.destroy();
      const one = frames.filter((f) => f.stream === 1);
      assert.ok(
        one.some((f) => f.type === RST_STREAM) || one.some((f) => f.type === HEADERS),
        'stream 1 refused (RST_STREAM or a 431 answer)',
      );
      assert.equal(
        backend.seen.some((q) => q.url === '/big-head'),
        false,
        'the oversized request never reached the backend',
      );
      assert.ok(
        frames.some((f) => f.stream === 3 && f.type === HEADERS),
        'the next stream of the same session is answered',
      );
      assert.equal(
        frames.some((f) => f.type === GOAWAY),
        false,
        'the session stays open',
      );
    });
  });
}
