/**
 * The `@internal` routers, services and middlewares in the API, as Traefik's internal provider
 * puts them into its runtime configuration (pkg/provider/traefik/internal.go createConfiguration)
 * and its API shows them (pkg/api/handler_http.go, handler_overview.go, handler.go rawdata): for
 * `api.insecure` with the dashboard, `ping`, `metrics.prometheus` and an entry point redirection.
 * The expected objects are what Traefik's code builds for this static configuration.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const MAX = '9223372036854775807';
const MAX_1 = '9223372036854775806';
const MAX_2 = '9223372036854775805';
/** Traefik's applyDefaultObservabilityModel: every key a router leaves unset is on. */
const ON = { accessLogs: true, metrics: true, tracing: true, traceVerbosity: 'minimal' };

describe('API: the @internal objects (Traefik internal.go)', () => {
  let proxy: ProxyProcess;
  before(async () => {
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    http:
      redirections:
        entryPoint: { to: websecure }
  websecure:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: { insecure: true }
ping: {}
metrics: { prometheus: {} }
http:
  routers:
    health:
      rule: "Path(\`/health\`)"
      service: ping@internal
      entryPoints: [websecure]
      observability: { accessLogs: false }
`,
    });
  });
  after(() => proxy?.stop());

  const text = async (path: string): Promise<string> => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}${path}`);
    assert.equal(r.status, 200, path);
    return r.text();
  };
  const json = async <T = Record<string, unknown>>(path: string): Promise<T> =>
    JSON.parse(await text(path)) as T;
  const names = async (path: string): Promise<string[]> =>
    (await json<{ name: string }[]>(path)).map((o) => o.name);

  it('lists the internal routers with Traefik’s fields, priorities written as Go writes math.MaxInt', async () => {
    assert.deepEqual(await names('/api/http/routers'), [
      'api@internal',
      'dashboard@internal',
      'health@file',
      'ping@internal',
      'prometheus@internal',
      'web-to-websecure@internal',
    ]);
    const raw = await text('/api/http/routers');
    for (const [name, priority] of [
      ['api', MAX_1],
      ['dashboard', MAX_2],
      ['ping', MAX],
      ['prometheus', MAX],
      ['web-to-websecure', MAX_1],
    ])
      assert.match(raw, new RegExp(`"name":"${name}@internal"[^}]*"priority":${priority}[,}]`), name);
    const pick = (o: Record<string, unknown>) => {
      const { priority: _, ...rest } = o;
      return rest;
    };
    assert.deepEqual(pick(await json('/api/http/routers/dashboard@internal')), {
      name: 'dashboard@internal',
      rule: 'PathPrefix(`/`)',
      ruleSyntax: 'default',
      entryPoints: ['traefik'],
      middlewares: ['dashboard_redirect@internal', 'dashboard_stripprefix@internal'],
      service: 'dashboard@internal',
      provider: 'internal',
      observability: ON,
      status: 'enabled',
      issues: [],
      using: ['traefik'],
    });
    assert.deepEqual(pick(await json('/api/http/routers/web-to-websecure@internal')), {
      name: 'web-to-websecure@internal',
      rule: 'HostRegexp(`^.+$`)',
      ruleSyntax: 'default',
      entryPoints: ['web'],
      middlewares: ['redirect-web-to-websecure@internal'],
      service: 'noop@internal',
      provider: 'internal',
      observability: ON,
      status: 'enabled',
      issues: [],
      using: ['web'],
    });
    const health = await json('/api/http/routers/health@file');
    assert.deepEqual(health['observability'], { ...ON, accessLogs: false });
    const ping = await json('/api/http/routers/ping@internal');
    assert.deepEqual(
      [ping['rule'], ping['entryPoints'], ping['service']],
      ['PathPrefix(`/ping`)', ['traefik'], 'ping@internal'],
    );
  });

  it('lists the internal services and middlewares with their usedBy', async () => {
    const services =
      await json<{ name: string; status: string; usedBy: string[]; type?: string }[]>('/api/http/services');
    assert.deepEqual(
      services.map((s) => [s.name, s.status, s.usedBy, s.type]),
      [
        ['api@internal', 'enabled', ['api@internal'], undefined],
        ['dashboard@internal', 'enabled', ['dashboard@internal'], undefined],
        ['noop@internal', 'enabled', ['web-to-websecure@internal'], undefined],
        // A router of the configuration naming an internal service is among its users.
        ['ping@internal', 'enabled', ['health@file', 'ping@internal'], undefined],
        ['prometheus@internal', 'enabled', ['prometheus@internal'], undefined],
      ],
    );
    const mws =
      await json<{ name: string; type: string; config: unknown; usedBy: string[] }[]>(
        '/api/http/middlewares',
      );
    assert.deepEqual(
      mws.map((m) => [m.name, m.type, m.config, m.usedBy]),
      [
        [
          'dashboard_redirect@internal',
          'redirectregex',
          {
            regex: String.raw`^(http:\/\/(\[[\w:.]+\]|[\w\._-]+)(:\d+)?)\/$`,
            replacement: '$' + '{1}/dashboard/',
            permanent: true,
          },
          ['dashboard@internal'],
        ],
        [
          'dashboard_stripprefix@internal',
          'stripprefix',
          { prefixes: ['/dashboard/', '/dashboard'] },
          ['dashboard@internal'],
        ],
        // getRedirectPort: the port of websecure's configured address (`:0` here).
        [
          'redirect-web-to-websecure@internal',
          'redirectscheme',
          { scheme: 'https', port: '0', permanent: true },
          ['web-to-websecure@internal'],
        ],
      ],
    );
  });

  it('filters, search, sort and pagination take them; the overview counts them; rawdata has them', async () => {
    assert.deepEqual(await names('/api/http/routers?search=ping'), ['ping@internal']);
    assert.deepEqual(await names('/api/http/routers?serviceName=ping@internal'), [
      'health@file',
      'ping@internal',
    ]);
    assert.deepEqual(await names('/api/http/routers?middlewareName=dashboard_redirect@internal'), [
      'dashboard@internal',
    ]);
    assert.deepEqual(await names('/api/http/services?search=noop'), ['noop@internal']);
    assert.deepEqual(await names('/api/http/routers?per_page=2&page=2'), ['health@file', 'ping@internal']);
    // By priority, ascending: math.MaxInt - 2, then - 1 (by name), then math.MaxInt (by name).
    assert.deepEqual(await names('/api/http/routers?sortBy=priority'), [
      'health@file',
      'dashboard@internal',
      'api@internal',
      'web-to-websecure@internal',
      'ping@internal',
      'prometheus@internal',
    ]);
    const overview = await json<{ http: Record<string, { total: number }> }>('/api/overview');
    assert.deepEqual(
      [
        overview.http['routers']?.total,
        overview.http['services']?.total,
        overview.http['middlewares']?.total,
      ],
      [6, 5, 3],
    );
    // The entry point's redirection as Traefik's JSON writes RedirectEntryPoint's default priority.
    assert.match(await text('/api/entrypoints/web'), new RegExp(`"priority":${MAX_1}[,}]`));
    const raw = await text('/api/rawdata');
    assert.match(raw, new RegExp(`"ping@internal":\\{[^}]*"priority":${MAX},`));
    const rawdata = JSON.parse(raw) as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(rawdata['routers'] ?? {}).sort(), await names('/api/http/routers'));
    assert.deepEqual(Object.keys(rawdata['middlewares'] ?? {}).length, 3);
    assert.ok(rawdata['services']?.['noop@internal']);
  });
});
