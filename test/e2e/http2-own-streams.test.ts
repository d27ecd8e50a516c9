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
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import {
  CANCEL,
  DATA,
  END_HEADERS,
  END_STREAM,
  field,
  frame,
  HEADERS,
  PROTOCOL_ERROR,
  rst,
  SETTINGS_TIMEOUT,
  STREAM_CLOSED,
} from '../helpers/h2-frames.ts';
import { answered, goawayCode, RawH2, requestHeaders, rstCode } from '../helpers/h2-raw-client.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

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
    const c = new RawH2(proxy.ports['web']!, true);
    c.write(requestHeaders(1));
    await c.until((f) => answered(f, 1), 'stream 1 answered');
    c.write(requestHeaders(1, [], END_STREAM | END_HEADERS, '/again'));
    await c.until(() => c.closed, 'closed');
    assert.equal(goawayCode(c.frames), STREAM_CLOSED);
    assert.equal(
      backend.seen.some((s) => s.url === '/again'),
      false,
    );
  });

  it('HEADERS after END_STREAM on a stream still open (its response pending): GOAWAY(STREAM_CLOSED)', async () => {
    const c = new RawH2(proxy.ports['web']!, true);
    c.write(
      Buffer.concat([
        requestHeaders(1, [], END_STREAM | END_HEADERS, '/hold-trailers'),
        frame(HEADERS, END_STREAM | END_HEADERS, 1, field('x-trailer', '1')),
      ]),
    );
    await c.until(() => c.closed, 'closed');
    assert.equal(goawayCode(c.frames), STREAM_CLOSED);
  });

  it('HEADERS on a stream the client reset: RST_STREAM(STREAM_CLOSED), the connection serves on', async () => {
    const c = new RawH2(proxy.ports['web']!, true);
    c.write(Buffer.concat([requestHeaders(1, [], END_HEADERS, '/upload'), rst(1, CANCEL)]));
    c.write(requestHeaders(3));
    await c.until((f) => answered(f, 3), 'stream 3 answered');
    c.write(requestHeaders(1, [], END_STREAM | END_HEADERS, '/after-reset'));
    const f = await c.until((f) => rstCode(f, 1) !== undefined, 'stream 1 reset');
    assert.equal(rstCode(f, 1), STREAM_CLOSED);
    c.write(requestHeaders(5));
    await c.until((f) => answered(f, 5), 'stream 5 answered');
    assert.equal(goawayCode(c.frames), undefined);
    c.destroy();
  });

  it('HEADERS on a stream the proxy reset: ignored (§5.1), the connection serves on', async () => {
    const c = new RawH2(proxy.ports['web']!, true);
    // Malformed (uppercase name): the proxy resets stream 1 with PROTOCOL_ERROR.
    c.write(requestHeaders(1, [field('X-Upper', 'v')], END_HEADERS, '/bad'));
    await c.until((f) => rstCode(f, 1) !== undefined, 'stream 1 reset');
    // Trailers the client had in flight before it saw the reset.
    c.write(frame(HEADERS, END_STREAM | END_HEADERS, 1, field('x-trailer', '1')));
    c.write(requestHeaders(3));
    await c.until((f) => answered(f, 3), 'stream 3 answered');
    assert.equal(goawayCode(c.frames), undefined);
    c.destroy();
  });

  it('DATA on a stream closed after END_STREAM both ways: GOAWAY(STREAM_CLOSED)', async () => {
    const c = new RawH2(proxy.ports['web']!, true);
    c.write(requestHeaders(1));
    await c.until((f) => answered(f, 1), 'stream 1 answered');
    c.write(frame(DATA, END_STREAM, 1, Buffer.from('late')));
    await c.until(() => c.closed, 'closed');
    assert.equal(goawayCode(c.frames), STREAM_CLOSED);
  });

  it('DATA on a stream the proxy reset: ignored, the connection serves on', async () => {
    const c = new RawH2(proxy.ports['web']!, true);
    c.write(requestHeaders(1, [field('X-Upper', 'v')], END_HEADERS, '/bad'));
    await c.until((f) => rstCode(f, 1) !== undefined, 'stream 1 reset');
    // Body bytes the client had in flight before it saw the reset.
    c.write(frame(DATA, END_STREAM, 1, Buffer.from('in flight')));
    c.write(requestHeaders(3));
    await c.until((f) => answered(f, 3), 'stream 3 answered');
    assert.equal(goawayCode(c.frames), undefined);
    c.destroy();
  });

  it('HEADERS on a stream id the client skipped (§5.1.1): GOAWAY(PROTOCOL_ERROR)', async () => {
    const c = new RawH2(proxy.ports['web']!, true);
    c.write(Buffer.concat([requestHeaders(1), requestHeaders(7)]));
    await c.until((f) => answered(f, 1) && answered(f, 7), 'streams 1 and 7 answered');
    c.write(requestHeaders(3, [], END_STREAM | END_HEADERS, '/skipped'));
    await c.until(() => c.closed, 'closed');
    assert.equal(goawayCode(c.frames), PROTOCOL_ERROR);
    assert.equal(
      backend.seen.some((s) => s.url === '/skipped'),
      false,
    );
  });

  it('WINDOW_UPDATE past 2^31-1 (§6.9.1): on the connection GOAWAY(FLOW_CONTROL_ERROR) and closed, on a stream RST_STREAM (Node CVE-2026-21714)', async () => {
    const FLOW_CONTROL_ERROR = 0x3;
    const windowUpdate = (stream: number, increment: number): Buffer => {
      const p = Buffer.alloc(4);
      p.writeUInt32BE(increment, 0);
      return frame(0x8, 0, stream, p);
    };
    const conn = new RawH2(proxy.ports['web']!, true);
    conn.write(windowUpdate(0, 0x7fffffff));
    await conn.until(() => conn.closed, 'closed');
    assert.equal(goawayCode(conn.frames), FLOW_CONTROL_ERROR);
    // A stream's window: that stream only; the connection serves on.
    const c = new RawH2(proxy.ports['web']!, true);
    c.write(requestHeaders(1, [], END_HEADERS, '/hold-window'));
    c.write(windowUpdate(1, 0x7fffffff));
    await c.until((f) => rstCode(f, 1) !== undefined, 'stream 1 reset');
    assert.equal(rstCode(c.frames, 1), FLOW_CONTROL_ERROR);
    c.write(requestHeaders(3));
    await c.until((f) => answered(f, 3), 'stream 3 answered');
    c.destroy();
  });

  it('SETTINGS never acknowledged within readHeaderTimeout: GOAWAY(SETTINGS_TIMEOUT); acknowledged: served', async () => {
    const port = proxy.ports['short']!;
    const good = new RawH2(port, true);
    const bad = new RawH2(port, false);
    good.write(requestHeaders(1, [], END_STREAM | END_HEADERS, '/slow-good'));
    bad.write(requestHeaders(1, [], END_STREAM | END_HEADERS, '/slow-bad'));
    await bad.until(() => bad.closed, 'closed');
    assert.equal(goawayCode(bad.frames), SETTINGS_TIMEOUT);
    assert.equal(answered(bad.frames, 1), false);
    await good.until((f) => answered(f, 1), 'acknowledged connection answered');
    assert.equal(goawayCode(good.frames), undefined);
    good.destroy();
  });
});
