import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';

/*
 * TRACE (issue 16): a backend that reflects it would echo the client's cookies and credentials
 * back to a script, so the edge answers 405 unless the entry point allows it (`http.allowTrace`).
 */
describe('TRACE', () => {
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    // Reflects the request head, as a TRACE-enabled server does.
    backend = await startBackend((req, res) => res.end(`${req.method} ${JSON.stringify(req.headers)}`));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traced:
    address: "127.0.0.1:0"
    http: { allowTrace: true }
log: { level: INFO }
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

  it('answers 405 with Allow, and forwards nothing, by default on HTTP/1.1 and HTTP/2', async () => {
    const seen = backend.seen.length;
    for (const proto of ['--http1.1', '--http2-prior-knowledge']) {
      const r = await curl([
        proto,
        '-X',
        'TRACE',
        '-H',
        'Cookie: session=secret',
        `http://127.0.0.1:${proxy.ports['web']}/x`,
      ]);
      assert.equal(r.status, 405, proto);
      assert.deepEqual(r.headers['allow'], ['GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'], proto);
      assert.doesNotMatch(r.body.toString(), /secret/, proto);
    }
    assert.equal(backend.seen.length, seen, 'the backend saw no TRACE');
  });

  it('forwards TRACE on an entry point that allows it', async () => {
    const r = await curl(['-X', 'TRACE', `http://127.0.0.1:${proxy.ports['traced']}/x`]);
    assert.equal(r.status, 200);
    assert.match(r.body.toString(), /^TRACE /);
  });

  it('keeps the connection after the 405', async () => {
    const r = await rawRequest(
      proxy.ports['web']!,
      'TRACE /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n',
      { responses: 2, timeoutMs: 5000 },
    );
    assert.deepEqual(
      r.responses.map((x) => x.status),
      [405, 200],
    );
  });
});
