/**
 * "Internal data buffering" (CVE-2019-9517): an HTTP/2 client opens streams and never reads what
 * the proxy sends. Each stream's response goes into the socket's buffer and the stream ends, its
 * place in `maxConcurrentStreams` free again: a client pacing its requests had every response
 * of the connection buffered in the proxy (4,000 responses of 16 KiB, ~80 MB of RSS, in 10 s,
 * own engine). Go's HTTP/2 server (Traefik) closes a stream only once its last frame is written
 * (x/net/http2 server.go `wroteFrame`), so a stream whose frames wait in a full socket still
 * counts: past the limit the client's streams are refused, and refusing too many ends the
 * connection. nghttp2 (the node engine) stops on its own. The backend sees a bounded number of
 * requests either way.
 *
 * The same client may also keep sending PINGs (or SETTINGS, or frames that make us reset a
 * stream) within their rate limits: each asks for a frame back, which waits in the full socket.
 * As nghttp2's max_outbound_ack (the node engine's; Go's server: maxQueuedControlFrames), more
 * than 1,000 of them written since the socket last drained end the connection as a flood.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, simpleConfig, startBackend } from '../helpers/backends.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { END_HEADERS, END_STREAM, frame, PING, PREFACE, SETTINGS } from '../helpers/h2-frames.ts';
import { requestHeaders } from '../helpers/h2-raw-client.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const WINDOW_UPDATE = 0x8;
const BATCH = 50;
const BATCHES = 60;
const BODY = Buffer.alloc(32 * 1024, 'x');
const BIG = Buffer.alloc(32 * 1024 * 1024, 'x');

/** A connection that never reads, with windows as large as allowed: only the socket holds back. */
function unreadConnection(port: number): { sock: net.Socket; closed: () => boolean } {
  const sock = net.connect(port, '127.0.0.1');
  sock.pause();
  sock.on('error', () => {});
  let closed = false;
  sock.on('close', () => {
    closed = true;
  });
  const initial = Buffer.alloc(6);
  initial.writeUInt16BE(0x4, 0); // SETTINGS_INITIAL_WINDOW_SIZE
  initial.writeUInt32BE(0x7fffffff, 2);
  const conn = Buffer.alloc(4);
  conn.writeUInt32BE(0x7fffffff - 65535);
  sock.write(
    Buffer.concat([
      PREFACE,
      frame(SETTINGS, 0, 0, initial),
      frame(SETTINGS, 0x1, 0),
      frame(WINDOW_UPDATE, 0, 0, conn),
    ]),
  );
  return { sock, closed: () => closed };
}

for (const engine of H2_ENGINES) {
  describe(`HTTP/2 client that never reads its responses (${engine} engine)`, () => {
    let backend: Backend;
    let proxy: ProxyProcess;

    before(async () => {
      backend = await startBackend((req, res) => res.end(req.url === '/big' ? BIG : BODY));
      proxy = await startProxy({ env: engineEnv(engine), config: simpleConfig([backend.url]) });
    });

    after(async () => {
      await proxy?.stop();
      await backend?.close();
    });

    it('stops taking its streams once their responses wait unsent, and bounds the backend work', async () => {
      const { sock, closed } = unreadConnection(proxy.ports['web']!);
      let id = 1;
      let sent = 0;
      let stalls = 0;
      for (let b = 0; b < BATCHES && !closed() && stalls < 5; b++) {
        const out: Buffer[] = [];
        for (let i = 0; i < BATCH; i++, id += 2)
          out.push(requestHeaders(id, [], END_STREAM | END_HEADERS, '/x'));
        sock.write(Buffer.concat(out), () => {});
        sent += BATCH;
        // Paced as the backend takes them, so that the streams in flight stay far below the
        // limit while responses are read; a batch not taken within a second counts as a stall
        // (the pace only decides when the next batch goes, never what is asserted).
        const target = sent;
        const taken = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 1000);
          const poll = (): void => {
            if (backend.seen.length >= target) {
              clearTimeout(timer);
              resolve(true);
            } else if (!closed()) setImmediate(poll);
          };
          poll();
        });
        if (!taken) stalls++;
      }
      const seen = backend.seen.length;
      sock.destroy();
      // Unbounded, every request of the 3,000 reached the backend, its response held here.
      assert.ok(seen < (BATCHES * BATCH) / 2, `the backend saw ${seen} of ${sent} requests`);
      // Own engine: past the limit its streams were refused, and so many refusals are a flood.
      if (engine === 'own') await proxy.waitForLog((l) => l.msg === 'http2 flood: session closed');
    });

    if (engine === 'own') {
      it('ends a connection whose PING answers pile up in a socket it never reads', async () => {
        const { sock } = unreadConnection(proxy.ports['web']!);
        // A response larger than every buffer between us: the proxy's socket fills and stays full.
        sock.write(requestHeaders(1, [], END_STREAM | END_HEADERS, '/big'));
        const ended = proxy.waitForLog(
          (l) => l.msg === 'http2 flood: session closed' && l['flood'] === 'unsent control frames',
          60_000,
        );
        // 200 PINGs a batch, a batch a little more than a second apart: within the PING rate
        // limit (1,000 a second) even if a loaded machine has the proxy read four batches in the
        // same second (CI ci72 saw two or three at 500: a PING flood, not the one tested here).
        const pings = Buffer.concat(Array.from({ length: 200 }, () => frame(PING, 0, 0, Buffer.alloc(8))));
        let done = false;
        void ended.then(
          () => {
            done = true;
          },
          () => {},
        );
        for (let b = 0; b < 40 && !done; b++) {
          sock.write(pings, () => {});
          await new Promise((r) => setTimeout(r, 1100));
        }
        await ended;
        sock.destroy();
        assert.equal(
          proxy.logs.some((l) => l.msg === 'http2 flood: session closed' && l['flood'] === 'PING'),
          false,
          'not the rate limit',
        );
      });
    }
  });
}
