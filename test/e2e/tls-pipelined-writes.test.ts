/**
 * Responses to HTTP/1.1 clients over TLS when writes follow each other in one turn, through the
 * real proxy: pipelined requests (proxied responses alternating with the proxy's own 404s, which
 * are written as their request is parsed), a large whole body to a client that reads slowly, and
 * `Connection: close` answers ending with close_notify and a FIN. Written for an experiment that
 * wrote TLS responses straight to the socket's TLSWrap (which takes one write at a time and
 * aborts the process on a second: CHECK(!current_write_)); the experiment gained nothing
 * measurable and was left out (docs/performance.md), the cases stay.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const BIG = Buffer.alloc(3 * 1024 * 1024 + 7, 'z');
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Sends `bytes` over TLS and collects the decrypted reply until the proxy closes (10 s at most). */
function tlsExchange(
  port: number,
  bytes: string,
  opts: { slowReader?: boolean } = {},
): Promise<{ reply: Buffer; closed: string }> {
  return new Promise((resolve) => {
    const s = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, servername: 'a.test' });
    const chunks: Buffer[] = [];
    let closed = 'timeout';
    const timer = setTimeout(() => s.destroy(), 10_000);
    s.on('secureConnect', () => s.write(bytes));
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      if (opts.slowReader === true) {
        // Reads in small steps: the proxy's writes queue behind a client that lags.
        s.pause();
        setTimeout(() => s.resume(), 2);
      }
    });
    s.on('end', () => {
      closed = 'end';
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      closed = e.code ?? e.message;
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ reply: Buffer.concat(chunks), closed });
    });
  });
}

/** Splits a reply into responses (Content-Length framed, as the backend answers). */
function responses(reply: Buffer): { status: number; body: Buffer }[] {
  const out: { status: number; body: Buffer }[] = [];
  let p = 0;
  while (p < reply.length) {
    const end = reply.indexOf('\r\n\r\n', p);
    assert.ok(end > 0, `an unterminated head at ${p}`);
    const head = reply.subarray(p, end).toString('latin1');
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length: *(\d+)/i.exec(head);
    const len = m === null ? 0 : Number(m[1]);
    out.push({ status, body: reply.subarray(end + 4, end + 4 + len) });
    p = end + 4 + len;
  }
  return out;
}

describe('responses written directly to TLS clients', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let port: number;

  before(async () => {
    backend = await startBackend((req, res) => {
      if (req.url === '/big') {
        res.setHeader('content-length', BIG.length);
        res.end(BIG);
        return;
      }
      res.end(req.url);
    });
    proxy = await startProxy({
      config: `entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
log: { level: INFO }
http:
  routers:
    all: { rule: "Host(\`a.test\`)", service: be }
  services:
    be:
      loadBalancer:
        servers:
          - url: "${backend.url}"
`,
    });
    port = proxy.ports['websecure']!;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('answers 200 pipelined requests in order, the last one closing', async () => {
    let req = '';
    for (let i = 0; i < 200; i++)
      req += `GET /r${i} HTTP/1.1\r\nHost: a.test\r\n${i === 199 ? 'Connection: close\r\n' : ''}\r\n`;
    const { reply, closed } = await tlsExchange(port, req);
    const rs = responses(reply);
    assert.equal(rs.length, 200);
    rs.forEach((r, i) => {
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), `/r${i}`);
    });
    assert.equal(closed, 'end');
    assert.equal(proxy.child.exitCode, null, 'the proxy is still running');
  });

  it('answers pipelined requests alternating with its own answers (404s) in order', async () => {
    // A proxied response is written to the handle; the 404 of the request pipelined after it is
    // written by socket.write in the same turn (the next request is parsed as the exchange
    // ends), while TLSWrap still holds the first: it must wait for it.
    let req = '';
    for (let i = 0; i < 100; i++) {
      const host = i % 2 === 0 ? 'a.test' : 'none.test';
      req += `GET /n${i} HTTP/1.1\r\nHost: ${host}\r\n${i === 99 ? 'Connection: close\r\n' : ''}\r\n`;
    }
    const { reply, closed } = await tlsExchange(port, req);
    const rs = responses(reply);
    assert.equal(rs.length, 100);
    rs.forEach((r, i) => {
      if (i % 2 === 0) {
        assert.equal(r.status, 200);
        assert.equal(r.body.toString(), `/n${i}`);
      } else assert.equal(r.status, 404);
    });
    assert.equal(closed, 'end');
    assert.equal(proxy.child.exitCode, null, 'the proxy is still running');
  });

  it('relays a large body whole to a client that reads slowly, then the next response', async () => {
    const req =
      'GET /big HTTP/1.1\r\nHost: a.test\r\n\r\nGET /after HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n';
    const { reply, closed } = await tlsExchange(port, req, { slowReader: true });
    const rs = responses(reply);
    assert.equal(rs.length, 2);
    assert.equal(rs[0]!.body.length, BIG.length);
    assert.equal(sha(rs[0]!.body), sha(BIG));
    assert.equal(rs[1]!.body.toString(), '/after');
    assert.equal(closed, 'end');
  });

  it('closes cleanly after a Connection: close answer written directly', async () => {
    for (let i = 0; i < 20; i++) {
      const { reply, closed } = await tlsExchange(
        port,
        'GET /one HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n',
      );
      const rs = responses(reply);
      assert.equal(rs.length, 1);
      assert.equal(rs[0]!.body.toString(), '/one');
      assert.equal(closed, 'end', 'TLS close_notify then FIN, not a reset');
    }
    assert.equal(proxy.child.exitCode, null, 'the proxy is still running');
  });
});
