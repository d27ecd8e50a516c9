/**
 * The admin API against the real proxy process (src/main.ts wiring: ApiProvider beside the file
 * provider, AdminServer on the `api.entryPoint`), with real backends and fetch as the client.
 * One proxy is shared by the read, write, explain and health tests (each write test uses names of
 * its own); auth, readOnly and persistence each get a proxy of their own. Every write is answered
 * once the watcher has applied it, so routing is checked right after the answer, without waiting.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AdminClient,
  type AdminReply,
  type ErrorJson,
  type MiddlewareJson,
  type RouterJson,
  type ServiceJson,
  type WriteJson,
} from '../helpers/admin-client.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type KillableBackend, startKillableBackend } from '../helpers/killable-backend.ts';
import { WEB_AND_TRAEFIK } from '../helpers/provider-config.ts';
import { type ProxyProcess, ROOT, startProxy } from '../helpers/proxy-process.ts';
import { runCli } from '../helpers/run-cli.ts';
import { waitApplied } from '../helpers/wait.ts';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Answers `<name> <method> <url> tag=<X-Tag>`: which backend, what path, which middlewares ran. */
function echo(name: string): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    req.resume();
    res.end(`${name} ${req.method} ${req.url} tag=${String(req.headers['x-tag'] ?? '-')}`);
  };
}

interface Reply {
  readonly status: number;
  readonly body: string;
}

async function get(port: number, path: string): Promise<Reply> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text() };
}

/** The file provider's part: routers by path prefix (fetch cannot set Host). */
function fileDynamic(app: string, watched: string): string {
  return `http:
  routers:
    shop: { rule: "PathPrefix(\`/shop\`)", service: app, middlewares: [tag] }
    shop-v2: { rule: "PathPrefix(\`/shop/v2\`)", service: app, middlewares: [v2] }
    shop-beta: { rule: "PathPrefix(\`/shop/v2\`) && Header(\`X-Beta\`, \`1\`)", service: watched }
    watched: { rule: "PathPrefix(\`/watched\`)", service: watched, entryPoints: [web] }
  services:
    app:
      loadBalancer:
        servers: [{ url: "${app}" }]
    watched:
      loadBalancer:
        servers: [{ url: "${watched}" }]
        healthCheck: { path: /health, interval: 100ms, timeout: 1s }
  middlewares:
    tag: { headers: { customRequestHeaders: { X-Tag: shop } } }
    strip: { stripPrefix: { prefixes: [/shop/v2] } }
    v2: { chain: { middlewares: [strip, tag] } }
`;
}

function staticConfig(api: string): string {
  return `${WEB_AND_TRAEFIK}log: { level: INFO }
ping: {}
api: ${api}
`;
}

/**
 * Starts a proxy and waits until its first configuration is applied: the watcher waits for every
 * provider's first update (the file's and the API's) and applies them as one generation.
 */
async function startAdminProxy(config: string): Promise<{ proxy: ProxyProcess; admin: AdminClient }> {
  const proxy = await startProxy({ config });
  try {
    await waitApplied(proxy, 1);
    const port = proxy.ports['traefik'];
    assert.ok(port, `the traefik entry point is listening: ${JSON.stringify(proxy.ports)}`);
    return { proxy, admin: new AdminClient(`http://127.0.0.1:${port}`) };
  } catch (e) {
    await proxy.stop('SIGKILL');
    throw e;
  }
}

describe('admin API (e2e)', () => {
  let a: Backend;
  let b: Backend;
  let k: KillableBackend;
  let proxy: ProxyProcess;
  let admin: AdminClient;
  let web: number;

  before(async () => {
    [a, b, k] = await Promise.all([
      startBackend(echo('A')),
      startBackend(echo('B')),
      startKillableBackend('K'),
    ]);
    ({ proxy, admin } = await startAdminProxy(staticConfig('{}') + fileDynamic(a.url, k.url)));
    web = proxy.ports['web'] ?? 0;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([a?.close(), b?.close(), k?.close()]);
  });

  /** The generation the proxy serves now, from the overview. */
  async function generation(): Promise<number> {
    const r = await admin.get<{ generation: number }>('/api/overview');
    assert.equal(r.status, 200);
    return r.body.generation;
  }

  it('serves /ping, /api/overview, /api/entrypoints and /api/version on the admin entry point only', async () => {
    const ping = await admin.get('/ping');
    assert.equal(ping.status, 200);
    assert.equal(ping.text, 'OK');

    const overview = await admin.get<{
      version: string;
      generation: number;
      reloads: { applied: number; rejected: number; lastAppliedAt: number; lastRejection: unknown };
      http: Record<
        'routers' | 'services' | 'middlewares',
        { total: number; warnings: number; errors: number }
      >;
    }>('/api/overview');
    assert.equal(overview.status, 200);
    assert.match(overview.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(overview.body.version, VERSION);
    assert.equal(overview.body.generation, 1, 'the file and the API providers start as one generation');
    assert.equal(overview.body.reloads.applied, 1);
    assert.equal(overview.body.reloads.rejected, 0);
    assert.equal(overview.body.reloads.lastRejection, null);
    assert.ok(overview.body.reloads.lastAppliedAt > 0);
    // Traefik's counts take its internal provider's objects (pkg/provider/traefik/internal.go):
    // the ping@internal router; the services api, dashboard, noop and ping@internal.
    assert.deepEqual(overview.body.http.routers, { total: 5, warnings: 0, errors: 0 });
    assert.equal(overview.body.http.services.total, 6);
    assert.equal(overview.body.http.services.errors, 0);
    assert.deepEqual(overview.body.http.middlewares, { total: 3, warnings: 0, errors: 0 });
    assert.deepEqual((overview.body as { features?: unknown }).features, {
      tracing: '',
      metrics: '',
      accessLog: false,
    });

    const eps = await admin.get<{ name: string; address: string }[]>('/api/entrypoints');
    assert.equal(eps.status, 200);
    assert.deepEqual(
      eps.body.map((e) => e.name),
      ['traefik', 'web'],
    );
    for (const e of eps.body) assert.equal(typeof e.address, 'string');

    const version = await admin.get('/api/version');
    assert.equal(version.status, 200);
    const { startDate, ...rest } = version.body as { startDate: string };
    assert.deepEqual(rest, { version: VERSION, node: process.versions.node, Version: VERSION, Codename: '' });
    // Traefik's startDate: when the proxy started, before it answered.
    assert.match(startDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Date.parse(startDate) <= Date.now(), startDate);

    assert.equal((await admin.get('/api/nowhere')).status, 404);
    const notAllowed = await admin.send('POST', '/api/overview');
    assert.equal(notAllowed.status, 405);
    assert.match(notAllowed.headers.get('allow') ?? '', /GET/);

    // The proxy entry point routes these paths like any other (no router matches them): the
    // admin API is not reachable through it.
    for (const path of ['/ping', '/api/overview', '/api/entrypoints', '/api/version']) {
      const r = await get(web, path);
      assert.equal(r.status, 404, `${path} on the web entry point`);
      assert.notEqual(r.body, 'OK');
      assert.doesNotMatch(r.body, /"generation"|"node"/);
    }
  });

  it('lists the file provider routers, services (servers up, pool counters) and middlewares', async () => {
    // Two requests one after the other, for the pool counters.
    assert.equal((await get(web, '/shop/one')).body, 'A GET /shop/one tag=shop');
    assert.equal((await get(web, '/shop/two')).body, 'A GET /shop/two tag=shop');

    const routers = await admin.get<RouterJson[]>('/api/http/routers');
    assert.equal(routers.status, 200);
    const fileRouters = routers.body.filter((r) => r.provider === 'file');
    assert.deepEqual(
      fileRouters.map((r) => r.name),
      ['shop-beta@file', 'shop-v2@file', 'shop@file', 'watched@file'],
    );
    const shop = fileRouters.find((r) => r.name === 'shop@file');
    assert.ok(shop);
    const { entryPoints: shopEntryPoints, ...shopRest } = shop;
    assert.deepEqual(shopRest, {
      name: 'shop@file',
      provider: 'file',
      rule: 'PathPrefix(`/shop`)',
      priority: 'PathPrefix(`/shop`)'.length,
      middlewares: ['tag@file'],
      service: 'app@file',
      // Traefik's applyDefaultObservabilityModel (pkg/server/aggregator.go).
      observability: { accessLogs: true, metrics: true, tracing: true, traceVerbosity: 'minimal' },
      status: 'enabled',
      issues: [],
      using: ['web'],
    });
    const v2 = fileRouters.find((r) => r.name === 'shop-v2@file');
    assert.deepEqual(v2?.middlewares, ['v2@file']);
    assert.deepEqual(fileRouters.find((r) => r.name === 'watched@file')?.entryPoints, ['web']);
    const one = await admin.get<RouterJson>('/api/http/routers/shop%40file');
    assert.deepEqual(one.body, shop);
    assert.deepEqual((await admin.get<RouterJson>('/api/http/routers/shop')).body, shop, 'short name');
    assert.equal((await admin.get('/api/http/routers/nope')).status, 404);

    const services = await admin.get<ServiceJson[]>('/api/http/services');
    assert.equal(services.status, 200);
    const app = services.body.find((s) => s.name === 'app@file');
    assert.ok(app, JSON.stringify(services.body));
    assert.equal(app.provider, 'file');
    assert.equal(app.type, 'loadbalancer');
    assert.equal(app.status, 'enabled');
    assert.deepEqual(app.issues, []);
    assert.equal(app.servers?.length, 1);
    const server = app.servers[0]!;
    assert.equal(new URL(server.url).port, String(a.port));
    assert.equal(server.status, 'up');
    assert.equal(server.inFlight, 0);
    // Each of the two requests opened a connection or reused an idle one.
    assert.ok(server.pool.opened >= 1, JSON.stringify(server.pool));
    assert.equal(server.pool.opened + server.pool.reused, 2, JSON.stringify(server.pool));
    assert.equal(server.pool.busy, 0);
    assert.equal(server.pool.connecting, 0);
    const detail = await admin.get<ServiceJson>('/api/http/services/app%40file');
    assert.equal(detail.status, 200);
    assert.equal(detail.body.name, 'app@file');
    assert.ok(detail.body.config !== undefined, 'one service comes with its config');

    const middlewares = await admin.get<MiddlewareJson[]>('/api/http/middlewares');
    assert.equal(middlewares.status, 200);
    const byName = new Map(middlewares.body.map((m) => [m.name, m]));
    assert.deepEqual(
      [...byName.values()].filter((m) => m.provider === 'file').map((m) => [m.name, m.type, m.status]),
      [
        ['strip@file', 'stripprefix', 'enabled'],
        ['tag@file', 'headers', 'enabled'],
        ['v2@file', 'chain', 'enabled'],
      ],
    );
    const tag = byName.get('tag@file')?.config as { customRequestHeaders?: Record<string, string> };
    assert.equal(tag.customRequestHeaders?.['X-Tag'], 'shop');

    // No entryPoints in the file: the router serves every proxy entry point, and only those (an
    // admin entry point proxies nothing).
    assert.deepEqual(shopEntryPoints, ['web'], 'shop@file is served on web only');
  });

  it("pages, filters and sorts lists with Traefik's parameters (X-Next-Page, 400s, {message})", async () => {
    const names = (r: AdminReply<RouterJson[]>): string[] => r.body.map((x) => x.name);
    const p1 = await admin.get<RouterJson[]>('/api/http/routers?search=shop&per_page=2');
    assert.equal(p1.status, 200);
    assert.deepEqual(names(p1), ['shop-beta@file', 'shop-v2@file']);
    assert.equal(p1.headers.get('x-next-page'), '2');
    const p2 = await admin.get<RouterJson[]>('/api/http/routers?search=shop&per_page=2&page=2');
    assert.deepEqual(names(p2), ['shop@file']);
    assert.equal(p2.headers.get('x-next-page'), '1', 'the last page names page 1');
    const past = await admin.get<ErrorJson & { message: string }>(
      '/api/http/routers?search=shop&per_page=2&page=3',
    );
    assert.equal(past.status, 400);
    assert.equal(past.body.message, 'invalid request: page: 3, per_page: 2');
    const zero = await admin.get<{ message: string }>('/api/http/routers?per_page=0');
    assert.equal(zero.status, 400);
    assert.equal(zero.body.message, 'invalid request: per_page: 0');
    // The search reads rules too; serviceName with or without its provider; middlewareName as written.
    assert.deepEqual(names(await admin.get<RouterJson[]>('/api/http/routers?search=%2Fwatched')), [
      'watched@file',
    ]);
    assert.deepEqual(names(await admin.get<RouterJson[]>('/api/http/routers?serviceName=app')), [
      'shop-v2@file',
      'shop@file',
    ]);
    assert.deepEqual(names(await admin.get<RouterJson[]>('/api/http/routers?serviceName=watched@file')), [
      'shop-beta@file',
      'watched@file',
    ]);
    // Traefik's filterMiddleware compares the name as the router writes it (`tag`).
    assert.deepEqual(names(await admin.get<RouterJson[]>('/api/http/routers?middlewareName=tag')), [
      'shop@file',
    ]);
    assert.deepEqual(names(await admin.get<RouterJson[]>('/api/http/routers?middlewareName=tag@file')), []);
    assert.deepEqual(
      names(await admin.get<RouterJson[]>('/api/http/routers?search=shop&sortBy=priority&direction=desc')),
      ['shop-beta@file', 'shop-v2@file', 'shop@file'],
    );
    const services = await admin.get<ServiceJson[]>('/api/http/services?status=enabled&search=APP');
    assert.deepEqual(
      services.body.map((x) => x.name),
      ['app@file'],
    );
    const mws = await admin.get<MiddlewareJson[]>(
      '/api/http/middlewares?search=%40file&sortBy=type&direction=asc',
    );
    assert.deepEqual(
      mws.body.filter((m) => m.provider === 'file').map((m) => m.name),
      ['v2@file', 'tag@file', 'strip@file'],
    );
    const webEp = await admin.get<{ name: string; address: string }>('/api/entrypoints/web');
    assert.equal(webEp.status, 200);
    assert.equal(webEp.body.name, 'web');
    const noEp = await admin.get<{ message: string }>('/api/entrypoints/nope');
    assert.equal(noEp.status, 404);
    assert.equal(noEp.body.message, 'entry point not found: nope');
    const eps = await admin.get<{ name: string }[]>('/api/entrypoints?per_page=1');
    assert.equal(eps.body.length, 1);
    assert.equal(eps.headers.get('x-next-page'), '2');
    const raw = await admin.get<{
      routers: Record<string, { rule: string; service: string }>;
      services: Record<string, { type: string }>;
      middlewares: Record<string, { type: string }>;
    }>('/api/rawdata');
    assert.equal(raw.body.routers['shop@file']?.rule, 'PathPrefix(`/shop`)');
    assert.equal(raw.body.routers['shop@file']?.service, 'app@file');
    assert.equal(raw.body.services['app@file']?.type, 'loadbalancer');
    assert.equal(raw.body.middlewares['tag@file']?.type, 'headers');
    const missing = await admin.get<{ message: string }>('/api/http/routers/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, 'router not found: nope');
  });

  it('creates a service and a router through the API, then routes a request through them to a backend', async () => {
    assert.equal((await get(web, '/created/x')).status, 404, 'nothing routes /created yet');
    const before = await generation();

    const svc = await admin.put('/api/http/services/created', {
      loadBalancer: { servers: [{ url: b.url }] },
    });
    assert.equal(svc.status, 200, svc.text);
    assert.equal(svc.body.generation, before + 1);
    assert.equal(svc.headers.get('etag'), `"${svc.body.etag}"`);

    const router = await admin.put('/api/http/routers/created', {
      rule: 'PathPrefix(`/created`)',
      service: 'created',
      middlewares: ['tag@file'],
    });
    assert.equal(router.status, 200, router.text);
    assert.equal(router.body.generation, before + 2);
    assert.notEqual(router.body.etag, svc.body.etag);

    // Answered once applied: the very next request takes the new router.
    assert.deepEqual(await get(web, '/created/x'), { status: 200, body: 'B GET /created/x tag=shop' });
    assert.equal(b.seen.at(-1)?.url, '/created/x');

    const view = await admin.get<RouterJson>('/api/http/routers/created%40api');
    assert.equal(view.status, 200);
    assert.equal(view.body.provider, 'api');
    assert.equal(view.body.status, 'enabled');
    assert.equal(view.body.service, 'created@api');
    assert.deepEqual(view.body.middlewares, ['tag@file']);
    const svcView = await admin.get<ServiceJson>('/api/http/services/created%40api');
    assert.equal(svcView.body.status, 'enabled');
    assert.equal(svcView.body.servers?.[0]?.status, 'up');

    const { config, etag } = await admin.config();
    assert.equal(etag, `"${router.body.etag}"`);
    const http = (config as { http: { routers: Record<string, unknown> } }).http;
    assert.deepEqual(http.routers['created'], {
      rule: 'PathPrefix(`/created`)',
      service: 'created',
      middlewares: ['tag@file'],
    });
  });

  it('rejects an invalid write with its issues and keeps routing as before', async () => {
    const before = await admin.config();
    const gen = await generation();

    const badRule = await admin.put<ErrorJson>('/api/http/routers/created', {
      rule: 'PathPrefix(`/created`',
      service: 'created',
    });
    assert.equal(badRule.status, 400, badRule.text);
    assert.equal(typeof badRule.body.error, 'string');
    assert.ok(badRule.body.issues !== undefined && badRule.body.issues.length > 0, badRule.text);
    assert.match(badRule.body.issues.join('\n'), /http\.routers\.created\.rule/);

    const unknownKey = await admin.put<ErrorJson>('/api/http/routers/bad', {
      rule: 'PathPrefix(`/bad`)',
      service: 'created',
      colour: 'red',
    });
    assert.equal(unknownKey.status, 400, unknownKey.text);
    assert.match(unknownKey.body.issues?.join('\n') ?? '', /colour/);

    const missingService = await admin.put<ErrorJson>('/api/http/routers/bad', {
      rule: 'PathPrefix(`/bad`)',
      service: 'absent',
    });
    assert.equal(missingService.status, 400, missingService.text);
    assert.match(missingService.body.issues?.join('\n') ?? '', /absent/);

    const notJson = await admin.send('PUT', '/api/http/routers/bad', undefined, {
      raw: '{"rule": ',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(notJson.status, 400);
    const wrongType = await admin.send('PUT', '/api/http/routers/bad', undefined, {
      raw: 'rule=PathPrefix(`/bad`)',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(wrongType.status, 415);

    const now = await admin.config();
    assert.equal(now.etag, before.etag, 'the API configuration is unchanged');
    assert.deepEqual(now.config, before.config);
    assert.equal(await generation(), gen, 'no new generation');
    assert.deepEqual(await get(web, '/created/y'), { status: 200, body: 'B GET /created/y tag=shop' });
    assert.equal((await get(web, '/bad')).status, 404);
    assert.equal((await admin.get('/api/http/routers/bad%40api')).status, 404);
  });

  it('returns a diff for a dry run and changes nothing', async () => {
    const before = await admin.config();
    const gen = await generation();
    const router = { rule: 'PathPrefix(`/dry`)', service: 'created' };

    const add = await admin.put<{ issues: unknown[]; diff: unknown[] }>(
      '/api/http/routers/dry?dryRun=true',
      router,
    );
    assert.equal(add.status, 200, add.text);
    assert.deepEqual(add.body, {
      issues: [],
      diff: [{ op: 'add', path: 'http.routers.dry', after: router }],
    });

    const patch = await admin.patch<{ issues: unknown[]; diff: unknown[] }>(
      '/api/http/routers/created?dryRun=true',
      { rule: 'PathPrefix(`/elsewhere`)' },
    );
    assert.equal(patch.status, 200, patch.text);
    assert.deepEqual(patch.body.diff, [
      {
        op: 'replace',
        path: 'http.routers.created',
        before: { rule: 'PathPrefix(`/created`)', service: 'created', middlewares: ['tag@file'] },
        after: { rule: 'PathPrefix(`/elsewhere`)', service: 'created', middlewares: ['tag@file'] },
      },
    ]);

    const del = await admin.delete<{ issues: unknown[]; diff: unknown[] }>(
      '/api/http/routers/created?dryRun=true',
    );
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(
      (del.body.diff as { op: string; path: string }[]).map((d) => [d.op, d.path]),
      [['remove', 'http.routers.created']],
    );

    const now = await admin.config();
    assert.equal(now.etag, before.etag);
    assert.deepEqual(now.config, before.config);
    assert.equal(await generation(), gen);
    assert.equal((await admin.get('/api/http/routers/dry%40api')).status, 404);
    assert.equal((await get(web, '/dry')).status, 404);
    assert.equal((await get(web, '/elsewhere')).status, 404);
    assert.equal((await get(web, '/created/z')).status, 200);
  });

  it('answers 412 when If-Match names an old ETag of /api/config', async () => {
    const { etag: e1 } = await admin.config();
    const first = await admin.put(
      '/api/http/middlewares/versioned',
      { headers: { customRequestHeaders: { 'X-Version': '1' } } },
      { headers: { 'if-match': e1 } },
    );
    assert.equal(first.status, 200, first.text);
    const e2 = first.headers.get('etag') ?? '';
    assert.notEqual(e2, e1);

    const stale = await admin.put<ErrorJson>(
      '/api/http/middlewares/versioned',
      { headers: { customRequestHeaders: { 'X-Version': 'stale' } } },
      { headers: { 'if-match': e1 } },
    );
    assert.equal(stale.status, 412, stale.text);
    assert.equal(typeof stale.body.error, 'string');
    assert.equal(`"${stale.body.etag}"`, e2, 'the 412 names the current ETag');
    const staleDelete = await admin.delete('/api/http/middlewares/versioned', {
      headers: { 'if-match': e1 },
    });
    assert.equal(staleDelete.status, 412);

    const now = await admin.config();
    assert.equal(now.etag, e2, 'nothing changed');
    const mw = await admin.get<MiddlewareJson>('/api/http/middlewares/versioned%40api');
    const headers = mw.body.config as { customRequestHeaders?: Record<string, string> };
    assert.equal(headers.customRequestHeaders?.['X-Version'], '1');
    const notModified = await admin.get('/api/config', { headers: { 'if-none-match': e2 } });
    assert.equal(notModified.status, 304);

    const current = await admin.put(
      '/api/http/middlewares/versioned',
      { headers: { customRequestHeaders: { 'X-Version': '2' } } },
      { headers: { 'if-match': e2 } },
    );
    assert.equal(current.status, 200, current.text);
  });

  it('rolls back to the previous API configuration and routes as before the last write', async () => {
    for (const [name, backend] of [
      ['rb-a', a],
      ['rb-b', b],
    ] as const) {
      const r = await admin.put(`/api/http/services/${name}`, {
        loadBalancer: { servers: [{ url: backend.url }] },
      });
      assert.equal(r.status, 200, r.text);
    }
    const created = await admin.put('/api/http/routers/rb', { rule: 'PathPrefix(`/rb`)', service: 'rb-a' });
    assert.equal(created.status, 200, created.text);
    assert.equal((await get(web, '/rb/1')).body, 'A GET /rb/1 tag=-');

    const patched = await admin.patch(
      '/api/http/routers/rb',
      { service: 'rb-b' },
      { headers: { 'content-type': 'application/merge-patch+json' } },
    );
    assert.equal(patched.status, 200, patched.text);
    assert.equal((await get(web, '/rb/2')).body, 'B GET /rb/2 tag=-');

    const rolled = await admin.send<WriteJson>('POST', '/api/rollback');
    assert.equal(rolled.status, 200, rolled.text);
    assert.equal(rolled.body.generation, patched.body.generation + 1);
    assert.equal(rolled.body.etag, created.body.etag, 'the configuration before the PATCH');
    assert.equal((await get(web, '/rb/3')).body, 'A GET /rb/3 tag=-');
    const view = await admin.get<RouterJson>('/api/http/routers/rb%40api');
    assert.equal(view.body.service, 'rb-a@api');
    const { etag } = await admin.config();
    assert.equal(etag, `"${created.body.etag}"`);
    // Only the last write was undone.
    assert.equal((await admin.get('/api/http/services/rb-b%40api')).status, 200);
  });

  it('answers 400 and keeps the previous routing when a write refers to a missing @file service', async () => {
    const before = await admin.config();
    const gen = await generation();

    const missing = await admin.put<ErrorJson>('/api/http/routers/to-nowhere', {
      rule: 'PathPrefix(`/to-nowhere`)',
      service: 'nope@file',
    });
    assert.equal(missing.status, 400, missing.text);
    assert.match(missing.body.issues?.join('\n') ?? '', /nope@file/);

    const repoint = await admin.patch<ErrorJson>('/api/http/routers/created', { service: 'nope@file' });
    assert.equal(repoint.status, 400, repoint.text);
    assert.match(repoint.body.issues?.join('\n') ?? '', /nope@file/);

    assert.equal((await admin.config()).etag, before.etag);
    assert.equal(await generation(), gen);
    assert.equal((await get(web, '/to-nowhere')).status, 404);
    assert.equal((await get(web, '/created/still')).body, 'B GET /created/still tag=shop');

    // The same write naming a file service that exists is accepted and routes.
    const existing = await admin.put('/api/http/routers/to-file', {
      rule: 'PathPrefix(`/to-file`)',
      service: 'app@file',
    });
    assert.equal(existing.status, 200, existing.text);
    assert.equal((await get(web, '/to-file')).body, 'A GET /to-file tag=-');
  });

  it('keeps API changes across a restart when api.persistFile is set (file mode 0600)', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-persist-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const persistFile = join(dir, 'api-state.json');
    const config = staticConfig(`{ persistFile: "${persistFile}" }`) + fileDynamic(a.url, k.url);

    const first = await startAdminProxy(config);
    let etag: string;
    try {
      const svc = await first.admin.put('/api/http/services/kept', {
        loadBalancer: { servers: [{ url: b.url }] },
      });
      assert.equal(svc.status, 200, svc.text);
      const r1 = await first.admin.put('/api/http/routers/kept', {
        rule: 'PathPrefix(`/kept`)',
        service: 'kept',
      });
      assert.equal(r1.status, 200, r1.text);
      const r2 = await first.admin.put('/api/http/routers/kept-file', {
        rule: 'PathPrefix(`/kept-file`)',
        service: 'app@file',
      });
      assert.equal(r2.status, 200, r2.text);
      assert.equal((await get(first.proxy.ports['web'] ?? 0, '/kept/1')).body, 'B GET /kept/1 tag=-');
      etag = (await first.admin.config()).etag;

      assert.equal(statSync(persistFile).mode & 0o777, 0o600, 'the persisted file is private');
      const saved = JSON.parse(readFileSync(persistFile, 'utf8')) as {
        http: { routers: Record<string, unknown> };
      };
      assert.deepEqual(Object.keys(saved.http.routers).sort(), ['kept', 'kept-file']);
    } finally {
      assert.equal(await first.proxy.stop(), 0);
    }

    const second = await startAdminProxy(config);
    t.after(() => second.proxy.stop());
    const port = second.proxy.ports['web'] ?? 0;
    assert.equal((await second.admin.config()).etag, etag, 'the same API configuration is back');
    const routers = await second.admin.get<RouterJson[]>('/api/http/routers');
    assert.deepEqual(
      routers.body.filter((r) => r.provider === 'api').map((r) => [r.name, r.status]),
      [
        ['kept-file@api', 'enabled'],
        ['kept@api', 'enabled'],
      ],
    );
    assert.deepEqual(await get(port, '/kept/2'), { status: 200, body: 'B GET /kept/2 tag=-' });
    assert.deepEqual(await get(port, '/kept-file/2'), { status: 200, body: 'A GET /kept-file/2 tag=-' });
    assert.equal(statSync(persistFile).mode & 0o777, 0o600);
  });

  it('explains a request: matched router, losing candidates, middleware chain and service', async () => {
    const q = (url: string, ...headers: string[]): string =>
      `/api/explain?method=GET&url=${encodeURIComponent(url)}${headers.map((h) => `&header=${encodeURIComponent(h)}`).join('')}`;
    interface Explained {
      entryPoint: string;
      matched: string | null;
      candidates: { name: string; priority: number; matched: boolean; rule: string }[];
      middlewares: string[];
      service: string | null;
    }

    const plain = await admin.get<Explained>(q('http://example.test/shop/v2/item'));
    assert.equal(plain.status, 200, plain.text);
    assert.equal(plain.body.entryPoint, 'web');
    assert.equal(plain.body.matched, 'shop-v2@file');
    assert.deepEqual(plain.body.middlewares, ['strip@file', 'tag@file'], 'the chain, flattened');
    assert.equal(plain.body.service, 'app@file');
    const shopRules = ['shop-beta@file', 'shop-v2@file', 'shop@file'];
    const shopCandidates = plain.body.candidates.filter((c) => shopRules.includes(c.name));
    assert.deepEqual(
      shopCandidates.filter((c) => c.matched).map((c) => [c.name, c.priority, c.rule]),
      [
        ['shop-v2@file', 'PathPrefix(`/shop/v2`)'.length, 'PathPrefix(`/shop/v2`)'],
        ['shop@file', 'PathPrefix(`/shop`)'.length, 'PathPrefix(`/shop`)'],
      ],
      'both prefixes match, in evaluation order: the shorter prefix has a lower priority',
    );
    for (const c of plain.body.candidates) {
      if (!shopRules.includes(c.name)) assert.equal(c.matched, false, `${c.name} cannot match /shop/v2/item`);
    }

    // What the proxy does agrees: prefix stripped, header added, app's backend.
    assert.equal((await get(web, '/shop/v2/item')).body, 'A GET /item tag=shop');

    const withHeader = await admin.get<Explained>(q('http://example.test/shop/v2/item', 'X-Beta: 1'));
    assert.equal(withHeader.status, 200);
    assert.equal(withHeader.body.matched, 'shop-beta@file');
    assert.equal(withHeader.body.service, 'watched@file');
    assert.deepEqual(withHeader.body.middlewares, []);

    const none = await admin.get<Explained>(q('http://example.test/elsewhere'));
    assert.equal(none.status, 200);
    assert.equal(none.body.matched, null);
    assert.equal(none.body.service, null);
    assert.ok(none.body.candidates.every((c) => !c.matched));

    assert.equal((await admin.get('/api/explain?method=GET')).status, 400, 'url is required');

    // The router with the highest priority for this path loses only for want of a header: it is
    // the candidate an operator asks about, and it must be listed as one that does not match.
    assert.deepEqual(
      shopCandidates.map((c) => [c.name, c.matched]),
      [
        ['shop-beta@file', false],
        ['shop-v2@file', true],
        ['shop@file', true],
      ],
      'every router of the entry point whose rule shares the path is a candidate, in evaluation order',
    );
  });

  it('shows a server going down and back up in /api/http/services when its backend stops and restarts', async () => {
    const path = '/api/http/services/watched%40file';
    const status = (r: { body: ServiceJson }): string | undefined => r.body.servers?.[0]?.status;
    await admin.until<ServiceJson>(path, (r) => r.status === 200 && status(r) === 'up', 'watched up');

    await k.stop();
    const down = await admin.until<ServiceJson>(path, (r) => status(r) === 'down', 'watched down');
    assert.match(down.body.issues.join('\n'), /is down/);
    assert.equal(down.body.servers?.[0]?.url, k.url);
    // Traefik's serverStatus map says the same.
    assert.deepEqual((down.body as { serverStatus?: unknown }).serverStatus, { [k.url]: 'DOWN' });
    // Its status stays `enabled`, without `error`, as Traefik's: a health check changes the
    // servers' status only (runtime ServiceInfo.UpdateServerStatus), not the service's.
    assert.equal(down.body.status, 'enabled');
    assert.equal((down.body as { error?: unknown }).error, undefined);

    await k.restart();
    const up = await admin.until<ServiceJson>(path, (r) => status(r) === 'up', 'watched up again');
    assert.deepEqual(up.body.issues, []);
    assert.deepEqual((up.body as { serverStatus?: unknown }).serverStatus, { [k.url]: 'UP' });
    assert.equal((await get(web, '/watched')).body, 'K');
  });

  it('wants credentials when api.auth is set (401 with WWW-Authenticate), and serves them', async (t) => {
    const token = 'e2e-token-0123456789abcdef';
    const { proxy: p, admin: anonymous } = await startAdminProxy(
      staticConfig(`{ auth: { bearerTokens: ["${token}"], basicAuth: ["ops:correct horse"] } }`) +
        fileDynamic(a.url, k.url),
    );
    t.after(() => p.stop());
    const base = anonymous.base;

    const denied = await anonymous.get<ErrorJson>('/api/overview');
    assert.equal(denied.status, 401);
    assert.equal(typeof denied.body.error, 'string');
    const challenge = denied.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /Bearer/);
    assert.match(challenge, /Basic/);
    assert.equal((await anonymous.get('/api/http/routers')).status, 401);
    const wrongToken = new AdminClient(base, { authorization: `Bearer ${token}x` });
    assert.equal((await wrongToken.get('/api/overview')).status, 401);
    const wrongPassword = new AdminClient(base, {
      authorization: `Basic ${Buffer.from('ops:wrong').toString('base64')}`,
    });
    assert.equal((await wrongPassword.get('/api/overview')).status, 401);
    const anonymousWrite = await anonymous.put('/api/http/routers/sneaky', {
      rule: 'PathPrefix(`/sneaky`)',
      service: 'app@file',
    });
    assert.equal(anonymousWrite.status, 401);

    const bearer = new AdminClient(base, { authorization: `Bearer ${token}` });
    const overview = await bearer.get<{ version: string }>('/api/overview');
    assert.equal(overview.status, 200);
    assert.equal(overview.body.version, VERSION);
    const basic = new AdminClient(base, {
      authorization: `Basic ${Buffer.from('ops:correct horse').toString('base64')}`,
    });
    assert.equal((await basic.get('/api/http/routers')).status, 200);
    const write = await bearer.put('/api/http/routers/allowed', {
      rule: 'PathPrefix(`/allowed`)',
      service: 'app@file',
    });
    assert.equal(write.status, 200, write.text);
    const port = p.ports['web'] ?? 0;
    assert.equal((await get(port, '/allowed')).body, 'A GET /allowed tag=-');
    assert.equal((await get(port, '/sneaky')).status, 404, 'the anonymous write changed nothing');

    // Health checkers probe /ping without credentials.
    assert.equal((await anonymous.get('/ping')).status, 200);
  });

  it('answers 405 to writes when api.readOnly is true', async (t) => {
    const { proxy: p, admin: ro } = await startAdminProxy(
      staticConfig('{ readOnly: true }') + fileDynamic(a.url, k.url),
    );
    t.after(() => p.stop());

    const routers = await ro.get<RouterJson[]>('/api/http/routers');
    assert.equal(routers.status, 200);
    assert.ok(routers.body.some((r) => r.name === 'shop@file'));

    const router = { rule: 'PathPrefix(`/ro`)', service: 'app@file' };
    const attempts: [string, AdminReply<ErrorJson>][] = [
      ['PUT router', await ro.put<ErrorJson>('/api/http/routers/ro', router)],
      ['PATCH router', await ro.patch<ErrorJson>('/api/http/routers/ro', { service: 'app@file' })],
      ['DELETE router', await ro.delete<ErrorJson>('/api/http/routers/ro')],
      [
        'PUT service',
        await ro.put<ErrorJson>('/api/http/services/ro', { loadBalancer: { servers: [{ url: b.url }] } }),
      ],
      ['PUT router, dry run', await ro.put<ErrorJson>('/api/http/routers/ro?dryRun=true', router)],
      ['POST rollback', await ro.send<ErrorJson>('POST', '/api/rollback')],
      ['PUT /api/config', await ro.put<ErrorJson>('/api/config', { http: { routers: { ro: router } } })],
    ];
    assert.equal((await get(p.ports['web'] ?? 0, '/ro')).status, 404);
    assert.equal((await get(p.ports['web'] ?? 0, '/shop/ro')).body, 'A GET /shop/ro tag=shop');
    for (const [what, r] of attempts) {
      assert.equal(r.status, 405, `${what}: ${r.status} ${r.text}`);
      assert.equal(typeof r.body.error, 'string');
      assert.doesNotMatch(r.headers.get('allow') ?? '', /PUT|PATCH|DELETE/, what);
    }
  });

  it('traffic explain --config FILE prints the matching router and exits 0, 1 without a match', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-explain-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // Changes made through the API are part of what explain sees.
    const persistFile = join(dir, 'api.json');
    writeFileSync(
      persistFile,
      JSON.stringify({
        http: { routers: { 'from-api': { rule: 'PathPrefix(`/from-api`)', service: 'app@file' } } },
      }),
      { mode: 0o600 },
    );
    const file = join(dir, 'traffic.yaml');
    writeFileSync(file, staticConfig(`{ persistFile: "${persistFile}" }`) + fileDynamic(a.url, k.url));

    // Four independent runs of the command, side by side.
    const explainCli = (...args: string[]) => runCli(['explain', '--config', file, ...args]);
    const [matched, header, fromApi, none] = await Promise.all([
      explainCli('GET http://example.test/shop/v2/item'),
      explainCli('GET http://example.test/shop/v2/item', '-H', 'X-Beta: 1'),
      explainCli('http://example.test/from-api/x'),
      explainCli('GET http://example.test/elsewhere'),
    ]);
    assert.equal(matched.code, 0, matched.stdout + matched.stderr);
    assert.match(matched.stdout, /matched router shop-v2@file \(priority \d+\)/);
    assert.match(matched.stdout, /middlewares: strip@file -> tag@file/);
    assert.match(matched.stdout, /service: app@file \(loadBalancer: http:\/\/127\.0\.0\.1:\d+\)/);
    assert.match(matched.stdout, /shop@file \(priority \d+\): matches, but has a lower priority/);

    assert.equal(header.code, 0, header.stdout + header.stderr);
    assert.match(header.stdout, /matched router shop-beta@file/);
    assert.match(header.stdout, /service: watched@file/);

    assert.equal(fromApi.code, 0, fromApi.stdout + fromApi.stderr);
    assert.match(fromApi.stdout, /matched router from-api@api/);

    assert.equal(none.code, 1, none.stdout + none.stderr);
    assert.match(none.stdout, /no router matches/);
    assert.doesNotMatch(none.stdout, /matched router/);
  });
});
