/**
 * The own HTTP/2 engine (static `experimental.http2Engine: own`) where it does what node:http2
 * cannot or need not be asked: malformed requests (a field value with CR, LF or NUL, an
 * uppercase name, a connection-specific field, a content-length the DATA does not add up to)
 * reset their stream with PROTOCOL_ERROR while the connection's other streams are served; the
 * concurrency limit refuses streams with REFUSED_STREAM; PING, SETTINGS and empty DATA floods end
 * the connection with ENHANCE_YOUR_CALM; and real clients over TLS (ALPN h2): curl, nghttp, h2load.
 * Frames are written byte by byte (test/helpers/h2-frames.ts), as no client library sends them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import {
  CONTINUATION,
  DATA,
  END_HEADERS,
  END_STREAM,
  ENHANCE_YOUR_CALM,
  field,
  frame,
  GOAWAY,
  HEADERS,
  PING,
  PROTOCOL_ERROR,
  REFUSED_STREAM,
  RST_STREAM,
  requestBlock,
  SETTINGS,
} from '../helpers/h2-frames.ts';
import { answered, RawH2, requestHeaders, rstCode } from '../helpers/h2-raw-client.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type Issued, TestPki } from '../helpers/tls-certs.ts';
import { runTool } from '../helpers/tools.ts';

describe('HTTP/2 own engine: malformed requests, limits, floods, TLS clients', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let pki: TestPki;
  let cert: Issued;

  before(async () => {
    backend = await startBackend((req, res) => {
      if (req.url?.startsWith('/hold')) return; // answered never: keeps its stream open
      if (req.url === '/big') {
        res.end(Buffer.alloc(1_000_000, 'z'));
        return;
      }
      req.resume();
      req.on('end', () => res.end(`ok ${req.url}`));
    });
    pki = new TestPki();
    cert = pki.issue('proxy', ['127.0.0.1', 'localhost']);
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    http2: { maxConcurrentStreams: 3 }
  secure:
    address: "127.0.0.1:0"
    http: { tls: {} }
experimental: { http2Engine: own }
log: { level: DEBUG }
tls:
  certificates:
    - { certFile: "${cert.certFile}", keyFile: "${cert.keyFile}" }
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
    pki?.remove();
  });

  it('resets a stream whose field value holds CR, LF or NUL (PROTOCOL_ERROR); the other streams are served', async () => {
    const c = new RawH2(proxy.ports['web']!);
    c.write(
      Buffer.concat([
        requestHeaders(1, [field('x-evil', 'a\rb')]),
        requestHeaders(3, [field('x-evil', 'a\nx-injected: 1')]),
        requestHeaders(5, [field('x-evil', 'a\0b')]),
        requestHeaders(7),
      ]),
    );
    const f = await c.until(
      (f) => answered(f, 7) && [1, 3, 5].every((id) => rstCode(f, id) !== undefined),
      'resets',
    );
    for (const id of [1, 3, 5]) assert.equal(rstCode(f, id), PROTOCOL_ERROR, `stream ${id}`);
    assert.equal(
      f.some((x) => x.type === HEADERS && [1, 3, 5].includes(x.stream)),
      false,
      'no answer on a reset stream',
    );
    // Afterwards, the connection still opens and serves streams.
    c.write(requestHeaders(9));
    await c.until((f) => answered(f, 9), 'stream 9');
    assert.equal(
      c.frames.some((x) => x.type === GOAWAY),
      false,
      'the connection stays open',
    );
    c.destroy();
    const urls = backend.seen.map((s) => s.url);
    assert.ok(urls.includes('/s7') && urls.includes('/s9'));
    for (const id of [1, 3, 5])
      assert.equal(urls.includes(`/s${id}`), false, `stream ${id} never reached the backend`);
  });

  it('resets streams with an uppercase name, a connection-specific field, whitespace around a value, or a content-length the DATA does not match', async () => {
    const c = new RawH2(proxy.ports['web']!);
    const cl = field('content-length', '10');
    c.write(
      Buffer.concat([
        requestHeaders(1, [field('X-Upper', 'v')]),
        requestHeaders(3, [field('connection', 'keep-alive')]),
        requestHeaders(5, [field('x-pad', ' v')]),
        requestHeaders(7, [cl], END_HEADERS, '/cl'),
        frame(DATA, END_STREAM, 7, Buffer.from('12345')),
        requestHeaders(9, [field('te', 'gzip')]),
        requestHeaders(11),
      ]),
    );
    const f = await c.until(
      (f) => answered(f, 11) && [1, 3, 5, 7, 9].every((id) => rstCode(f, id) !== undefined),
      'resets',
    );
    for (const id of [1, 3, 5, 7, 9]) assert.equal(rstCode(f, id), PROTOCOL_ERROR, `stream ${id}`);
    c.destroy();
  });

  it('answers 431 to a header block of 20,000 one-byte references to one small table entry, and serves on (HTTP/2 Bomb, CVE-2026-49975)', async () => {
    // One `x-a: b` added to the dynamic table (literal with incremental indexing), then 20,000
    // references to it (index 62, 0xBE): each a header field to the server, one byte on the wire.
    // Fields past the limits are decoded (to keep HPACK in step) but never kept.
    const c = new RawH2(proxy.ports['web']!, true);
    const block = Buffer.concat([
      requestBlock('/bomb', '127.0.0.1'),
      Buffer.from([0x40]),
      Buffer.from([3]),
      Buffer.from('x-a'),
      Buffer.from([1]),
      Buffer.from('b'),
      Buffer.alloc(20_000, 0xbe),
    ]);
    const frames: Buffer[] = [];
    for (let i = 0; i < block.length; i += 16_384) {
      const part = block.subarray(i, i + 16_384);
      const last = i + 16_384 >= block.length;
      frames.push(
        i === 0
          ? frame(HEADERS, END_STREAM | (last ? END_HEADERS : 0), 1, part)
          : frame(CONTINUATION, last ? END_HEADERS : 0, 1, part),
      );
    }
    c.write(Buffer.concat(frames));
    const f = await c.until((fr) => answered(fr, 1) || rstCode(fr, 1) !== undefined, 'stream 1 answered');
    const head = f.find((x) => x.type === HEADERS && x.stream === 1);
    assert.ok(head !== undefined, 'a response head');
    assert.equal(
      backend.seen.some((r) => r.url === '/bomb'),
      false,
    );
    c.write(requestHeaders(3));
    await c.until((fr) => answered(fr, 3), 'stream 3 answered');
    c.destroy();
  });

  it('refuses a stream over maxConcurrentStreams with REFUSED_STREAM, and serves again once streams end', async () => {
    const c = new RawH2(proxy.ports['web']!);
    // Three requests the backend never answers, then a fourth stream: over the limit of 3.
    c.write(
      Buffer.concat([
        requestHeaders(1, [], END_STREAM | END_HEADERS, '/hold1'),
        requestHeaders(3, [], END_STREAM | END_HEADERS, '/hold3'),
        requestHeaders(5, [], END_STREAM | END_HEADERS, '/hold5'),
        requestHeaders(7),
      ]),
    );
    let f = await c.until((f) => rstCode(f, 7) !== undefined, 'refused');
    assert.equal(rstCode(f, 7), REFUSED_STREAM);
    // The client cancels one: a new stream fits.
    c.write(Buffer.concat([frame(RST_STREAM, 0, 1, Buffer.from([0, 0, 0, 8])), requestHeaders(9)]));
    f = await c.until((f) => answered(f, 9), 'stream 9');
    assert.equal(
      f.some((x) => x.type === GOAWAY),
      false,
    );
    c.destroy();
  });

  for (const [what, unit] of [
    ['PING', frame(PING, 0, 0, Buffer.alloc(8))],
    ['SETTINGS', frame(SETTINGS, 0, 0)],
  ] as const) {
    it(`ends a connection that floods ${what} frames with GOAWAY(ENHANCE_YOUR_CALM)`, async () => {
      const c = new RawH2(proxy.ports['web']!);
      c.write(Buffer.concat(Array.from({ length: 5000 }, () => unit)));
      await c.until(() => c.closed, 'closed');
      const ga = c.frames.find((x) => x.type === GOAWAY);
      if (ga !== undefined) assert.equal(ga.payload.readUInt32BE(4), ENHANCE_YOUR_CALM);
      await proxy.waitForLog((l) => l.msg === 'http2 flood: session closed' && l['flood'] === what);
    });
  }

  it('ends a connection that floods empty DATA frames with GOAWAY(ENHANCE_YOUR_CALM)', async () => {
    const c = new RawH2(proxy.ports['web']!);
    const empty = frame(DATA, 0, 1);
    c.write(
      Buffer.concat([
        requestHeaders(1, [], END_HEADERS, '/upload'),
        ...Array.from({ length: 5000 }, () => empty),
      ]),
    );
    await c.until(() => c.closed, 'closed');
    await proxy.waitForLog(
      (l) => l.msg === 'http2 flood: session closed' && l['flood'] === 'empty DATA frames',
    );
  });

  it('serves curl --http2, nghttp and h2load over TLS (ALPN h2)', async () => {
    const port = proxy.ports['secure']!;
    const big = Buffer.alloc(300_000, 'x');
    const r = await curl(
      ['--http2', '--cacert', pki.ca.certFile, '--data-binary', '@-', `https://127.0.0.1:${port}/tls-post`],
      { stdin: big },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.transfers[0]!.info['http_version'], '2');
    assert.equal(r.body.toString(), 'ok /tls-post');
    const ng = await runTool('nghttp', ['-v', `https://127.0.0.1:${port}/nghttp`]);
    assert.equal(ng.code, 0, ng.out);
    assert.match(ng.out, /:status: 200/);
    assert.match(ng.out, /ok \/nghttp/);
    const load = await runTool('h2load', [
      '-n',
      '2000',
      '-c',
      '4',
      '-m',
      '10',
      `https://127.0.0.1:${port}/load`,
    ]);
    assert.equal(load.code, 0, load.out);
    assert.match(load.out, /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed/);
    assert.match(load.out, /status codes: 2000 2xx/);
  });

  it('keeps to a small window the client sets (nghttp -w 14 -W 14): a 1 MB response arrives whole', async () => {
    const r = await runTool('nghttp', [
      '-w',
      '14',
      '-W',
      '14',
      '-m',
      '3',
      `http://127.0.0.1:${proxy.ports['web']!}/big`,
    ]);
    assert.equal(r.code, 0, r.out.slice(0, 500));
    assert.equal(r.out.length, 3_000_000);
    assert.match(r.out, /^z+$/);
  });
});
