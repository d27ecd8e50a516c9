/**
 * Three of Traefik's integration test files run against our proxy, each test named after the Go
 * test it follows:
 * - integration/basic_test.go: Traefik v1's basic suite, whose scenarios v3 keeps in
 *   simple_test.go. Those not in ./simple.test.ts are here, in their v3 form (fixtures
 *   reqacceptgrace.toml and simple_web.toml as v3 writes them);
 * - integration/chunked_keepalive_test.go (fixture integration/fixtures/proxy/simple.toml);
 * - integration/routing_test.go (fixture integration/fixtures/routing/multi_layer_auth.toml).
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import { type Backend, startBackend } from '../../helpers/backends.ts';
import { httpRequest } from '../../helpers/http-request.ts';
import type { ProxyProcess } from '../../helpers/proxy-process.ts';
import { RawConn } from '../../helpers/raw-conn.ts';
import { waitForLogFrom, within } from '../../helpers/wait.ts';
import { startFixture, startWhoami } from './fixture.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

async function backend(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Backend> {
  const b = await startBackend(handler);
  open.push(() => b.close());
  return b;
}

async function start(text: string, vars: Record<string, string> = {}): Promise<ProxyProcess> {
  const p = await startFixture(text, vars);
  open.push(() => p.stop());
  return p;
}

const GLOBAL = `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"
`;

describe('traefik integration/basic_test.go (v3: simple_test.go)', () => {
  it('TestWithWebConfig: the API answers on the traefik entry point', async () => {
    // simple_web.toml's `[api] insecure = true` opens the traefik entry point (:8080), declared
    // here so that it moves to port 0 (and `dashboard` first so that ./fixture.ts keeps the API).
    const p = await start(`${GLOBAL}
[entryPoints]
  [entryPoints.web]
    address = ":8000"
  [entryPoints.traefik]
    address = ":8080"

[api]
  dashboard = true
  insecure = true
`);
    const r = await httpRequest(p.ports.traefik!, { path: '/api/rawdata' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
  });

  it('TestRequestAcceptGraceTimeout: after SIGTERM, requests are served and /ping answers 503 until the grace ends', async () => {
    const w = await startWhoami('whoami');
    open.push(() => w.close());
    const p = await start(
      `${GLOBAL}
[entryPoints]
  [entryPoints.web]
    address = ":8000"
    [entryPoints.web.transport.lifeCycle]
      requestAcceptGraceTimeout = "10s"
  [entryPoints.traefik]
    address = ":8001"
    [entryPoints.traefik.transport.lifeCycle]
      requestAcceptGraceTimeout = "10s"

[ping]

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers.router]
  service = "service"
  rule = "Path(\`/service\`)"

[http.services.service.loadBalancer]
  [[http.services.service.loadBalancer.servers]]
    url = "{{ .Server }}"
`,
      { Server: w.url },
    );
    const { web, traefik } = p.ports as { web: number; traefik: number };
    assert.equal((await httpRequest(web)).status, 404);
    assert.equal((await httpRequest(web, { path: '/service' })).status, 200);
    assert.equal((await httpRequest(traefik, { path: '/ping' })).status, 200);

    const mark = p.logs.length;
    p.child.kill('SIGTERM');
    await waitForLogFrom(p, mark, (l) => l.msg === 'still accepting requests before shutting down');
    assert.equal((await httpRequest(web, { path: '/service' })).status, 200);
    assert.equal((await httpRequest(traefik, { path: '/ping' })).status, 503);
    // It exits by itself, cleanly, once the grace period is over.
    assert.equal(await within(p.exited, 'the exit after the grace period', 20_000), 0);
  });
});

// fixtures/proxy/simple.toml, with `[providers.file]` reading it (without a provider Traefik
// ignores the static file's `[http]`, so the Go fixture as written routes nothing), and the
// traefik entry point declared: our API opens it, on 127.0.0.1:8082 when undeclared.
const proxySimple = `${GLOBAL}
[entryPoints]
  [entryPoints.web]
    address = ":8000"
  [entryPoints.traefik]
    address = ":8080"

[api]
  dashboard = true

[providers.file]
  filename = "{{ .SelfFilename }}"

[http]
  [http.routers]
    [http.routers.api]
      rule = "PathPrefix(\`/api\`)"
      service = "api@internal"
      entryPoints = ["web"]

    [http.routers.simple]
      rule = "PathPrefix(\`/\`)"
      service = "simple"
      entryPoints = ["web"]

  [http.services]
    [http.services.simple]
      [http.services.simple.loadBalancer]
        [[http.services.simple.loadBalancer.servers]]
          url = "{{ .BackendURL }}"
`;

describe('traefik integration/chunked_keepalive_test.go', () => {
  it('TestChunkedResponseWithKeepAlive: a chunked answer ends cleanly and the connection stays open', async () => {
    const b = await backend((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
      res.write('data chunk');
      res.end();
    });
    const p = await start(proxySimple, { BackendURL: b.url });
    const conn = await RawConn.open(p.ports.web!);
    open.push(async () => conn.destroy());
    for (let i = 0; i < 3; i++) {
      conn.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
      const r = await conn.readResponse();
      assert.equal(r.status, 200);
      assert.equal(r.body, 'data chunk');
      assert.notEqual(r.headers.get('connection'), 'close');
    }
    assert.equal(conn.isClosed, false);
  });

  it('TestChunkedResponseRawTCP: a hand-written chunked answer reaches the client chunked, then a second request', async () => {
    // The Go backend hijacks the connection and writes the chunked response itself.
    const b = await backend((req, res) => {
      const socket = req.socket;
      res.detachSocket(socket);
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n');
      socket.write('a\r\ndata chunk\r\n');
      socket.end('0\r\n\r\n');
    });
    const p = await start(proxySimple, { BackendURL: b.url });
    const conn = await RawConn.open(p.ports.web!);
    open.push(async () => conn.destroy());
    const request = `GET / HTTP/1.1\r\nHost: 127.0.0.1:${p.ports.web}\r\nConnection: keep-alive\r\n\r\n`;
    conn.write(request);
    const first = await conn.readResponse();
    assert.equal(first.status, 200);
    assert.match(first.headers.get('transfer-encoding') ?? '', /chunked/i);
    assert.equal(first.body, 'data chunk');
    conn.write(request);
    assert.equal((await conn.readResponse()).status, 200);
  });
});

describe('traefik integration/routing_test.go', () => {
  it('TestMultiLayerRoutingWithAuth: child routers pick the service from the header the auth server set', async () => {
    // The Go test's authHandler: a bearer token names a user and a role.
    const users: Record<string, [string, string]> = {
      'bob-token': ['admin', 'bob'],
      'jack-token': ['developer', 'jack'],
      'alice-token': ['guest', 'alice'],
    };
    const auth = await backend((req, res) => {
      const header = req.headers.authorization ?? '';
      const user = header.startsWith('Bearer ') ? users[header.slice('Bearer '.length)] : undefined;
      if (user === undefined) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'X-User-Role': user[0], 'X-User-Name': user[1] }).end();
    });
    const admin = await startWhoami('whoami-admin');
    const developer = await startWhoami('whoami-developer');
    open.push(
      () => admin.close(),
      () => developer.close(),
    );
    const p = await start(
      `${GLOBAL}
[entryPoints]
  [entryPoints.web]
    address = ":8000"

[api]
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

## Dynamic Configuration ##

[http.middlewares]
  [http.middlewares.auth-middleware.forwardAuth]
    address = "http://127.0.0.1:{{ .AuthPort }}/auth"
    authResponseHeaders = ["X-User-Role", "X-User-Name"]

[http.services]
  [http.services.admin-service.loadBalancer]
    [[http.services.admin-service.loadBalancer.servers]]
      url = "{{ .Admin }}"

  [http.services.developer-service.loadBalancer]
    [[http.services.developer-service.loadBalancer.servers]]
      url = "{{ .Developer }}"

[http.routers]
  # Parent router: matches path, applies auth middleware
  [http.routers.parent-router]
    rule = "PathPrefix(\`/whoami\`)"
    middlewares = ["auth-middleware"]

  # Child router for admin role
  [http.routers.admin-router]
    rule = "Header(\`X-User-Role\`, \`admin\`)"
    service = "admin-service"
    parentRefs = ["parent-router"]

  # Child router for developer role
  [http.routers.developer-router]
    rule = "Header(\`X-User-Role\`, \`developer\`)"
    service = "developer-service"
    parentRefs = ["parent-router"]
`,
      { AuthPort: String(auth.port), Admin: admin.url, Developer: developer.url },
    );
    const get = (token?: string) =>
      httpRequest(p.ports.web!, {
        path: '/whoami',
        headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
      });
    const bob = await get('bob-token');
    assert.equal(bob.status, 200);
    assert.ok(bob.text.includes('whoami-admin'), bob.text);
    const jack = await get('jack-token');
    assert.equal(jack.status, 200);
    assert.ok(jack.text.includes('whoami-developer'), jack.text);
    assert.equal((await get('invalid-token')).status, 401);
    assert.equal((await get()).status, 401);
    // A role no child router matches.
    assert.equal((await get('alice-token')).status, 404);
  });
});
