/**
 * h2c upgrade requests (Traefik v3.7.13, pkg/server/service h2cUpgradeHandler): we serve
 * cleartext HTTP/2 with prior knowledge only, so a client's `Upgrade: h2c` is not passed on (a
 * backend accepting it would switch the connection to a protocol we never negotiated), and
 * `HTTP2-Settings`, connection-specific, never reaches a backend either. The request is served
 * over HTTP/1.1 as a plain one. A WebSocket upgrade is untouched.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FakeUpstream, httpResponse, type ReceivedRequest, requestHeader } from '../helpers/fake-upstream.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';

describe('h2c upgrade requests', () => {
  let upstream: FakeUpstream;
  let proxy: ProxyProcess;

  before(async () => {
    upstream = await FakeUpstream.start(async (conn) => {
      for (let n = 1; ; n++) {
        let req: ReceivedRequest;
        try {
          req = await conn.request(n);
        } catch {
          return;
        }
        // A backend that honours the h2c upgrade it is offered.
        if (requestHeader(req, 'upgrade')?.toLowerCase() === 'h2c') {
          conn.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n');
          return;
        }
        conn.write(httpResponse(200, 'plain'));
      }
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: raw }
  services:
    raw:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:${upstream.port}" }]
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await upstream?.close();
  });

  /** Sends `fields` and returns the client's status and what the backend received. */
  async function via(fields: string, path: string): Promise<{ status: number; seen: ReceivedRequest }> {
    const r = await rawRequest(proxy.ports['web']!, `GET ${path} HTTP/1.1\r\nHost: a.test\r\n${fields}\r\n`, {
      responses: 1,
      timeoutMs: 5000,
    });
    const seen = upstream.requests.find((q) => q.target === path);
    assert.ok(seen, `the backend got ${path}: ${r.data.toString('latin1')}`);
    return { status: r.responses[0]?.status ?? 0, seen };
  }

  it('drops Upgrade: h2c and HTTP2-Settings and serves the request over HTTP/1.1', async () => {
    const { status, seen } = await via(
      'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n',
      '/full',
    );
    assert.equal(status, 200);
    assert.equal(requestHeader(seen, 'upgrade'), undefined);
    assert.equal(requestHeader(seen, 'http2-settings'), undefined);
    assert.doesNotMatch(requestHeader(seen, 'connection') ?? '', /upgrade/i);
  });

  it('drops h2c among other Upgrade tokens, and HTTP2-Settings the client did not name in Connection', async () => {
    const { status, seen } = await via(
      'Connection: Upgrade\r\nUpgrade: foo/1, H2C\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n',
      '/tokens',
    );
    assert.equal(status, 200);
    assert.equal(requestHeader(seen, 'upgrade'), undefined);
    assert.equal(requestHeader(seen, 'http2-settings'), undefined);
  });

  it('drops HTTP2-Settings on a request without any upgrade', async () => {
    const { status, seen } = await via('HTTP2-Settings: AAMAAABkAAQAAP__\r\n', '/settings');
    assert.equal(status, 200);
    assert.equal(requestHeader(seen, 'http2-settings'), undefined);
  });

  it('still passes a WebSocket upgrade on', async () => {
    const { seen } = await via(
      'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
      '/ws',
    );
    assert.equal(requestHeader(seen, 'upgrade'), 'websocket');
  });
});
