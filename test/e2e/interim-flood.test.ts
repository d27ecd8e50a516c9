/**
 * A backend that sends 1xx responses without end, to a client that does not read. Go 1.24 no
 * longer counts them when the caller sees each (net/http transport.go readResponse, with
 * httputil.ReverseProxy's Got1xxResponse hook; x/net/http2 handleResponse likewise): Traefik
 * relays every one, each head within the transport's header limit, and writes it to the client
 * from the transport's read loop, so a client that does not read holds the backend back. Ours
 * relayed each 103 into the client's socket and read on: 269 MB of Early Hints buffered in
 * 4 s (RSS 411 MB). Now an HTTP/1.1 backend is paused until the client drains, as after body
 * bytes; an HTTP/2 backend's further 1xx are dropped meanwhile (HEADERS are not flow-controlled:
 * pausing the stream does not hold them back). On the node engine (node:http2), whose nghttp2
 * queues HEADERS without bound and tells nothing when the socket drains, further 1xx are dropped
 * while its outbound queue is long: all 64 MiB were taken and queued before.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { simpleConfig } from '../helpers/backends.ts';
import {
  DATA,
  END_HEADERS,
  END_STREAM,
  frame,
  HEADERS,
  PREFACE,
  parseFrames,
  SETTINGS,
} from '../helpers/h2-frames.ts';
import { requestHeaders } from '../helpers/h2-raw-client.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const LINK = `</${'a'.repeat(4000)}>; rel=preload`;
const HINT = Buffer.from(`HTTP/1.1 103 Early Hints\r\nLink: ${LINK}\r\n\r\n`.repeat(64), 'latin1');
/** 64 MiB of Early Hints: far more than every socket buffer between the backend and the client. */
const HINT_WRITES = (64 * 1024 * 1024) / HINT.length;

describe('1xx responses flooding a client that does not read', () => {
  let h1: net.Server;
  let h2: Http2Server;
  let proxy: ProxyProcess;
  /** The same configuration on the node engine (experimental.http2Engine: node). */
  let nodeProxy: ProxyProcess;
  let h2Done: Promise<void>;
  /** Told by the next HTTP/1.1 backend connection: true once every hint is written, false on a stall. */
  let report: (all: boolean) => void = () => {};
  function nextOutcome(): Promise<boolean> {
    return new Promise((r) => {
      report = r;
    });
  }

  before(async () => {
    h1 = net.createServer((s) => {
      const tell = report;
      s.on('error', () => {});
      s.once('data', async () => {
        // A write that takes no bytes for 2 s is a stall: the proxy stopped reading. Unbounded,
        // the proxy takes every byte as fast as it parses them.
        for (let i = 0; i < HINT_WRITES; i++) {
          const wrote = await new Promise<boolean>((r) => {
            const t = setTimeout(() => r(false), 2000);
            s.write(HINT, () => {
              clearTimeout(t);
              r(true);
            });
          });
          if (!wrote) {
            tell(false);
            return;
          }
        }
        tell(true);
        s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      });
    });
    h1.listen(0, '127.0.0.1');
    await once(h1, 'listening');
    let h2Finished: () => void = () => {};
    h2Done = new Promise((r) => {
      h2Finished = r;
    });
    h2 = createH2Server();
    h2.on('stream', (stream) => {
      for (let i = 0; i < 16_000; i++) stream.additionalHeaders({ ':status': 103, link: LINK });
      stream.respond({ ':status': 200, 'content-length': '2' });
      stream.end('ok');
      stream.on('close', () => h2Finished());
    });
    h2.listen(0, '127.0.0.1');
    await once(h2, 'listening');
    const h1Port = (h1.address() as net.AddressInfo).port;
    const h2Port = (h2.address() as net.AddressInfo).port;
    const config = simpleConfig(
      [`http://127.0.0.1:${h1Port}`],
      `    h2be:
      loadBalancer:
        servers: [{ url: "h2c://127.0.0.1:${h2Port}" }]
`,
    ).replace(
      '    all: { rule: "PathPrefix(`/`)", service: be }',
      '    all: { rule: "PathPrefix(`/`)", service: be }\n    h2: { rule: "PathPrefix(`/h2`)", service: h2be }',
    );
    proxy = await startProxy({ config });
    nodeProxy = await startProxy({ config: `experimental: { http2Engine: node }\n${config}` });
  });

  after(async () => {
    await proxy?.stop();
    await nodeProxy?.stop();
    h1?.close();
    h2?.close();
  });

  it('holds an HTTP/1.1 backend back while an HTTP/1.1 client does not read', async () => {
    const outcome = nextOutcome();
    const c = net.connect(proxy.ports['web']!, '127.0.0.1');
    c.pause();
    c.on('error', () => {});
    c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(await outcome, false, 'the proxy took every hint while its client read nothing');
    c.destroy();
  });

  it('holds an HTTP/1.1 backend back while an HTTP/2 client does not read (own engine)', async () => {
    const outcome = nextOutcome();
    const c = net.connect(proxy.ports['web']!, '127.0.0.1');
    c.pause();
    c.on('error', () => {});
    c.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(SETTINGS, 0x1, 0)]));
    c.write(requestHeaders(1, [], END_STREAM | END_HEADERS, '/'));
    assert.equal(await outcome, false, 'the proxy took every hint while its client read nothing');
    c.destroy();
  });

  it('drops the further 1xx of an HTTP/1.1 backend while an HTTP/2 client does not read (node engine)', async () => {
    const outcome = nextOutcome();
    const c = net.connect(nodeProxy.ports['web']!, '127.0.0.1');
    c.pause();
    c.on('error', () => {});
    c.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), frame(SETTINGS, 0x1, 0)]));
    c.write(requestHeaders(1, [], END_STREAM | END_HEADERS, '/'));
    // The proxy reads the whole flood (it drops what it cannot queue), then the final response.
    assert.equal(await outcome, true, 'the backend stalled: the proxy stopped reading it');
    const chunks: Buffer[] = [];
    let ended = false;
    c.on('data', (d: Buffer) => {
      chunks.push(d);
      const frames = parseFrames(Buffer.concat(chunks));
      if (frames.some((f) => f.stream === 1 && f.type === DATA && (f.flags & END_STREAM) !== 0)) {
        ended = true;
        c.end();
      }
    });
    c.resume();
    await Promise.race([once(c, 'close'), new Promise((r) => setTimeout(r, 20_000))]);
    c.destroy();
    const frames = parseFrames(Buffer.concat(chunks)).filter((f) => f.stream === 1);
    assert.ok(ended, 'the final response did not arrive whole');
    const heads = frames.filter((f) => f.type === HEADERS).length;
    // What the socket buffers between the proxy and the client hold (several MB on loopback),
    // plus nghttp2's 64 queued frames; before, every hint was queued and relayed.
    const total = Math.ceil(HINT_WRITES) * 64;
    assert.ok(heads > 1 && heads < total / 2, `${heads - 1} of ${total} hints relayed`);
  });

  it('drops an HTTP/2 backend’s further 1xx while an HTTP/1.1 client does not read', async () => {
    const c = net.connect(proxy.ports['web']!, '127.0.0.1');
    c.pause();
    c.on('error', () => {});
    c.write('GET /h2 HTTP/1.1\r\nHost: a\r\n\r\n');
    await h2Done;
    const chunks: Buffer[] = [];
    let tail = '';
    c.on('data', (d: Buffer) => {
      chunks.push(d);
      tail = (tail + d.toString('latin1')).slice(-200);
      if (/HTTP\/1\.1 200 .*\r\n\r\nok$/s.test(tail)) c.end();
    });
    c.resume();
    await once(c, 'close');
    const text = Buffer.concat(chunks).toString('latin1');
    const hints = text.split('HTTP/1.1 103 ').length - 1;
    assert.match(text, /HTTP\/1\.1 200 OK\r\n.*\r\n\r\nok$/s);
    assert.ok(hints > 0 && hints < 8000, `${hints} of 16000 hints relayed`);
  });
});
