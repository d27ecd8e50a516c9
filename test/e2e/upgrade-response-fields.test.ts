/**
 * The fields of a backend's 101 Switching Protocols: hop-by-hop ones (Keep-Alive,
 * Proxy-Authenticate, Proxy-Connection, TE, Trailer, Transfer-Encoding) and those the backend's
 * Connection names never reach the client; the switch's own Connection and Upgrade are ours.
 * Caddy before 2.11.5 (GO-2026-6874) copied the upstream 101's fields before its hop-by-hop
 * removal and let them through. A 200 to an upgrade request is a plain response (Envoy's
 * CVE-2024-23326 took it for a switch and tunnelled what followed), and a 101 to a request that
 * asked for none is a 502.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { header, rawRequest } from '../helpers/raw-client.ts';

describe("a backend's 101 answer to a WebSocket handshake", () => {
  let backend: net.Server;
  let odd: net.Server;
  let proxy: ProxyProcess;

  before(async () => {
    odd = net.createServer((s) => {
      s.on('error', () => {});
      s.on('data', (d: Buffer) => {
        const line = d.toString('latin1').split('\r\n')[0] ?? '';
        if (line.startsWith('GET /ok-upgrade')) {
          // 200, not 101, to the upgrade, with a stray response after it (Envoy CVE-2024-23326).
          s.write(
            'HTTP/1.1 200 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n' +
              'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!',
          );
        } else if (line.startsWith('GET /unsolicited')) {
          s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nRAW');
        } else {
          const path = line.split(' ')[1] ?? '';
          s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`);
        }
      });
    });
    await new Promise<void>((r) => odd.listen(0, '127.0.0.1', r));
    const oddPort = (odd.address() as net.AddressInfo).port;
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
    odd: { rule: "PathPrefix(\`/ok-upgrade\`) || PathPrefix(\`/unsolicited\`) || PathPrefix(\`/next\`)", service: odd }
  services:
    be: { loadBalancer: { servers: [{ url: "http://127.0.0.1:${port}" }] } }
    odd: { loadBalancer: { servers: [{ url: "http://127.0.0.1:${oddPort}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await new Promise<void>((r) => backend.close(() => r()));
    await new Promise<void>((r) => odd.close(() => r()));
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

  const HANDSHAKE =
    'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';

  it('takes a 200 to an upgrade request as a plain response: no tunnel, nothing after it relayed (Envoy CVE-2024-23326)', async () => {
    const r = await rawRequest(
      proxy.port,
      `GET /ok-upgrade HTTP/1.1\r\nHost: a.test\r\n${HANDSHAKE}\r\nGET /next HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n`,
      { timeoutMs: 3000 },
    );
    assert.deepEqual(
      r.responses.map((x) => [x.status, x.body.toString()]),
      [
        [200, ''],
        [200, '/next'],
      ],
      r.data.toString('latin1'),
    );
  });

  it('refuses a 101 the request did not ask for (502), relaying none of its bytes', async () => {
    const r = await rawRequest(
      proxy.port,
      'GET /unsolicited HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n',
      {
        timeoutMs: 3000,
      },
    );
    assert.equal(r.responses[0]?.status, 502, r.data.toString('latin1'));
    assert.equal(r.data.toString('latin1').includes('RAW'), false);
  });
});
