/**
 * "MadeYouReset" (CVE-2025-8671, VU#767506, August 2025; nghttp2 1.66.0, Envoy, Netty, Jetty,
 * Tomcat…): a client that makes the server reset its streams instead of resetting them itself
 * escapes rapid-reset limits (CVE-2023-44487), which count the client's RST_STREAM frames, and
 * the stream leaves the concurrency count while its backend work goes on: unbounded backend
 * load from one connection. The trigger here is a WINDOW_UPDATE with increment 0 on each open
 * stream (a stream error, RFC 9113 §6.9). Ours counts the resets it sends against the stream-error
 * budget and ends the connection with GOAWAY(ENHANCE_YOUR_CALM) once it is spent; with both
 * engines the backend never gets anywhere near one request per induced reset.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, simpleConfig, startBackend } from '../helpers/backends.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { END_HEADERS, END_STREAM, frame, PREFACE, parseFrames, SETTINGS } from '../helpers/h2-frames.ts';
import { requestHeaders } from '../helpers/h2-raw-client.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const WINDOW_UPDATE = 0x8;
const STREAMS = 1000;

for (const engine of H2_ENGINES) {
  describe(`HTTP/2 server-induced resets, "MadeYouReset" (${engine} engine)`, () => {
    let backend: Backend;
    let proxy: ProxyProcess;
    let held = 0;

    before(async () => {
      backend = await startBackend((req) => {
        // Never answered: each request the proxy lets through stays open at the backend.
        held++;
        req.resume();
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

    it('ends a connection whose streams it keeps resetting, and bounds the backend work', async () => {
      const sock = net.connect(proxy.ports['web']!, '127.0.0.1');
      const chunks: Buffer[] = [];
      sock.on('data', (d: Buffer) => chunks.push(d));
      sock.on('error', () => {});
      const closed = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 30_000);
        sock.on('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      const zero = Buffer.alloc(4); // increment 0
      const out: Buffer[] = [PREFACE, frame(SETTINGS, 0, 0), frame(SETTINGS, 0x1, 0)];
      for (let i = 0; i < STREAMS; i++) {
        const id = 2 * i + 1;
        out.push(requestHeaders(id, [], END_STREAM | END_HEADERS, `/hold${id}`));
        out.push(frame(WINDOW_UPDATE, 0, id, zero));
      }
      sock.write(Buffer.concat(out), () => {});
      assert.equal(await closed, true, 'the proxy ended the connection');
      const frames = parseFrames(Buffer.concat(chunks));
      const resets = frames.filter((f) => f.type === 0x3).length;
      assert.ok(resets < STREAMS, `${resets} streams reset, the connection kept`);
      assert.ok(held < STREAMS / 2, `${held} requests reached the backend`);
    });
  });
}
