/**
 * Go CVE-2026-78659 (Go 1.26.9, x/net v0.61.0: "HTTP/2 server memory exhaustion due to Trailer
 * headers"; the fix applies the header limits to trailers too): a request's trailers escaped the
 * header list limits its head had. Here the trailer block is 4,000 one-byte references to a
 * 4,000-byte entry of the HPACK dynamic table (the "HTTP/2 Bomb" shape, CVE-2026-49975): 16 MB
 * once decoded. With both engines, the stream is refused, nothing of it reaches the backend, and
 * the connection serves its next stream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, simpleConfig, startBackend } from '../helpers/backends.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import {
  DATA,
  END_HEADERS,
  END_STREAM,
  frame,
  HEADERS,
  literal,
  requestBlock,
} from '../helpers/h2-frames.ts';
import { answered, RawH2, requestHeaders } from '../helpers/h2-raw-client.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/** An HPACK integer with an `n`-bit prefix whose other bits are `first` (RFC 7541 §5.1). */
function hpackInt(first: number, n: number, v: number): Buffer {
  const max = (1 << n) - 1;
  if (v < max) return Buffer.from([first | v]);
  const out = [first | max];
  let rest = v - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

for (const engine of H2_ENGINES) {
  describe(`request trailers under the header limits (Go CVE-2026-78659, ${engine} engine)`, () => {
    let backend: Backend;
    let proxy: ProxyProcess;
    const bodies: string[] = [];

    before(async () => {
      backend = await startBackend((req, res) => {
        let n = 0;
        req.on('data', (d: Buffer) => {
          n += d.length;
        });
        req.on('end', () => {
          bodies.push(`${req.url} ${n} trailers=${JSON.stringify(req.trailers).length}`);
          res.end(`ok ${req.url}`);
        });
      });
      proxy = await startProxy({
        env: engineEnv(engine),
        config: simpleConfig([backend.url]),
      });
    });

    after(async () => {
      await proxy?.stop();
      await backend?.close();
    });

    it('refuses a trailer block that decodes past the limit; the connection serves on', async () => {
      const c = new RawH2(proxy.ports['web']!, true);
      // The request head adds a 4,000-byte field to the HPACK dynamic table (literal with
      // incremental indexing, new name), which becomes index 62.
      const big = 'v'.repeat(4000);
      const head = Buffer.concat([
        Buffer.from([0x83]), // :method POST
        requestBlock('/bomb', '127.0.0.1').subarray(1),
        Buffer.from([0x40]),
        literal('x-big'),
        hpackInt(0, 7, big.length),
        Buffer.from(big, 'latin1'),
      ]);
      c.write(frame(HEADERS, END_HEADERS, 1, head));
      c.write(frame(DATA, 0, 1, Buffer.from('body')));
      // Trailers: 4,000 references to index 62 (0xbe), a 4 KB block, 16 MB decoded.
      c.write(frame(HEADERS, END_HEADERS | END_STREAM, 1, Buffer.alloc(4000, 0xbe)));
      await c.until(
        (f) => f.some((x) => x.stream === 1 && (x.type === 0x3 || x.type === HEADERS)),
        'stream 1 ended',
      );
      c.write(requestHeaders(3));
      await c.until((f) => answered(f, 3), 'stream 3 answered');
      c.destroy();
      assert.ok(
        !bodies.some((b) => b.startsWith('/bomb') && !b.endsWith('trailers=2')),
        `the backend got the trailers: ${bodies.join(' | ')}`,
      );
    });
  });
}
