/**
 * HTTP/2 attack classes of the 2019 set (VU#605641) not covered by their own files, checked
 * against both engines through the real proxy: zero-length header fields (CVE-2019-9516: each
 * kept as a table entry or a field, so a server's memory grows with fields that carry nothing)
 * and PRIORITY frames (CVE-2019-9513, "resource loop": each reshuffles a priority tree). Ours
 * refuses a request with an empty field name (RFC 9113 §8.2.1, malformed: RST_STREAM
 * PROTOCOL_ERROR) and reads PRIORITY without acting on it (RFC 9113 §5.3.2 deprecates the
 * scheme), so neither costs more than reading the frame; the connection serves on. The node
 * engine: nghttp2 drops the empty fields and serves the request, and ends a connection that
 * sends so many PRIORITY frames with GOAWAY(ENHANCE_YOUR_CALM). And the data dribble
 * (CVE-2019-9511): a client whose window stays shut must not make the proxy read the whole
 * response into memory; the backend is held back instead.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, simpleConfig, startBackend } from '../helpers/backends.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import {
  END_HEADERS,
  END_STREAM,
  ENHANCE_YOUR_CALM,
  frame,
  PROTOCOL_ERROR,
  SETTINGS,
} from '../helpers/h2-frames.ts';
import { answered, goawayCode, RawH2, requestHeaders, rstCode } from '../helpers/h2-raw-client.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const PRIORITY = 0x2;

for (const engine of H2_ENGINES) {
  describe(`HTTP/2 attack classes: zero-length fields, PRIORITY floods, data dribble (${engine} engine)`, () => {
    let backend: Backend;
    let proxy: ProxyProcess;
    /** The /dribble response: true once all of it was taken, false on a stall. */
    let tellDribble: (all: boolean) => void = () => {};

    before(async () => {
      backend = await startBackend((req, res) => {
        if (req.url !== '/dribble') {
          res.end(`ok ${req.url}`);
          return;
        }
        // 64 MiB in 64 KiB writes; a write not taken within 2 s is a stall (the proxy stopped
        // reading). Unbounded, the proxy reads it all while the client's window stays shut.
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let n = 0;
        const next = (): void => {
          if (n++ === 1024) {
            tellDribble(true);
            res.end();
            return;
          }
          const t = setTimeout(() => tellDribble(false), 2000);
          res.write(chunk, () => {
            clearTimeout(t);
            next();
          });
        };
        next();
      });
      proxy = await startProxy({ env: engineEnv(engine), config: simpleConfig([backend.url]) });
    });

    after(async () => {
      await proxy?.stop();
      await backend?.close();
    });

    it('resets a request of empty header fields (CVE-2019-9516) and serves the next', async () => {
      const c = new RawH2(proxy.ports['web']!, true);
      // 100 literal fields with incremental indexing, empty name and value (RFC 7541 §6.2.1).
      const empty = Buffer.alloc(300);
      for (let i = 0; i < 100; i++) empty.set([0x40, 0x00, 0x00], i * 3);
      c.write(requestHeaders(1, [empty], END_STREAM | END_HEADERS, '/empty'));
      c.write(requestHeaders(3, [], END_STREAM | END_HEADERS, '/after'));
      const f = await c.until((x) => answered(x, 3), 'stream 3 answered');
      assert.equal(goawayCode(f), undefined);
      if (engine === 'own') {
        assert.equal(answered(f, 1), false, 'no response to the request of empty fields');
        assert.equal(rstCode(f, 1), PROTOCOL_ERROR);
        assert.equal(
          backend.seen.some((r) => r.url === '/empty'),
          false,
        );
      } else {
        // node:http2 drops each invalid field before we see the request ("Request parsing").
        const seen = backend.seen.find((r) => r.url === '/empty');
        assert.ok(seen !== undefined && !seen.rawHeaders.includes(''));
      }
      c.destroy();
    });

    it('takes 20,000 PRIORITY frames (CVE-2019-9513) and serves on', async () => {
      const c = new RawH2(proxy.ports['web']!, true);
      const frames: Buffer[] = [];
      for (let i = 0; i < 20_000; i++) {
        // Stream 2i+1 depends on stream 2i+3, exclusively, weight 255: a tree rebuilt each time.
        const p = Buffer.alloc(5);
        p.writeUInt32BE((0x80000000 | (2 * ((i + 1) % 1000) + 3)) >>> 0);
        p[4] = 255;
        frames.push(frame(PRIORITY, 0, 2 * (i % 1000) + 1, p));
      }
      c.write(Buffer.concat(frames));
      c.write(requestHeaders(2001, [], END_STREAM | END_HEADERS, '/after-priority'));
      if (engine === 'node') {
        // nghttp2 counts them as a flood and ends the connection; the proxy serves on.
        await c.until(() => c.closed, 'closed').catch(() => {});
        assert.equal(goawayCode(c.frames), ENHANCE_YOUR_CALM);
        const again = new RawH2(proxy.ports['web']!, true);
        again.write(requestHeaders(1, [], END_STREAM | END_HEADERS, '/after'));
        await again.until((x) => answered(x, 1), 'a new connection served');
        again.destroy();
        return;
      }
      const f = await c.until((x) => answered(x, 2001), 'served after the PRIORITY frames');
      assert.equal(goawayCode(f), undefined);
      c.destroy();
    });

    it('holds a response back while the client keeps its window shut (CVE-2019-9511 class, data dribble)', async () => {
      const outcome = new Promise<boolean>((r) => {
        tellDribble = r;
      });
      const c = new RawH2(proxy.ports['web']!, true);
      const one = Buffer.alloc(6);
      one.writeUInt16BE(0x4, 0); // SETTINGS_INITIAL_WINDOW_SIZE 1: one byte of DATA, then nothing
      one.writeUInt32BE(1, 2);
      c.write(frame(SETTINGS, 0, 0, one));
      c.write(requestHeaders(1, [], END_STREAM | END_HEADERS, '/dribble'));
      assert.equal(await outcome, false, 'the proxy read the whole response into memory');
      c.destroy();
    });
  });
}
