/**
 * The fields of a backend's 101 Switching Protocols: hop-by-hop ones (Keep-Alive,
 * Proxy-Authenticate, Proxy-Connection, TE, Trailer, Transfer-Encoding) and those the backend's
 * Connection names never reach the client; the switch's own Connection and Upgrade are ours.
 * Caddy before 2.11.5 (GO-2026-6874) copied the upstream 101's fields before its hop-by-hop
 * removal and let them through.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { header, rawRequest } from '../helpers/raw-client.ts';

describe("a backend's 101 answer to a WebSocket handshake", () => {
  let backend: net.Server;
  let proxy: ProxyProcess;

  before(async () => {
    backend = net.createServer((s) => {
      s.once('data', () => {
        s.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade, X-Hop\r\n' +
            'X-Hop: secret\r\nKeep-Alive: timeout=5\r\nProxy-Authenticate: Basic realm="up"\r\n' +
            'Proxy-Connection: keep-alive\r\nTrailer: X-T\r\nSec-WebSocket-Accept: abc\r\nX-End: 1\r\n\r\nHELLO',
        );
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const port = (backend.address() as net.AddressInfo).port;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "http://127.0.0.1:${port}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await new Promise<void>((r) => backend.close(() => r()));
  });

  it('reaches the client without hop-by-hop fields or those the backend named in Connection', async () => {
    const r = await rawRequest(
      proxy.port,
      'GET /ws HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      { timeoutMs: 3000 },
    );
    const res = r.responses[0];
    assert.ok(res !== undefined, r.data.toString('latin1'));
    assert.equal(res.status, 101);
    for (const n of ['X-Hop', 'Keep-Alive', 'Proxy-Authenticate', 'Proxy-Connection', 'Trailer'])
      assert.equal(header(res, n), undefined, n);
    assert.equal(header(res, 'Connection'), 'Upgrade');
    assert.equal(header(res, 'Upgrade'), 'websocket');
    assert.equal(header(res, 'Sec-WebSocket-Accept'), 'abc');
    assert.equal(header(res, 'X-End'), '1');
    assert.equal(r.rest.toString('latin1'), 'HELLO');
  });
});
