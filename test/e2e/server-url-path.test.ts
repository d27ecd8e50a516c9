/**
 * A server URL with a path, through the real proxy: Traefik forwards the request's own path
 * unless the server has `preservePath: true`, and then the URL's path goes first (its proxy
 * director and `JoinURLPath`). Over HTTP/1.1, HTTP/2 (h2c) and to a mirror.
 */
import assert from 'node:assert/strict';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { gate, within } from '../helpers/wait.ts';

describe('server URLs with a path', () => {
  let plain: Backend;
  let kept: Backend;
  let mirror: Backend;
  let h2: Http2Server;
  const h2Seen: string[] = [];
  let proxy: ProxyProcess;
  const mirrored = gate();

  before(async () => {
    [plain, kept, mirror] = await Promise.all([
      startBackend(),
      startBackend(),
      startBackend((req, res) => {
        res.end(`${req.method} ${req.url}`);
        mirrored.open();
      }),
    ]);
    h2 = createH2Server((req, res) => {
      h2Seen.push(req.url);
      res.end(`h2 ${req.url}`);
    });
    await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
    const h2Port = (h2.address() as AddressInfo).port;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  routers:
    plain: { rule: "PathPrefix(\`/plain\`)", service: plain }
    kept: { rule: "PathPrefix(\`/kept\`)", service: kept }
    slash: { rule: "PathPrefix(\`/slash\`)", service: slash }
    h2: { rule: "PathPrefix(\`/h2\`)", service: h2 }
    mirrored: { rule: "PathPrefix(\`/mirrored\`)", service: mirrored }
  services:
    plain:
      loadBalancer:
        servers: [{ url: "${plain.url}/ignored?q=1" }]
    kept:
      loadBalancer:
        servers: [{ url: "${kept.url}/api", preservePath: true }]
    slash:
      loadBalancer:
        servers: [{ url: "${kept.url}/v2/", preservePath: true }]
    h2:
      loadBalancer:
        servers: [{ url: "h2c://127.0.0.1:${h2Port}/grpc", preservePath: true }]
    main:
      loadBalancer:
        servers: [{ url: "${plain.url}" }]
    shadow:
      loadBalancer:
        servers: [{ url: "${mirror.url}/shadow", preservePath: true }]
    mirrored:
      mirroring:
        service: main
        mirrors: [{ name: shadow, percent: 100 }]
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([plain?.close(), kept?.close(), mirror?.close()]);
    await new Promise<void>((resolve) => (h2 ? h2.close(() => resolve()) : resolve()));
  });

  const get = async (path: string): Promise<string> => {
    const r = await fetch(`http://127.0.0.1:${proxy.port}${path}`);
    assert.equal(r.status, 200, path);
    return r.text();
  };

  it("forwards the request's own path and query when the server has no preservePath", async () => {
    assert.equal(await get('/plain/x?a=b'), 'GET /plain/x?a=b');
    // Said when the configuration loads.
    assert.ok(
      proxy.logs.some(
        (l) =>
          l.msg === 'configuration warning' &&
          String(l.issue).includes("servers[0].url: the URL's path is not forwarded"),
      ),
      JSON.stringify(proxy.logs.filter((l) => l.level === 'warn')),
    );
  });

  it("puts the URL's path first with preservePath, one slash where they meet", async () => {
    assert.equal(await get('/kept/users?id=7'), 'GET /api/kept/users?id=7');
    assert.equal(await get('/slash'), 'GET /v2/slash');
    // Escapes are kept as the client sent them.
    assert.equal(await get('/kept/a%2Fb'), 'GET /api/kept/a%2Fb');
  });

  it('does the same over HTTP/2 to an h2c server', async () => {
    assert.equal(await get('/h2/pkg.Svc/Call'), 'h2 /grpc/h2/pkg.Svc/Call');
    assert.deepEqual(h2Seen, ['/grpc/h2/pkg.Svc/Call']);
  });

  it("sends a mirror its own server's path, and the main service its own", async () => {
    assert.equal(await get('/mirrored/m?z=1'), 'GET /mirrored/m?z=1');
    await within(mirrored.promise, 'the mirrored request');
    assert.deepEqual(
      mirror.seen.map((s) => s.url),
      ['/shadow/mirrored/m?z=1'],
    );
  });
});
