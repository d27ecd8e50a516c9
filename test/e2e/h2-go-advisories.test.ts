/**
 * Advisories of Go's HTTP/2 server (golang.org/x/net/http2, net/http) and Traefik's that came
 * from it, checked against both HTTP/2 engines of the real proxy process on loopback (static
 * `experimental.http2Engine`, test/helpers/h2-engines.ts):
 *
 * - CVE-2026-56853 (Go 1.26.6): an h2c connection with prior knowledge escaped ReadHeaderTimeout
 *   while its preface was read, so a client sending part of the preface, or the preface and
 *   nothing after it, held the connection for ever. Ours is closed by itself.
 * - CVE-2026-27141 (x/net v0.51.0, Traefik GHSA-4hjq-9h5c-252j, v3.6.10): frames of types
 *   0x0a-0x0f made the server panic. Unknown types are ignored (RFC 9113 §5.5) and the
 *   connection serves on.
 * - CVE-2026-33814 (x/net, Go 1.26.3): SETTINGS_MAX_FRAME_SIZE 0 sent Go's peer into an endless
 *   CONTINUATION loop. A value below 16384 is a connection error (§6.5.2).
 * - GHSA-3ccp-42pg-hgv6 (Traefik v3.6.25 / v3.7.x; Go CVE-2026-56866): an HTTP/2 CONNECT with a
 *   body was forwarded to an HTTP/1.1 backend, whose keep-alive refusal left the body's bytes on
 *   a pooled connection as the next client's request. Ours tunnels a CONNECT without a
 *   `:protocol` (as Traefik v3.7.12) but holds its payload until the backend accepts the tunnel
 *   with a 2xx, and never reuses the backend connection that carried it: a backend that refuses
 *   (node's server closes a CONNECT it does not handle) never reads the payload as a request.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import {
  DATA,
  END_HEADERS,
  END_STREAM,
  frame,
  PREFACE,
  PROTOCOL_ERROR,
  SETTINGS,
} from '../helpers/h2-frames.ts';
import { answered, goawayCode, RawH2, requestHeaders } from '../helpers/h2-raw-client.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/** Resolves once the proxy closed `sock` (end or reset), or with false after `limitMs`. */
function closedByProxy(sock: net.Socket, limitMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), limitMs);
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    sock.resume();
  });
}

for (const engine of H2_ENGINES) {
  describe(`HTTP/2 advisories of Go and Traefik (${engine} engine)`, () => {
    let backend: Backend;
    let proxy: ProxyProcess;

    before(async () => {
      backend = await startBackend((req, res) => {
        req.resume();
        req.on('end', () => res.end(`ok ${req.url}`));
      });
      // A short readHeaderTimeout and an idleTimeout far beyond the test: a connection that
      // closes did so on the header timer, not on the idle one.
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    transport:
      respondingTimeouts: { readHeaderTimeout: 800ms, idleTimeout: 1h }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
    # A CONNECT has no path: only a Host rule routes it (to a backend that refuses it).
    tunnels: { rule: "HostRegexp(\`.+\`)", service: be, priority: 1 }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      });
    });

    after(async () => {
      await proxy?.stop();
      await backend?.close();
    });

    it('closes a connection that sends part of the h2c preface and stalls (CVE-2026-56853)', async () => {
      const sock = net.connect(proxy.ports['web']!, '127.0.0.1');
      sock.write(PREFACE.subarray(0, 10));
      assert.equal(await closedByProxy(sock, 30_000), true, 'the proxy closed the stalled connection');
    });

    it('closes a connection that sends the h2c preface and nothing after it (CVE-2026-56853)', async () => {
      const sock = net.connect(proxy.ports['web']!, '127.0.0.1');
      sock.write(PREFACE);
      assert.equal(await closedByProxy(sock, 30_000), true, 'the proxy closed the silent connection');
    });

    it('ignores frames of unknown types 0x0a-0x0f and beyond, and serves on (CVE-2026-27141)', async () => {
      const c = new RawH2(proxy.ports['web']!, true);
      const unknown: Buffer[] = [];
      for (const type of [0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0xff]) {
        unknown.push(frame(type, 0, 0, Buffer.from('junk')), frame(type, 0xff, 1, Buffer.alloc(0)));
        unknown.push(frame(type, 0, 3, Buffer.alloc(8)));
      }
      c.write(Buffer.concat(unknown));
      c.write(requestHeaders(1));
      await c.until((f) => answered(f, 1), 'stream 1 answered after the unknown frames');
      c.write(frame(0x0b, 0, 1, Buffer.from('after')));
      c.write(requestHeaders(3));
      await c.until((f) => answered(f, 3), 'stream 3 answered');
      assert.equal(goawayCode(c.frames), undefined);
      c.destroy();
    });

    it('ends the connection on SETTINGS_MAX_FRAME_SIZE 0 with PROTOCOL_ERROR (CVE-2026-33814)', async () => {
      const c = new RawH2(proxy.ports['web']!, true);
      const p = Buffer.alloc(6);
      p.writeUInt16BE(0x5, 0);
      p.writeUInt32BE(0, 2);
      c.write(Buffer.concat([frame(SETTINGS, 0, 0, p), requestHeaders(1)]));
      await c.until(() => c.closed, 'connection closed');
      assert.equal(goawayCode(c.frames), PROTOCOL_ERROR);
      assert.equal(answered(c.frames, 1), false);
    });

    it('never forwards the body of a CONNECT the backend refuses (GHSA-3ccp-42pg-hgv6)', async () => {
      const before = backend.seen.length;
      const client = http2.connect(`http://127.0.0.1:${proxy.ports['web']!}`);
      client.on('error', () => {});
      try {
        const req = client.request({ ':method': 'CONNECT', ':authority': `127.0.0.1:${backend.port}` });
        req.on('error', () => {});
        const status = new Promise<number>((resolve) =>
          req.on('response', (h) => resolve(Number(h[':status']))),
        );
        // What a desynchronising CONNECT carries: a whole request for the backend to read next.
        req.end('GET /smuggled HTTP/1.1\r\nHost: a.test\r\n\r\n');
        // The backend closed the CONNECT without an answer: a 502, the payload never sent.
        assert.equal(await status, 502);
        // A plain request afterwards, on the same connection: its own answer.
        const next = client.request({ ':path': '/victim', ':authority': 'a.test' });
        let body = '';
        next.setEncoding('utf8');
        next.on('data', (d: string) => {
          body += d;
        });
        await new Promise<void>((resolve, reject) => {
          next.on('end', resolve);
          next.on('error', reject);
        });
        assert.equal(body, 'ok /victim');
      } finally {
        client.close();
      }
      const urls = backend.seen.slice(before).map((s) => `${s.method} ${s.url}`);
      assert.deepEqual(urls, ['GET /victim'], 'the backend never saw the CONNECT nor its body');
    });

    it('never forwards the DATA of a raw CONNECT stream the backend refuses (GHSA-3ccp-42pg-hgv6)', async () => {
      const before = backend.seen.length;
      const c = new RawH2(proxy.ports['web']!, true);
      // :method CONNECT (literal, static name 2), :authority (static name 1); no :path, :scheme.
      const block = Buffer.concat([
        Buffer.from([0x02, 7]),
        Buffer.from('CONNECT', 'latin1'),
        Buffer.from([0x01, 9]),
        Buffer.from('127.0.0.1', 'latin1'),
      ]);
      c.write(frame(0x1, END_HEADERS, 1, block));
      c.write(frame(DATA, END_STREAM, 1, Buffer.from('GET /smuggled-raw HTTP/1.1\r\nHost: a.test\r\n\r\n')));
      await c.until(
        (f) => f.some((x) => x.stream === 1 && (x.type === 0x1 || x.type === 0x3)),
        'stream 1 ended',
      );
      c.write(requestHeaders(3));
      await c.until((f) => answered(f, 3), 'stream 3 answered');
      c.destroy();
      const urls = backend.seen.slice(before).map((s) => s.url);
      assert.deepEqual(urls, ['/s3']);
    });
  });
}
