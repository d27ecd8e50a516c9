/**
 * contentType through the real proxy with curl: a backend that sends bodies without
 * Content-Type; with the middleware the proxy names their type from their first bytes (as
 * Traefik's Go server does), without it the response keeps having none.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const PNG = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(2000, 7)]);

describe('contentType through the proxy', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let base: string;

  before(async () => {
    backend = await startBackend((req, res) => {
      const path = (req.url ?? '').replace(/^\/(sniff|plain)/, '');
      if (path === '/page') res.end('<!DOCTYPE html><html><body>hello</body></html>');
      else if (path === '/image') res.end(PNG);
      else if (path === '/typed') {
        res.setHeader('Content-Type', 'application/json');
        res.end('{"a":1}');
      } else if (path === '/stream') {
        // Written in pieces: the first one is held until enough has come to name it.
        res.write('<html>');
        setTimeout(() => res.end(`${' '.repeat(600)}</html>`), 20);
      } else if (path === '/gzipped') {
        // Compressed bytes without a type: Go's server does not sniff them (Content-Encoding set).
        res.setHeader('Content-Encoding', 'gzip');
        res.end(gzipSync(Buffer.from('<html><body>hi</body></html>')));
      } else res.end();
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  middlewares:
    sniff: { contentType: {} }
  routers:
    sniff: { rule: "PathPrefix(\`/sniff\`)", middlewares: [sniff], service: be }
    plain: { rule: "PathPrefix(\`/plain\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('names the type of bodies sent without one, keeping the bytes', async () => {
    const page = await curl([`${base}/sniff/page`]);
    assert.deepEqual(page.headers['content-type'], ['text/html; charset=utf-8']);
    assert.equal(page.body.toString(), '<!DOCTYPE html><html><body>hello</body></html>');
    const image = await curl([`${base}/sniff/image`]);
    assert.deepEqual(image.headers['content-type'], ['image/png']);
    assert.ok(image.body.equals(PNG));
    const stream = await curl([`${base}/sniff/stream`]);
    assert.deepEqual(stream.headers['content-type'], ['text/html; charset=utf-8']);
    assert.equal(stream.bodyBytes, 6 + 600 + 7);
  });

  it('names no type for an empty body or an encoded one, as Go sniffs only bare, non-empty bodies', async () => {
    const empty = await curl([`${base}/sniff/empty`]);
    assert.equal(empty.status, 200);
    assert.equal(empty.headers['content-type'], undefined);
    assert.equal(empty.bodyBytes, 0);
    const gz = await curl([`${base}/sniff/gzipped`]);
    assert.equal(gz.headers['content-type'], undefined);
    assert.deepEqual(gz.headers['content-encoding'], ['gzip']);
  });

  it('keeps the backend type, and sends none without the middleware', async () => {
    assert.deepEqual((await curl([`${base}/sniff/typed`])).headers['content-type'], ['application/json']);
    assert.equal((await curl([`${base}/plain/page`])).headers['content-type'], undefined);
  });
});
