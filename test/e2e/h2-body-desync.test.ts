/**
 * An HTTP/2 request whose DATA ends short of its content-length, forwarded to an HTTP/1.1 backend
 * over a pooled connection (the class of HAProxy's CVE-2026-33555, HTTP/3 to HTTP/1: a request
 * head with `Content-Length: N` went upstream, its stream ended with fewer bytes, and the next
 * client's request on the same backend connection was read as the missing body). The stream is
 * reset, and the backend connection that carries the short body is never used again: the next
 * request reaches the backend whole.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { DATA, END_HEADERS, END_STREAM, field, frame, PROTOCOL_ERROR } from '../helpers/h2-frames.ts';
import { RawH2, requestHeaders, rstCode } from '../helpers/h2-raw-client.ts';
import { httpRequest } from '../helpers/http-request.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('an HTTP/2 request body shorter than its content-length, to an HTTP/1.1 backend', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let headSeen: (() => void) | null = null;

  before(async () => {
    backend = await startBackend((req, res) => {
      if (req.url === '/short') headSeen?.();
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => res.end(`${req.method} ${req.url} ${body}`));
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
experimental: { http2Engine: own }
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('resets the stream and never reuses the backend connection that got the short body', async () => {
    const c = new RawH2(proxy.port, true);
    const seen = new Promise<void>((resolve) => {
      headSeen = resolve;
    });
    const post = requestHeaders(1, [field('content-length', '10')], END_HEADERS, '/short');
    // :method GET in the block; a body with GET is what matters here, not the method.
    c.write(Buffer.concat([post, frame(DATA, 0, 1, Buffer.from('12345'))]));
    await seen; // the head (and perhaps the five bytes) went upstream
    c.write(frame(DATA, END_STREAM, 1, Buffer.alloc(0)));
    const f = await c.until((fr) => rstCode(fr, 1) !== undefined, 'stream 1 reset');
    assert.equal(rstCode(f, 1), PROTOCOL_ERROR);
    c.destroy();
    // Sequential requests to the one backend: a kept connection would be the pool's first pick.
    for (const path of ['/next', '/after']) {
      const r = await httpRequest(proxy.port, { path });
      assert.deepEqual([r.status, r.text], [200, `GET ${path} `]);
    }
  });
});
