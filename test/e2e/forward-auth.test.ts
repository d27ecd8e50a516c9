/**
 * forwardAuth through the real proxy: an auth server written here (node:http, keep-alive), a
 * backend, and curl as the client. The auth server says yes to `Authorization: Bearer good`,
 * redirects /login-needed, and refuses the rest with its own status, fields and body.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TestPki } from '../../src/upstream/test-pki.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

function authHandler(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const uri = String(req.headers['x-forwarded-uri'] ?? '');
  if (uri.endsWith('/forbidden')) {
    res.writeHead(403, { 'Content-Type': 'text/plain' });
    res.end('forbidden');
    return;
  }
  // Locations Go's url.Parse accepts and WHATWG's parser refuses (a port over 65535), and one
  // both refuse (a port that is not a number).
  const odd = /\/odd-location\/(\w+)$/.exec(uri);
  if (odd !== null) {
    const locations: Record<string, string> = {
      port: 'http://login.test:99999/next?x=1',
      schemeless: '//login.test:99999/p',
      bad: 'http://login.test:8o/',
    };
    res.writeHead(302, { Location: locations[odd[1]!]! });
    res.end();
    return;
  }
  if (uri.endsWith('/login-needed')) {
    res.writeHead(302, { Location: '/login?next=1' });
    res.end();
    return;
  }
  if (req.headers.authorization !== 'Bearer good') {
    res.writeHead(401, {
      'WWW-Authenticate': 'Bearer realm="auth"',
      'Content-Type': 'application/json',
      'X-Reason': 'no token',
    });
    res.end('{"error":"denied"}');
    return;
  }
  res.setHeader('X-Auth-User', 'alice');
  res.setHeader('X-Auth-Role', 'admin');
  res.setHeader('X-Other', 'not copied');
  res.setHeader('Set-Cookie', ['session=s3cr3t; Path=/; HttpOnly', 'tracking=1']);
  res.end('ok');
}

describe('forwardAuth through the proxy', () => {
  let auth: Backend;
  let backend: Backend;
  let proxy: ProxyProcess;
  let base: string;
  let trusted: string;
  let authConnections = 0;

  before(async () => {
    auth = await startBackend(authHandler);
    auth.server.on('connection', () => authConnections++);
    backend = await startBackend((req, res) => {
      res.setHeader('Set-Cookie', ['session=backend', 'theme=dark']);
      res.end(
        JSON.stringify({
          user: req.headers['x-auth-user'] ?? null,
          role: req.headers['x-auth-role'] ?? null,
          other: req.headers['x-other'] ?? null,
        }),
      );
    });
    proxy = await startProxy({
      entryPoints: 2,
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  trusted:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1/32"] }
log: { level: DEBUG }
http:
  middlewares:
    auth:
      forwardAuth:
        address: "${auth.url}/verify?src=proxy"
        authResponseHeaders: [X-Auth-User]
        authResponseHeadersRegex: "^X-Auth-R"
        addAuthCookiesToResponse: [session]
    auth-trusting:
      forwardAuth:
        address: "${auth.url}/verify"
        trustForwardHeader: true
        preserveRequestMethod: true
        preserveLocationHeader: true
    auth-down:
      forwardAuth:
        address: "http://127.0.0.1:1/verify"
    auth-small:
      forwardAuth:
        address: "${auth.url}/verify"
        maxResponseBodySize: 10
    auth-untrusting:
      forwardAuth:
        address: "${auth.url}/verify"
        trustForwardHeader: false
    auth-signin:
      forwardAuth:
        address: "${auth.url}/verify"
        authSigninURL: "https://login.test/signin?rd=a&b=<c>"
    auth-signin-rel:
      forwardAuth:
        address: "${auth.url}/verify"
        authSigninURL: "../login?next=1"
  routers:
    app: { rule: "PathPrefix(\`/app\`)", middlewares: [auth], service: be }
    trusting: { rule: "PathPrefix(\`/trusting\`)", middlewares: [auth-trusting], service: be }
    down: { rule: "PathPrefix(\`/down\`)", middlewares: [auth-down], service: be }
    small: { rule: "PathPrefix(\`/small\`)", middlewares: [auth-small], service: be }
    signin: { rule: "PathPrefix(\`/signin/\`)", middlewares: [auth-signin], service: be }
    untrusting: { rule: "PathPrefix(\`/untrusting\`)", middlewares: [auth-untrusting], service: be }
    signinrel: { rule: "PathPrefix(\`/signinrel/\`)", middlewares: [auth-signin-rel], service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
    base = `http://127.0.0.1:${proxy.ports['web']}`;
    trusted = `http://127.0.0.1:${proxy.ports['trusted']}`;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    await auth?.close();
  });

  it('relays the auth server refusal as it is: status, fields, body', async () => {
    const r = await curl([`${base}/app/x`]);
    assert.equal(r.status, 401);
    assert.deepEqual(r.headers['www-authenticate'], ['Bearer realm="auth"']);
    assert.deepEqual(r.headers['content-type'], ['application/json']);
    assert.deepEqual(r.headers['x-reason'], ['no token']);
    assert.equal(r.body.toString(), '{"error":"denied"}');
    assert.equal(backend.seen.filter((s) => s.url === '/app/x').length, 0);
  });

  it('asks the auth server with the client fields and X-Forwarded-*', async () => {
    await curl(['-H', 'Authorization: Bearer good', '-H', 'X-Forwarded-Uri: /forged', `${base}/app/a?b=c`]);
    const seen = auth.seen.at(-1)!;
    assert.equal(seen.method, 'GET');
    assert.equal(seen.url, '/verify?src=proxy');
    assert.equal(seen.headers.authorization, 'Bearer good');
    assert.equal(seen.headers['x-forwarded-method'], 'GET');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], base.slice('http://'.length));
    assert.equal(seen.headers['x-forwarded-uri'], '/app/a?b=c');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('lets a 2xx through with the chosen auth fields, replacing the client ones, and the auth cookie', async () => {
    const r = await curl([
      '-H',
      'Authorization: Bearer good',
      '-H',
      'X-Auth-User: mallory',
      `${base}/app/ok`,
    ]);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body.toString()), { user: 'alice', role: 'admin', other: null });
    // The auth server's session cookie replaces the backend's; the backend's others stay; the
    // auth server's cookies not listed do not come along.
    assert.deepEqual(r.headers['set-cookie'], ['theme=dark', 'session=s3cr3t; Path=/; HttpOnly']);
  });

  it('makes a relative Location absolute against the auth address, unless preserved', async () => {
    const r = await curl([`${base}/app/login-needed`]);
    assert.equal(r.status, 302);
    assert.deepEqual(r.headers.location, [`${auth.url}/login?next=1`]);
    const kept = await curl([`${trusted}/trusting/login-needed`]);
    assert.deepEqual(kept.headers.location, ['/login?next=1']);
  });

  it("resolves the refusal's Location with Go's url.Parse rules: a port over 65535 passes, a bad port is a 500", async () => {
    // forward.go: forwardResponse.Location() (url.Parse against the auth request's URL), then
    // redirectURL.String(); an error of url.Parse answers 500.
    const port = await curl([`${base}/app/odd-location/port`]);
    assert.equal(port.status, 302);
    assert.deepEqual(port.headers.location, ['http://login.test:99999/next?x=1']);
    const schemeless = await curl([`${base}/app/odd-location/schemeless`]);
    assert.equal(schemeless.status, 302);
    assert.deepEqual(schemeless.headers.location, ['http://login.test:99999/p']);
    const bad = await curl([`${base}/app/odd-location/bad`]);
    assert.equal(bad.status, 500);
  });

  it('keeps the request method and trusted X-Forwarded-* when asked to', async () => {
    const r = await curl([
      '-X',
      'POST',
      '-H',
      'Authorization: Bearer good',
      '-H',
      'X-Forwarded-Uri: /from-front-proxy',
      '-H',
      'X-Forwarded-Proto: https',
      `${trusted}/trusting/p`,
    ]);
    assert.equal(r.status, 200);
    const seen = auth.seen.at(-1)!;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.headers['content-length'], '0');
    assert.equal(seen.headers['x-forwarded-uri'], '/from-front-proxy');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['x-forwarded-method'], 'POST');
  });

  it('drops the X- fields Traefik manages with trustForwardHeader: false, and passes them when not set', async () => {
    const front = [
      '-H',
      'Authorization: Bearer good',
      '-H',
      'X-Forwarded-Prefix: /admin',
      '-H',
      'X-Forwarded-Proto: https',
      '-H',
      'X-Forwarded-For: 203.0.113.9',
    ];
    // From a trusted front proxy, not set: Traefik's oldWriteHeader copies what it does not set.
    assert.equal((await curl([...front, `${trusted}/app/unset`])).status, 200);
    let seen = auth.seen.at(-1)!;
    assert.equal(seen.headers['x-forwarded-prefix'], '/admin');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    // false: writeHeader drops every one of them, then describes the request itself.
    assert.equal((await curl([...front, `${trusted}/untrusting/x`])).status, 200);
    seen = auth.seen.at(-1)!;
    assert.equal(seen.headers['x-forwarded-prefix'], undefined);
    assert.equal(seen.headers['x-real-ip'], undefined);
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-port'], String(proxy.ports['trusted']));
    assert.equal(seen.headers['x-forwarded-uri'], '/untrusting/x');
  });

  // Traefik v3.6.14: a forwardAuth without trustForwardHeader gets a warning, one with it none.
  it('warns of a forwardAuth whose trustForwardHeader is not set', () => {
    const warned = proxy.logs
      .filter((l) => String(l.msg).startsWith('forwardAuth.trustForwardHeader is not set'))
      .map((l) => String(l['middleware']));
    assert.ok(
      warned.includes('auth@file') || warned.some((m) => m.startsWith('auth@')),
      JSON.stringify(warned),
    );
    assert.equal(
      warned.some((m) => m.startsWith('auth-trusting') || m.startsWith('auth-untrusting')),
      false,
      JSON.stringify(warned),
    );
  });

  it('reuses keep-alive connections to the auth server', async () => {
    const before = authConnections;
    const urls = Array.from({ length: 20 }, (_, i) => `${base}/app/k${i}`);
    const r = await curl(['-H', 'Authorization: Bearer good', ...urls]);
    assert.deepEqual(new Set(r.transfers.map((t) => t.status)), new Set([200]));
    // Sequential requests need one connection (a fresh one at most if an idle one had closed).
    assert.ok(authConnections - before <= 1, `${authConnections - before} new connections`);
  });

  it('answers 401 when the auth answer is longer than maxResponseBodySize, and passes a shorter one', async () => {
    // The refusal's body is 18 bytes, over the limit of 10: not relayed; Traefik's forward.go
    // answers 401 (errResponseBodyTooLarge).
    const refused = await curl([`${base}/small/x`]);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.length, 0);
    assert.notEqual(refused.body.toString(), '{"error":"denied"}');
    // The grant's body is `ok`: within it.
    const granted = await curl(['-H', 'Authorization: Bearer good', `${base}/small/y`]);
    assert.equal(granted.status, 200);
    assert.ok(backend.seen.some((s) => s.url === '/small/y'));
  });

  it('redirects a 401 of the auth server to authSigninURL with 302, as Go http.Redirect writes it', async () => {
    const r = await curl([`${base}/signin/x`]);
    assert.equal(r.status, 302);
    assert.deepEqual(r.headers.location, ['https://login.test/signin?rd=a&b=<c>']);
    assert.deepEqual(r.headers['content-type'], ['text/html; charset=utf-8']);
    assert.equal(
      r.body.toString(),
      '<a href="https://login.test/signin?rd=a&amp;b=&lt;c&gt;">Found</a>.\n\n',
    );
    assert.equal(r.headers['www-authenticate'], undefined, "the auth server's fields are not relayed");
    assert.equal(backend.seen.filter((s) => s.url === '/signin/x').length, 0);
    // Another method: no body, no Content-Type.
    const post = await curl(['-X', 'POST', `${base}/signin/x`]);
    assert.equal(post.status, 302);
    assert.equal(post.headers['content-type'], undefined);
    assert.equal(post.body.length, 0);
  });

  it('resolves a relative authSigninURL against the request path, and relays other refusals as they are', async () => {
    const r = await curl([`${base}/signinrel/a/b/c`]);
    assert.equal(r.status, 302);
    assert.deepEqual(r.headers.location, ['/signinrel/a/login?next=1']);
    const forbidden = await curl([`${base}/signin/forbidden`]);
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.toString(), 'forbidden');
    const granted = await curl(['-H', 'Authorization: Bearer good', `${base}/signin/ok`]);
    assert.equal(granted.status, 200);
  });

  it('answers 500 when the auth server cannot be reached', async () => {
    const r = await curl([`${base}/down`]);
    assert.equal(r.status, 500);
  });
});

describe('forwardAuth to an https auth server', () => {
  let pki: TestPki;
  let auth: Server;
  let backend: Backend;
  let proxy: ProxyProcess;
  let base: string;

  before(async () => {
    pki = new TestPki('Auth CA');
    const server = pki.issue('auth', ['127.0.0.1']);
    const client = pki.issue('proxy', []);
    // The auth server wants a client certificate from our CA (mTLS).
    auth = createServer(
      {
        cert: server.certPem,
        key: server.keyPem,
        ca: pki.ca.certPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        req.resume();
        res.setHeader('X-Auth-User', 'tls-user');
        res.end();
      },
    );
    await new Promise<void>((r) => auth.listen(0, '127.0.0.1', r));
    const port = (auth.address() as AddressInfo).port;
    backend = await startBackend((req, res) => res.end(String(req.headers['x-auth-user'] ?? '-')));
    proxy = await startProxy({
      entryPoints: 1,
      files: { 'client.pem': client.certPem, 'client.key': client.keyPem, 'ca.pem': pki.ca.certPem },
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  middlewares:
    mtls:
      forwardAuth:
        address: "https://127.0.0.1:${port}/verify"
        authResponseHeaders: [X-Auth-User]
        tls: { ca: ca.pem, cert: client.pem, key: client.key }
    no-client-cert:
      forwardAuth: { address: "https://127.0.0.1:${port}/verify", tls: { ca: ca.pem } }
    unknown-ca:
      forwardAuth: { address: "https://127.0.0.1:${port}/verify", tls: { cert: client.pem, key: client.key } }
  routers:
    mtls: { rule: "PathPrefix(\`/mtls\`)", middlewares: [mtls], service: be }
    nocert: { rule: "PathPrefix(\`/nocert\`)", middlewares: [no-client-cert], service: be }
    unknown: { rule: "PathPrefix(\`/unknown\`)", middlewares: [unknown-ca], service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
    auth?.closeAllConnections();
    await new Promise<void>((r) => (auth ? auth.close(() => r()) : r()));
    pki?.remove();
  });

  it('verifies the auth server with tls.ca and presents tls.cert', async () => {
    const r = await curl([`${base}/mtls`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'tls-user');
  });

  it('answers 500 when the TLS handshake fails (no client certificate, or an unknown CA)', async () => {
    assert.equal((await curl([`${base}/nocert`])).status, 500);
    assert.equal((await curl([`${base}/unknown`])).status, 500);
  });
});
