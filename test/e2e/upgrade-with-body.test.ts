/**
 * An upgrade request that carries a body (nghttpx CVE-2026-58055, June 2026: an `Upgrade`
 * request with a `Content-Length` body forwarded to a reusable backend connection with its
 * Upgrade and Connection put back and the length unchanged, the body read as a request by one
 * side and as tunnel bytes by the other; the class of Pingora CVE-2026-2833). Ours takes a
 * handshake only from a GET without a body (RFC 6455): any other upgrade request is forwarded
 * as a plain request, without `Upgrade`, its body framed by its length, so the backend and the
 * proxy read the same bytes as the same request and the connection stays in step.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, simpleConfig, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';

describe('an upgrade request with a body', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  const got: { url: string; upgrade: string | undefined; body: string; port: number }[] = [];

  before(async () => {
    backend = await startBackend((req, res) => {
      let body = '';
      req.setEncoding('latin1');
      req.on('data', (d: string) => {
        body += d;
      });
      req.on('end', () => {
        got.push({
          url: req.url ?? '',
          upgrade: req.headers.upgrade,
          body,
          port: req.socket.remotePort ?? 0,
        });
        res.statusCode = 403;
        res.end('no');
      });
    });
    // A handshake would arrive here: none may.
    backend.server.on('upgrade', (req, sock) => {
      got.push({ url: `upgrade ${req.url}`, upgrade: req.headers.upgrade, body: '', port: 0 });
      sock.destroy();
    });
    proxy = await startProxy({ config: simpleConfig([backend.url]) });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('is forwarded as a plain request with its body, and the backend connection stays in step', async () => {
    const r = await rawRequest(
      proxy.port,
      'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
        `Content-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
      { timeoutMs: 5000 },
    );
    assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 403 /);
    const next = await rawRequest(proxy.port, 'GET /next HTTP/1.1\r\nHost: a\r\n\r\n', { timeoutMs: 5000 });
    assert.match(next.data.toString('latin1'), /^HTTP\/1\.1 403 /);
    assert.deepEqual(
      got.map((g) => [g.url, g.upgrade, g.body]),
      [
        ['/ws', undefined, SMUGGLED],
        ['/next', undefined, ''],
      ],
    );
    assert.equal(got[0]!.port, got[1]!.port, 'the same backend connection, reused in step');
  });
});
