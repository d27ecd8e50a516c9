/**
 * Request heads our own HTTP/2 client refuses to send to an h2c backend (node:http2, whose
 * nghttp2 holds requests to RFC 9113), through the real proxy with curl as the client: a head
 * over the backend's SETTINGS_MAX_HEADER_LIST_SIZE fails with 431 and never reaches it; a value a
 * middleware padded with whitespace reaches it trimmed, as an HTTP/1.1 backend would read it.
 */
import assert from 'node:assert/strict';
import { createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('own HTTP/2 client to an h2c backend: heads it will not send as they are', () => {
  let backend: Http2Server;
  let proxy: ProxyProcess;
  const seen: { path: string; pad: string | undefined }[] = [];

  before(async () => {
    backend = createServer({ settings: { maxHeaderListSize: 2048 } });
    backend.on('stream', (s, h) => {
      s.on('error', () => {});
      const pad = h['x-pad'];
      seen.push({ path: String(h[':path']), pad: typeof pad === 'string' ? pad : undefined });
      s.respond({ ':status': 200 });
      s.end(`pad=${JSON.stringify(pad ?? null)}`);
    });
    backend.on('sessionError', () => {});
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const port = (backend.address() as AddressInfo).port;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
experimental: { http2Engine: own }
http:
  routers:
    plain: { rule: "PathPrefix(\`/\`)", service: be }
    padded: { rule: "PathPrefix(\`/pad\`)", service: be, middlewares: [pad] }
  middlewares:
    pad:
      headers:
        customRequestHeaders: { X-Pad: "  padded value \\t" }
  services:
    be: { loadBalancer: { servers: [{ url: "h2c://127.0.0.1:${port}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await new Promise((r) => backend?.close(r));
  });

  it("answers 431 to a head over the backend's SETTINGS_MAX_HEADER_LIST_SIZE, never sending it; the session serves on", async () => {
    const url = `http://127.0.0.1:${proxy.ports['web']!}`;
    // The first request opens the session and learns the backend's SETTINGS.
    const first = await curl([`${url}/first`]);
    assert.equal(first.status, 200);
    const big = await curl(['-H', `X-Big: ${'b'.repeat(3000)}`, `${url}/big`]);
    assert.equal(big.status, 431);
    const line = await proxy.waitForLog((l) => JSON.stringify(l).includes('SETTINGS_MAX_HEADER_LIST_SIZE'));
    assert.match(JSON.stringify(line), /HEADERS_TOO_LARGE|431/);
    const again = await curl([`${url}/again`]);
    assert.equal(again.status, 200);
    assert.deepEqual(
      seen.filter((s) => s.path !== '/pad').map((s) => s.path),
      ['/first', '/again'],
    );
  });

  it('trims the whitespace a middleware put around a value (an HTTP/2 backend would reset the stream)', async () => {
    const r = await curl([`http://127.0.0.1:${proxy.ports['web']!}/pad`]);
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.body.toString(), 'pad="padded value"');
  });
});
