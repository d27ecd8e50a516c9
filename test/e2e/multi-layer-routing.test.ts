/**
 * Traefik's multi-layer routing (v3.6; pkg/server/router/router.go ParseRouterTree and
 * buildChildRoutersMuxer): a router without a service is the parent of the routers naming it in
 * `parentRefs`. A request matching the parent runs its middlewares, then is matched against the
 * children as those middlewares left it (a header forwardAuth added, the path stripPrefix cut);
 * none matching is Go's 404. A child is never routed by itself; the tree's errors leave routers
 * out as Traefik does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { httpRequest } from '../helpers/http-request.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { errorIssues, within } from '../helpers/wait.ts';

describe('multi-layer routing (parentRefs)', () => {
  let proxy: ProxyProcess;
  let auth: Backend;
  let admin: Backend;
  let user: Backend;
  before(async () => {
    // The authentication server: the token names the role it answers in X-User-Role.
    auth = await startBackend((req, res) => {
      const role = /^Bearer (admin|user)$/.exec(req.headers.authorization ?? '')?.[1];
      if (role === undefined) res.writeHead(401).end('who are you?');
      else res.writeHead(200, { 'x-user-role': role }).end();
    });
    admin = await startBackend((req, res) => res.end(`admin ${req.url}`));
    user = await startBackend((req, res) => res.end(`user ${req.url}`));
    proxy = await startProxy({
      // forwardAuth's `address:` is no entry point.
      entryPoints: 2,
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: DEBUG }
api: {}
metrics:
  prometheus: { addRoutersLabels: true }
accessLog: { format: json }
http:
  routers:
    api:
      rule: "PathPrefix(\`/api\`)"
      middlewares: [auth, strip]
      entryPoints: [web]
    api-admin:
      rule: "Header(\`X-User-Role\`, \`admin\`)"
      service: admin
      parentRefs: [api]
    api-user:
      rule: "Header(\`X-User-Role\`, \`user\`) && PathPrefix(\`/items\`)"
      service: user
      parentRefs: [api]
    # Traefik's tree checks: each of these is left out with an error.
    bad-eps:
      rule: "Path(\`/x\`)"
      service: admin
      parentRefs: [api]
      entryPoints: [web]
    both:
      rule: "PathPrefix(\`/both\`)"
      service: admin
    under-both:
      rule: "PathPrefix(\`/\`)"
      service: user
      parentRefs: [both]
    orphan-parent:
      rule: "PathPrefix(\`/orphan\`)"
  middlewares:
    auth:
      forwardAuth:
        address: "${auth.url}"
        authResponseHeaders: [X-User-Role]
    strip:
      stripPrefix:
        prefixes: [/api]
  services:
    admin:
      loadBalancer:
        servers: [{ url: "${admin.url}" }]
    user:
      loadBalancer:
        servers: [{ url: "${user.url}" }]
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all([auth?.close(), admin?.close(), user?.close()]);
  });

  /** node:http, so that any header may be sent. */
  const get = (path: string, headers: Record<string, string> = {}) =>
    httpRequest(proxy.port, { path, headers });

  it("routes by what the parent's middlewares set: forwardAuth's header, stripPrefix's path", async () => {
    assert.deepEqual(
      { ...(await get('/api/dashboard', { authorization: 'Bearer admin' })), headers: undefined },
      { status: 200, headers: undefined, text: 'admin /dashboard' },
    );
    const r = await get('/api/items/7', { authorization: 'Bearer user' });
    assert.equal(r.text, 'user /items/7');
    // The client's own X-User-Role is replaced by the authentication server's before the children match.
    const spoofed = await get('/api/items/7', { authorization: 'Bearer user', 'x-user-role': 'admin' });
    assert.equal(spoofed.text, 'user /items/7');
  });

  it("answers Go's 404 when no child matches, and the parent's middleware answers itself", async () => {
    const none = await get('/api/other', { authorization: 'Bearer user' });
    assert.equal(none.status, 404);
    assert.equal(none.text, '404 page not found\n');
    const refused = await get('/api/items', {});
    assert.equal(refused.status, 401);
    assert.equal(refused.text, 'who are you?');
  });

  it('never routes a child by itself', async () => {
    const r = await get('/dashboard', { 'x-user-role': 'admin' });
    assert.equal(r.status, 404);
    assert.equal(
      admin.seen.filter((s) => s.url === '/dashboard' && s.headers.authorization === undefined).length,
      0,
    );
  });

  it("leaves out, with Traefik's errors, a child with entryPoints, a parent with a service, a parent without children", async () => {
    const issues = errorIssues(proxy, 0).join('\n');
    assert.match(
      issues,
      /http\.routers\.bad-eps\.entryPoints: a child router \(with parentRefs\) cannot have entryPoints/,
    );
    assert.match(issues, /http\.routers\.both\.service: router has both a service and child routers/);
    assert.match(issues, /http\.routers\.orphan-parent: router has no service and no child routers/);
    // `both` is left out whole: its path is no one's.
    assert.equal((await get('/both/x')).status, 404);
    assert.equal((await get('/orphan')).status, 404);
  });

  it("logs the child router's name for a request it served", async () => {
    await get('/api/items/log-me', { authorization: 'Bearer user' });
    const stream = proxy.child.stdout!;
    const find = () =>
      proxy
        .stdout()
        .split('\n')
        .find((l) => l.includes('/api/items/log-me'));
    // The access log is written asynchronously: wait for its line.
    const text = await within(
      new Promise<string>((resolve) => {
        const check = (): void => {
          const l = find();
          if (l === undefined) return;
          stream.off('data', check);
          resolve(l);
        };
        stream.on('data', check);
        check();
      }),
      'the access log line',
    );
    const line = JSON.parse(text) as { RouterName: string; ServiceName: string };
    assert.equal(line?.RouterName, 'api-user@file');
    assert.equal(line?.ServiceName, 'user@file');
  });

  it('keeps the child routers in the API (enabled) and their metrics series across scrapes', async () => {
    const admin = proxy.ports['traefik']!;
    const r = await httpRequest(admin, { path: '/api/http/routers/api-user@file' });
    assert.equal(r.status, 200, r.text);
    const view = JSON.parse(r.text) as {
      status: string;
      parentRefs?: string[];
      entryPoints: string[];
      using: string[];
    };
    assert.equal(view.status, 'enabled');
    assert.deepEqual(view.parentRefs, ['api@file']);
    // No default entry points for a child, as Traefik's mergeConfiguration (pkg/server/aggregator.go).
    assert.deepEqual(view.entryPoints, []);
    assert.deepEqual(view.using, []);
    const count = async (): Promise<number> => {
      const text = (await httpRequest(admin, { path: '/metrics' })).text;
      const line = text
        .split('\n')
        .find((l) => l.startsWith('traefik_router_requests_total{') && l.includes('router="api-user@file"'));
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    await get('/api/items/1', { authorization: 'Bearer user' });
    const first = await count();
    assert.ok(first >= 1, `first scrape: ${first}`);
    await get('/api/items/2', { authorization: 'Bearer user' });
    // A series pruned after the first scrape would start again from 1.
    assert.equal(await count(), first + 1);
  });
});
