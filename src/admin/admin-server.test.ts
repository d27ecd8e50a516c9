import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { jsonBody, startAdmin, type TestAdmin } from './test-admin.ts';

const API_RULE = 'Host(`a.example`) && PathPrefix(`/api`)';
const SITE_RULE = 'Host(`a.example`)';
const svc = { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9' }] } };

async function put(a: TestAdmin, path: string, body: unknown): Promise<void> {
  const r = await a.json(path, jsonBody('PUT', body));
  assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
}

/** svc, two middlewares in a chain, and two routers on the same host. */
async function withRoutes(t: TestContext, opts: Parameters<typeof startAdmin>[1] = {}): Promise<TestAdmin> {
  const a = await startAdmin(t, opts);
  await put(a, '/api/http/services/svc', svc);
  await put(a, '/api/http/middlewares/strip', { stripPrefix: { prefixes: ['/api'] } });
  await put(a, '/api/http/middlewares/add', { addPrefix: { prefix: '/v1' } });
  await put(a, '/api/http/middlewares/both', { chain: { middlewares: ['strip', 'add'] } });
  await put(a, '/api/http/routers/api', {
    rule: 'Host(`a.example`) && PathPrefix(`/api`)',
    service: 'svc',
    middlewares: ['both'],
    entryPoints: ['web'],
  });
  await put(a, '/api/http/routers/site', { rule: 'Host(`a.example`)', service: 'svc' });
  return a;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

describe('admin API reads', () => {
  it("answers every request to ping@internal with OK (Traefik's ping handler), and only ping@internal", async (t) => {
    const a = await startAdmin(t, { service: 'ping' });
    const r = await a.request('/ping');
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'OK');
    // Whatever the path the router sent, whatever the method.
    assert.equal(await (await a.request('/api/overview')).text(), 'OK');
    assert.equal(await (await a.request('/ping', { method: 'POST', body: 'x' })).text(), 'OK');
    // api@internal does not answer /ping: that is ping@internal's path.
    assert.equal((await a.request('/ping', { headers: { 'x-test-service': 'api' } })).status, 404);
  });

  it('serves the overview with reload counters and object counts', async (t) => {
    const a = await withRoutes(t);
    const r = await a.json('/api/overview');
    assert.deepEqual(r.body, {
      version: '1.2.3',
      generation: a.ref.current.generation,
      reloads: {
        applied: a.watcher.status.applied,
        rejected: 0,
        lastAppliedAt: a.watcher.status.lastAppliedAt,
        lastRejectedAt: 0,
        lastRejection: null,
      },
      http: {
        routers: { total: 2, warnings: 0, errors: 0 },
        services: { total: 1, warnings: 0, errors: 0 },
        middlewares: { total: 3, warnings: 0, errors: 0 },
      },
      tcp: {
        routers: { total: 0, warnings: 0, errors: 0 },
        services: { total: 0, warnings: 0, errors: 0 },
        middlewares: { total: 0, warnings: 0, errors: 0 },
      },
      udp: {
        routers: { total: 0, warnings: 0, errors: 0 },
        services: { total: 0, warnings: 0, errors: 0 },
      },
      issues: [],
      features: { tracing: '', metrics: '', accessLog: false },
    });
    // Traefik's handlers' Content-Type; `providers` left out when none is set (omitempty).
    assert.equal(r.headers.get('content-type'), 'application/json');
  });

  it('lists the providers with their state, and names them in the overview', async (t) => {
    const status = {
      name: 'etcd',
      phase: 'down' as const,
      since: 1,
      updates: 2,
      unchanged: 0,
      failures: 3,
      lastError: 'connect ECONNREFUSED 127.0.0.1:2379',
      lastErrorAt: 1,
      lastUpdateAt: 1,
      retryAt: 2,
      throttleMs: 2000,
      lastOutcome: null,
    };
    const a = await withRoutes(t, {
      server: { providers: { list: () => [status] }, overviewProviders: ['Etcd'] },
    });
    const r = await a.json('/api/providers');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, [status]);
    // The overview names them as Traefik's getProviders: the static provider's Go field name.
    assert.deepEqual(((await a.json('/api/overview')).body as { providers: unknown }).providers, ['Etcd']);
  });

  it('lists routers in the documented shape', async (t) => {
    const a = await withRoutes(t);
    const r = await a.json('/api/http/routers');
    assert.deepEqual(r.body, [
      {
        name: 'api@api',
        provider: 'api',
        rule: 'Host(`a.example`) && PathPrefix(`/api`)',
        priority: 'Host(`a.example`) && PathPrefix(`/api`)'.length,
        entryPoints: ['web'],
        middlewares: ['both@api'],
        service: 'svc@api',
        // Traefik's applyDefaultObservabilityModel: every unset key on.
        observability: { accessLogs: true, metrics: true, tracing: true, traceVerbosity: 'minimal' },
        status: 'enabled',
        issues: [],
        using: ['web'],
      },
      {
        name: 'site@api',
        provider: 'api',
        rule: 'Host(`a.example`)',
        priority: 'Host(`a.example`)'.length,
        entryPoints: ['web', 'traefik'],
        service: 'svc@api',
        observability: { accessLogs: true, metrics: true, tracing: true, traceVerbosity: 'minimal' },
        status: 'enabled',
        issues: [],
        // Traefik's using: the entry points served, sorted.
        using: ['traefik', 'web'],
      },
    ]);
  });

  it('finds one router by its qualified or its short name, and 404s an unknown one', async (t) => {
    const a = await withRoutes(t);
    const full = await a.json('/api/http/routers/site%40api');
    const short = await a.json('/api/http/routers/site');
    assert.equal((full.body as { name: string }).name, 'site@api');
    assert.deepEqual(short.body, full.body);
    assert.equal((await a.json('/api/http/routers/nope')).status, 404);
  });

  it('lists services with their servers, and one service with its config', async (t) => {
    const a = await withRoutes(t);
    const list = await a.json('/api/http/services');
    assert.deepEqual(list.body, [
      {
        name: 'svc@api',
        provider: 'api',
        type: 'loadbalancer',
        // Traefik's inline configuration (admin/traefik-config.ts), SetDefaults' defaults present.
        loadBalancer: {
          servers: [{ url: 'http://127.0.0.1:9' }],
          strategy: 'wrr',
          passHostHeader: true,
          responseForwarding: { flushInterval: '100ms' },
        },
        status: 'enabled',
        issues: [],
        servers: [
          {
            url: 'http://127.0.0.1:9',
            status: 'up',
            inFlight: 0,
            pool: { idle: 0, busy: 0, connecting: 0, opened: 0, closed: 0, reused: 0 },
          },
        ],
        serverStatus: { 'http://127.0.0.1:9': 'UP' },
        usedBy: ['api@api', 'site@api'],
      },
    ]);
    const one = (await a.json('/api/http/services/svc@api')).body as { config: { kind: string } };
    assert.equal(one.config.kind, 'loadBalancer');
    // Traefik's usedBy: the routers naming it directly (a chain's members are not counted).
    const both = (await a.json('/api/http/middlewares/both')).body as { usedBy: string[] };
    assert.deepEqual(both.usedBy, ['api@api']);
    // No router: no usedBy (Traefik's omitempty).
    const strip = (await a.json('/api/http/middlewares/strip')).body as { usedBy?: string[] };
    assert.equal(strip.usedBy, undefined);
  });

  it('names the children of a service that is not a load balancer', async (t) => {
    const a = await withRoutes(t);
    await put(a, '/api/http/services/split', { weighted: { services: [{ name: 'svc', weight: 1 }] } });
    const one = (await a.json('/api/http/services/split')).body as { type: string; services: string[] };
    assert.equal(one.type, 'weighted');
    assert.deepEqual(one.services, ['svc@api']);
  });

  it('lists middlewares with their type and config', async (t) => {
    const a = await withRoutes(t);
    const list = (await a.json('/api/http/middlewares')).body as {
      name: string;
      type: string;
      status: string;
      config: unknown;
    }[];
    assert.deepEqual(
      list.map((m) => [m.name, m.type, m.status]),
      [
        ['add@api', 'addprefix', 'enabled'],
        ['both@api', 'chain', 'enabled'],
        ['strip@api', 'stripprefix', 'enabled'],
      ],
    );
    assert.deepEqual(list[0]?.config, { prefix: '/v1' });
  });

  it("shows a router's tls as Traefik does, options defaulted to `default`", async (t) => {
    const a = await withRoutes(t);
    await put(a, '/api/http/routers/secure', { rule: 'Host(`s.example`)', service: 'svc', tls: {} });
    const r = (await a.json('/api/http/routers/secure')).body as { tls?: unknown };
    assert.deepEqual(r.tls, { options: 'default' });
    assert.equal(((await a.json('/api/http/routers/site')).body as { tls?: unknown }).tls, undefined);
  });

  it('serves entry points, the merged configuration and the version', async (t) => {
    const a = await withRoutes(t);
    // By name, as Traefik's getEntryPoints sorts them.
    assert.deepEqual((await a.json('/api/entrypoints')).body, [
      { name: 'traefik', address: '127.0.0.1:8081' },
      { name: 'web', address: ':8080' },
    ]);
    const raw = (await a.json('/api/rawdata')).body as { http: { routers: Record<string, unknown> } };
    assert.deepEqual(Object.keys(raw.http.routers).sort(), ['api@api', 'site@api']);
    const { startDate, ...version } = (await a.json('/api/version')).body as { startDate: string };
    assert.deepEqual(version, {
      version: '1.2.3',
      node: process.versions.node,
      Version: '1.2.3',
      Codename: '',
    });
    assert.equal(startDate, new Date(performance.timeOrigin).toISOString());
  });

  it('answers 404 to unknown paths and 405 to writes on read-only resources', async (t) => {
    const a = await startAdmin(t);
    assert.equal((await a.json('/api/nope')).status, 404);
    assert.equal((await a.json('/api/http/tcp')).status, 404);
    assert.equal((await a.json('/elsewhere')).status, 404);
    assert.equal((await a.json('/metrics')).status, 404);
    // Not resolved as a protocol-relative reference (host `x`, path `/api/overview`).
    assert.equal((await a.json('//x/api/overview')).status, 404);
    // As Traefik's gorilla/mux: Go's 404 page, and a bare 405 for a method (HEAD too) its GET
    // routes do not take.
    const nope = await a.request('/api/nope');
    assert.equal(nope.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await nope.text(), '404 page not found\n');
    for (const method of ['POST', 'HEAD', 'DELETE']) {
      const r = await a.request('/api/overview', { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.get('content-length'), '0', method);
      assert.equal(await r.text(), '', method);
    }
    // A method that writes nothing is answered by the route, whoever asks (Traefik has no write
    // refusal); a write from a client that may only read is still refused.
    const remote = await startAdmin(t, { peer: '192.0.2.7', server: { insecure: true } });
    const post = await remote.request('/api/overview', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(await post.text(), '');
    const put = await remote.request('/api/config', { method: 'PUT', body: '{}' });
    assert.equal(put.status, 403);
    await put.text();
    // Traefik's writeError: http.Error with `{"message":…}`.
    const missing = await a.request('/api/http/routers/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await missing.text(), '{"message":"router not found: nope"}\n');
    // url.PathUnescape's error, as Traefik's getRouter words it (the entry points refuse such a
    // target before it gets here; the admin server checks it all the same).
    const bad = await a.request('/api/http/routers/a%zz');
    assert.equal(bad.status, 400);
    assert.equal(
      await bad.text(),
      '{"message":"unable to decode routerID \\"a%zz\\": invalid URL escape \\"%zz\\""}\n',
    );
  });

  it('serves metrics and the dashboard when given, redirecting / to the dashboard', async (t) => {
    const files: Record<string, { type: string; body: string }> = {
      '': { type: 'text/html; charset=utf-8', body: '<!doctype html>' },
      'app.js': { type: 'text/javascript', body: 'void 0' },
    };
    const a = await startAdmin(t, {
      server: { metrics: { render: () => 'traffic_up 1\n' }, dashboard: (p) => files[p] },
    });
    const m = await a.request('/metrics', { headers: { 'x-test-service': 'prometheus' } });
    assert.equal(m.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(await m.text(), 'traffic_up 1\n');
    // Each service answers its own paths only.
    assert.equal((await a.request('/metrics')).status, 404, 'api@internal has no /metrics');
    const onlyDashboard = { headers: { 'x-test-service': 'dashboard' } };
    assert.equal((await a.request('/api/overview', onlyDashboard)).status, 404);
    assert.equal((await a.request('/dashboard/', onlyDashboard)).status, 200);
    for (const path of ['/', '/dashboard']) {
      const r = await a.request(path, { redirect: 'manual' });
      assert.equal(r.status, 302);
      assert.equal(new URL(r.headers.get('location')!, a.base + path).pathname, '/dashboard/');
    }
    // Traefik 3.6/3.7 had to validate the X-Forwarded-Prefix its dashboard redirect is built
    // from (an open redirect to `//evil.test/dashboard/`); ours never reads it.
    const spoofed = await a.request('/dashboard', {
      redirect: 'manual',
      headers: { 'x-forwarded-prefix': '//evil.test' },
    });
    assert.equal(spoofed.status, 302);
    const to = new URL(spoofed.headers.get('location')!, `${a.base}/dashboard`);
    assert.deepEqual([to.origin, to.pathname], [new URL(a.base).origin, '/dashboard/']);
    const page = await a.request('/dashboard/');
    assert.equal(await page.text(), '<!doctype html>');
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    const js = await a.request('/dashboard/app.js');
    assert.equal(js.headers.get('content-type'), 'text/javascript');
    assert.equal((await a.request('/dashboard/nope.js')).status, 404);
  });
});

describe('admin API explain', () => {
  it('names the matching router, the other candidates, the middleware chain and the service', async (t) => {
    const a = await withRoutes(t);
    const r = await a.json(`/api/explain?method=GET&url=${encodeURIComponent('http://a.example/api/x')}`);
    assert.deepEqual(r.body, {
      entryPoint: 'web',
      matched: 'api@api',
      candidates: [
        { name: 'api@api', priority: API_RULE.length, matched: true, rule: API_RULE },
        { name: 'site@api', priority: SITE_RULE.length, matched: true, rule: SITE_RULE },
      ],
      middlewares: ['strip@api', 'add@api'],
      service: 'svc@api',
    });
  });

  it('shows a candidate whose rule does not match, on the entry point asked for', async (t) => {
    const a = await withRoutes(t);
    const web = (await a.json('/api/explain?url=http://A.example./other')).body as {
      matched: string;
      candidates: { name: string; matched: boolean }[];
    };
    assert.equal(web.matched, 'site@api');
    assert.deepEqual(
      web.candidates.map((c) => [c.name, c.matched]),
      [
        ['api@api', false],
        ['site@api', true],
      ],
    );
    // `api` is on `web` only.
    const admin = (await a.json('/api/explain?entryPoint=traefik&url=http://a.example/api')).body as {
      matched: string;
    };
    assert.equal(admin.matched, 'site@api');
  });

  it('routes on the headers given, and reports no match', async (t) => {
    const a = await withRoutes(t);
    await put(a, '/api/http/routers/canary', { rule: 'Header(`X-Env`, `canary`)', service: 'svc' });
    const hit = await a.json(
      `/api/explain?url=http://b.example/&header=${encodeURIComponent('X-Env: canary')}`,
    );
    assert.equal((hit.body as { matched: string }).matched, 'canary@api');
    const miss = await a.json('/api/explain?url=http://b.example/');
    const body = miss.body as {
      entryPoint: string;
      matched: unknown;
      candidates: { name: string; matched: boolean }[];
    };
    assert.equal(body.entryPoint, 'web');
    assert.equal(body.matched, null);
    assert.deepEqual(
      body.candidates.map((c) => [c.name, c.matched]),
      [
        ['api@api', false],
        ['canary@api', false],
        ['site@api', false],
      ],
    );
  });

  it('answers 400 to a missing or malformed request', async (t) => {
    const a = await startAdmin(t);
    assert.equal((await a.json('/api/explain')).status, 400);
    assert.equal((await a.json('/api/explain?url=ftp://x/')).status, 400);
    assert.equal((await a.json('/api/explain?url=http://x/&method=G%20T')).status, 400);
    assert.equal((await a.json('/api/explain?url=http://x/&header=nocolon')).status, 400);
    assert.equal((await a.json('/api/explain?url=http://x/&entryPoint=nope')).status, 400);
  });
});

describe('admin API access', () => {
  const hash = createHash('sha256').update('pw').digest('hex');
  const auth = {
    bearerTokens: ['0123456789abcdef-token'],
    basicAuth: ['admin:secret', `ops:{SHA256}${hash}`],
  };

  it('wants credentials when auth is configured, with both challenges', async (t) => {
    const a = await startAdmin(t, { server: { auth } });
    const r = await a.request('/api/overview');
    assert.equal(r.status, 401);
    const challenge = r.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /Bearer realm="traffic"/);
    assert.match(challenge, /Basic realm="traffic"/);
  });

  it('accepts a configured bearer token and basic credentials, plain or hashed', async (t) => {
    const a = await startAdmin(t, { server: { auth } });
    const ok = async (authorization: string) =>
      (await a.request('/api/overview', { headers: { authorization } })).status;
    assert.equal(await ok('Bearer 0123456789abcdef-token'), 200);
    assert.equal(await ok('bearer 0123456789abcdef-token'), 200);
    assert.equal(await ok(basic('admin', 'secret')), 200);
    assert.equal(await ok(basic('ops', 'pw')), 200);
    assert.equal(await ok('Bearer 0123456789abcdef-tokeN'), 401);
    assert.equal(await ok(basic('admin', 'pw')), 401);
    assert.equal(await ok(basic('ops', hash)), 401);
    assert.equal(await ok('Digest x'), 401);
  });

  it('lets authenticated peers in from anywhere and answers /ping without credentials', async (t) => {
    const a = await startAdmin(t, { server: { auth }, peer: '192.0.2.7' });
    const r = await a.request('/api/version', { headers: { authorization: basic('admin', 'secret') } });
    assert.equal(r.status, 200);
    assert.equal((await a.request('/ping', { headers: { 'x-test-service': 'ping' } })).status, 200);
  });

  it('serves only loopback peers without auth', async (t) => {
    const a = await startAdmin(t, { peer: '192.0.2.7' });
    assert.equal((await a.request('/api/overview')).status, 403);
    const mapped = await startAdmin(t, { peer: '::ffff:127.0.0.1' });
    assert.equal((await mapped.request('/api/overview')).status, 200);
  });

  it('serves any peer without auth when insecure', async (t) => {
    const a = await startAdmin(t, { peer: '192.0.2.7', server: { insecure: true } });
    assert.equal((await a.request('/api/overview')).status, 200);
  });

  it('refuses a Host that does not name loopback when serving without auth (DNS rebinding)', async (t) => {
    const a = await startAdmin(t);
    // fetch does not let a caller set Host; a raw request does.
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${a.base}/api/overview`, { headers: { host: 'rebind.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 403);
    const local = await new Promise<number>((resolve, reject) => {
      const req = request(`${a.base}/api/overview`, { headers: { host: 'localhost:1' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(local, 200);
  });
});
