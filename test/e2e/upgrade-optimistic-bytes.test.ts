/**
 * Optimistic upgrades (draft-ietf-httpbis-optimistic-upgrade; the class of Traefik's
 * GHSA-3ccp-42pg-hgv6 and GHSA-w4v4-9rw7-5326): a client that sends its tunnel bytes right after
 * an upgrade request, before the backend said 101 (or 200 to an HTTP/2 extended CONNECT). When
 * the backend refuses the upgrade and keeps its connection, bytes relayed early would be read
 * there as the next request: past the router and its middlewares, or as another client's
 * answer. Ours relays nothing before the switch: on HTTP/1.1 the bytes are the client's next
 * request, routed as any (here to a router that refuses it); on HTTP/2 they are the refused
 * stream's and are dropped. The backend, raw and strict, never sees them.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { engineEnv, H2_ENGINES } from '../helpers/h2-engines.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: a.test\r\n\r\n';

for (const engine of H2_ENGINES) {
  describe(`tunnel bytes sent before a refused upgrade (${engine} engine)`, () => {
    let server: net.Server;
    const seen: string[] = [];
    let proxy: ProxyProcess;

    before(async () => {
      server = net.createServer((sock) => {
        sock.on('error', () => {});
        let buf = Buffer.alloc(0);
        sock.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          for (;;) {
            const end = buf.indexOf('\r\n\r\n');
            if (end === -1) return;
            const line = buf.subarray(0, end).toString('latin1').split('\r\n')[0]!;
            buf = buf.subarray(end + 4);
            seen.push(line);
            // Every upgrade refused, the connection kept alive.
            const body = line.includes('/ws') ? 'refused' : `at ${line.split(' ')[1]}`;
            sock.write(
              `HTTP/1.1 ${line.includes('/ws') ? 403 : 200} X\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
            );
          }
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as net.AddressInfo).port;
      proxy = await startProxy({
        env: engineEnv(engine),
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
    blocked: { rule: "PathPrefix(\`/smuggled\`)", service: be, middlewares: [nobody] }
  middlewares:
    nobody: { ipAllowList: { sourceRange: ["192.0.2.1/32"] } }
  services:
    be: { loadBalancer: { servers: [{ url: "http://127.0.0.1:${port}" }] } }
`,
      });
    });

    after(async () => {
      await proxy?.stop();
      await new Promise<void>((r) => server.close(() => r()));
    });

    it('HTTP/1.1: the bytes after a refused WebSocket handshake are the next request, routed', async () => {
      const r = await rawRequest(
        proxy.ports['web']!,
        'GET /ws HTTP/1.1\r\nHost: a.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' +
          SMUGGLED,
        { responses: 2, timeoutMs: 5000 },
      );
      assert.equal(r.responses[0]?.status, 403, r.data.toString('latin1'));
      assert.equal(r.responses[0]?.body.toString(), 'refused');
      if (r.responses[1] !== undefined)
        assert.equal(r.responses[1].status, 403, 'the blocked router refused it');
      const victim = await rawRequest(proxy.ports['web']!, 'GET /victim HTTP/1.1\r\nHost: a.test\r\n\r\n', {
        responses: 1,
        timeoutMs: 5000,
      });
      assert.equal(victim.responses[0]?.body.toString(), 'at /victim');
      assert.ok(!seen.some((l) => l.includes('/smuggled')), `the backend read: ${seen.join(' | ')}`);
    });

    it('HTTP/2: DATA sent before the answer to an extended CONNECT never reaches the backend', async (t) => {
      const { connect } = await import('node:http2');
      const session = connect(`http://127.0.0.1:${proxy.ports['web']!}`);
      t.after(() => session.destroy());
      session.on('error', () => {});
      await once(session, 'remoteSettings');
      const stream = session.request(
        {
          ':method': 'CONNECT',
          ':protocol': 'websocket',
          ':scheme': 'http',
          ':path': '/ws/h2',
          ':authority': 'a.test',
          'sec-websocket-version': '13',
        },
        { endStream: false },
      );
      stream.on('error', () => {});
      stream.write(SMUGGLED);
      stream.end(SMUGGLED);
      const [h] = (await once(stream, 'response')) as [Record<string, string | number>];
      assert.equal(h[':status'], 403);
      const next = session.request({ ':path': '/victim2', ':authority': 'a.test' });
      let body = '';
      next.setEncoding('utf8');
      next.on('data', (d: string) => {
        body += d;
      });
      await once(next, 'end');
      assert.equal(body, 'at /victim2');
      assert.ok(!seen.some((l) => l.includes('/smuggled')), `the backend read: ${seen.join(' | ')}`);
    });
  });
}
