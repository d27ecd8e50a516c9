/**
 * Where `buffering` stands in its chain, through the real proxy: Traefik's buffering (oxy's
 * buffer.ServeHTTP, pkg/middlewares/buffering) reads the whole request body before it calls its
 * `next`, so the middlewares after it see the request only once the body is complete, and a body
 * over maxRequestBodyBytes is refused (413) before any of them runs: an ipAllowList after it that
 * would refuse the client never gets to (Traefik answers 413, not 403).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { parseResponses } from '../helpers/raw-client.ts';
import { within } from '../helpers/wait.ts';

describe('buffering runs what follows it once the body is read', () => {
  let auth: Backend;
  let backend: Backend;
  let proxy: ProxyProcess;
  let port: number;
  /** Whether the client had sent its whole body when the auth server was asked (per call). */
  const authSawWhole: boolean[] = [];
  let clientSentAll = false;
  let authCalled: () => void = () => {};
  const backendGot: { url: string; body: string; user: string | undefined }[] = [];

  before(async () => {
    auth = await startBackend((_req, res) => {
      authSawWhole.push(clientSentAll);
      authCalled();
      res.setHeader('X-Auth-User', 'bob');
      res.end('ok');
    });
    backend = await startBackend((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        backendGot.push({
          url: req.url ?? '',
          body: Buffer.concat(chunks).toString(),
          user: req.headers['x-auth-user'] as string | undefined,
        });
        res.end('done');
      });
    });
    proxy = await startProxy({
      entryPoints: 1,
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  middlewares:
    tiny:
      buffering:
        maxRequestBodyBytes: 10
    buf:
      buffering:
        maxRequestBodyBytes: 1000
    others-only:
      ipAllowList:
        sourceRange: ["192.0.2.0/24"]
    auth:
      forwardAuth:
        address: "${auth.url}/verify"
        trustForwardHeader: false
        authResponseHeaders: [X-Auth-User]
  routers:
    refused: { rule: "PathPrefix(\`/refused\`)", middlewares: [tiny, others-only], service: be }
    order: { rule: "PathPrefix(\`/order\`)", middlewares: [buf, auth], service: be }
    twice: { rule: "PathPrefix(\`/twice\`)", middlewares: [tiny, others-only, buf], service: be }
    twice-late: { rule: "PathPrefix(\`/late\`)", middlewares: [buf, auth, tiny], service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
    port = proxy.ports['web']!;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    await auth?.close();
  });

  it('answers 413 to a body over its limit before an ipAllowList after it refuses the client (403)', async () => {
    const base = `http://127.0.0.1:${port}`;
    const over = await curl(['--data-binary', 'x'.repeat(100), `${base}/refused/a`]);
    assert.equal(over.status, 413);
    assert.equal(over.body.toString(), 'Request Entity Too Large');
    const chunked = await curl([
      '-H',
      'Transfer-Encoding: chunked',
      '--data-binary',
      'x'.repeat(100),
      `${base}/refused/b`,
    ]);
    assert.equal(chunked.status, 413);
    // Within the limit, the ipAllowList after it decides.
    const within_ = await curl(['--data-binary', 'small', `${base}/refused/c`]);
    assert.equal(within_.status, 403);
    assert.equal(backendGot.filter((b) => b.url.startsWith('/refused')).length, 0);
  });

  it('with several bufferings, the first reads the body and each checks its own limit where it stands', async () => {
    const base = `http://127.0.0.1:${port}`;
    // The first (10 bytes) refuses before the ipAllowList runs; the last (1000) never gets to.
    const first = await curl(['--data-binary', 'x'.repeat(100), `${base}/twice/a`]);
    assert.equal(first.status, 413);
    // Read by the first (1000 bytes), past the forwardAuth, refused by the last (10 bytes).
    const asked = authSawWhole.length;
    const last = await curl([
      '-H',
      'Transfer-Encoding: chunked',
      '--data-binary',
      'x'.repeat(100),
      `${base}/late/b`,
    ]);
    assert.equal(last.status, 413);
    assert.equal(authSawWhole.length, asked + 1, 'the forwardAuth between them was asked');
    assert.equal(backendGot.filter((b) => b.url.startsWith('/twice') || b.url.startsWith('/late')).length, 0);
  });

  it('calls a forwardAuth after it only once the client sent the whole body', async () => {
    clientSentAll = false;
    authSawWhole.length = 0;
    const asked = new Promise<void>((resolve) => {
      authCalled = resolve;
    });
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (c: Buffer) => received.push(c));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    await within(new Promise((resolve) => socket.once('connect', resolve)), 'the connection');
    socket.write(
      'POST /order/x HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\nConnection: close\r\n\r\nhello',
    );
    // The auth server must not be asked while half the body is missing: give it the chance
    // (bounded), then send the rest.
    await Promise.race([asked, new Promise((resolve) => setTimeout(resolve, 400))]);
    clientSentAll = true;
    socket.write('world');
    await within(closed, 'the answer');
    const { responses } = parseResponses(Buffer.concat(received), ['POST'], true);
    assert.equal(responses[0]?.status, 200);
    assert.deepEqual(authSawWhole, [true]);
    assert.deepEqual(
      backendGot.find((b) => b.url === '/order/x'),
      { url: '/order/x', body: 'helloworld', user: 'bob' },
    );
  });
});
