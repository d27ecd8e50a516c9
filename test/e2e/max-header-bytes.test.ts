import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { RawConn } from '../helpers/raw-conn.ts';

/*
 * `entryPoints.<ep>.http.maxHeaderBytes` up to Traefik's own default, 1 MiB (Go's
 * http.DefaultMaxHeaderBytes): a Traefik file that writes the default out loaded nowhere here
 * (the largest accepted value was 64 KiB) and the proxy did not start.
 */
describe('http.maxHeaderBytes: 1048576 (Traefik default written out)', () => {
  let backend: Server;
  let proxy: ProxyProcess;
  before(async () => {
    backend = createServer({ maxHeaderSize: 2 * 1024 * 1024 }, (req, res) =>
      res.end(`pad ${String(req.headers['x-pad-0']).length}`),
    );
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const port = (backend.address() as AddressInfo).port;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    http: { maxHeaderBytes: 1048576 }
http:
  routers:
    r: { rule: "PathPrefix(\`/\`)", service: s }
  services:
    s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:${port}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await new Promise<void>((r) => backend?.close(() => r()));
  });

  it('starts, and forwards a 100 KB header block that the 16 KiB default refuses', async () => {
    const pad = Array.from({ length: 20 }, (_, i) => `X-Pad-${i}: ${'p'.repeat(5000)}\r\n`).join('');
    const conn = await RawConn.open(proxy.port);
    try {
      conn.write(`GET / HTTP/1.1\r\nHost: a.test\r\n${pad}Connection: close\r\n\r\n`);
      const r = await conn.readResponse();
      assert.equal(r.status, 200);
      assert.equal(r.body, 'pad 5000');
    } finally {
      conn.destroy();
    }
  });
});
