import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { freePort as closedPort } from '../../test/helpers/free-port.ts';
import { loadDynamic } from '../config/dynamic/load.ts';
import { createLogger } from '../core/logger.ts';
import type { Provider, ProviderUpdate } from '../providers/provider.ts';
import { compileRule } from '../router/index.ts';
import { compileTcpRule } from '../router/tcp/index.ts';
import { jsonBody, startAdmin, type TestAdmin } from './test-admin.ts';

/** A file provider that sends one configuration, read from YAML as the file provider reads it. */
function fileProvider(yaml: string): Provider {
  const r = loadDynamic([{ file: 'dyn.yaml', text: yaml }], {
    provider: 'file',
    checkRule: (rule, language) => {
      const c = language === 'tcp' ? compileTcpRule(rule) : compileRule(rule);
      return c.ok ? undefined : c.error;
    },
    entryPoints: ['web', 'dns', 'traefik'],
  });
  assert.ok(r.config !== undefined, JSON.stringify(r.issues));
  const update: ProviderUpdate = { config: r.config, issues: r.issues, disabled: r.disabled };
  return {
    name: 'file',
    async *watch(signal) {
      yield update;
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
    },
  };
}

async function listening(t: TestContext): Promise<Server> {
  const s = createServer((c) => c.pipe(c));
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  t.after(() => s.close());
  return s;
}

interface Setup {
  readonly a: TestAdmin;
  readonly live: string;
  readonly dead: string;
  /** Resolves when the health check has found `dead` down. */
  readonly deadDown: Promise<void>;
}

async function setup(t: TestContext): Promise<Setup> {
  const live = `127.0.0.1:${((await listening(t)).address() as AddressInfo).port}`;
  const dead = `127.0.0.1:${await closedPort()}`;
  let down: () => void = () => {};
  const deadDown = new Promise<void>((resolve) => (down = resolve));
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    write: (line) => {
      const l = JSON.parse(line) as { msg: string; server?: string };
      if (l.msg === 'server down' && l.server === dead) down();
    },
  });
  const yaml = `
tcp:
  routers:
    echo: { entryPoints: [web], rule: "HostSNI(\`*\`)", service: echo, middlewares: [local] }
    sni: { entryPoints: [web], rule: "HostSNI(\`a.example\`)", service: both, tls: { passthrough: true } }
    broken: { entryPoints: [web], rule: "HostSNI(\`*\`)", service: nowhere }
  services:
    echo:
      loadBalancer:
        servers: [{ address: "${live}" }, { address: "${dead}" }]
        healthCheck: { interval: 50ms, timeout: 500ms }
    both: { weighted: { services: [{ name: echo, weight: 2 }] } }
    unused: { loadBalancer: { servers: [{ address: "127.0.0.1:9" }] } }
  middlewares:
    local: { ipAllowList: { sourceRange: [127.0.0.1/32] } }
udp:
  routers:
    dns: { entryPoints: [dns], service: dns }
    other: { service: dns }
  services:
    dns: { loadBalancer: { servers: [{ address: "127.0.0.1:5353" }] } }
`;
  const a = await startAdmin(t, {
    providers: [fileProvider(yaml)],
    build: { udpEntryPoints: ['dns'] },
    logger,
    entryPoints: [
      { name: 'web', address: ':8080' },
      { name: 'dns', address: ':5353/udp' },
      { name: 'traefik', address: '127.0.0.1:8081' },
    ],
    server: { proxyEntryPoints: ['web', 'dns'] },
  });
  return { a, live, dead, deadDown };
}

describe('admin API, layer 4 views', () => {
  it('lists TCP routers with rule, priority, tls, entry points in use, and the disabled one', async (t) => {
    const { a } = await setup(t);
    const r = await a.json('/api/tcp/routers');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, [
      {
        name: 'broken@file',
        provider: 'file',
        rule: 'HostSNI(`*`)',
        priority: -1,
        entryPoints: ['web'],
        using: [],
        service: 'nowhere@file',
        status: 'disabled',
        // Traefik's words (pkg/server/service/tcp/service.go BuildTCP).
        error: ['the service "nowhere@file" does not exist'],
        issues: [
          'dyn.yaml:6:66: tcp.routers.broken@file.service: service `nowhere` does not exist in the tcp section',
        ],
      },
      {
        name: 'echo@file',
        provider: 'file',
        rule: 'HostSNI(`*`)',
        // Traefik's default for a bare HostSNI(`*`): below every other router.
        priority: -1,
        entryPoints: ['web'],
        using: ['web'],
        middlewares: ['local@file'],
        service: 'echo@file',
        status: 'enabled',
        issues: [],
      },
      {
        name: 'sni@file',
        provider: 'file',
        rule: 'HostSNI(`a.example`)',
        priority: 'HostSNI(`a.example`)'.length,
        entryPoints: ['web'],
        using: ['web'],
        service: 'both@file',
        tls: { passthrough: true, domains: [] },
        status: 'enabled',
        issues: [],
      },
    ]);
    // One by name, with or without its provider; an unknown one is 404.
    const one = await a.json('/api/tcp/routers/sni');
    assert.equal(one.status, 200);
    assert.equal((one.body as { name: string }).name, 'sni@file');
    assert.equal((await a.json('/api/tcp/routers/nope')).status, 404);
    // An HTTP router of that name is another object: the HTTP list does not show TCP ones.
    assert.deepEqual((await a.json('/api/http/routers')).body, []);
  });

  it('shows a TCP server its health check found down as DOWN, beside the live one', async (t) => {
    const { a, live, dead, deadDown } = await setup(t);
    await deadDown;
    const r = await a.json('/api/tcp/services/echo@file');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      name: 'echo@file',
      provider: 'file',
      type: 'loadbalancer',
      // Traefik's inline configuration (traefik-config.ts): Go durations, `tls: false` omitted.
      loadBalancer: {
        servers: [{ address: live }, { address: dead }],
        healthCheck: { interval: '50ms', timeout: '500ms' },
      },
      status: 'enabled',
      issues: [`server ${dead} is down`],
      servers: [
        { address: live, status: 'up' },
        { address: dead, status: 'down' },
      ],
      serverStatus: { [live]: 'UP', [dead]: 'DOWN' },
      usedBy: ['echo@file'],
      config: {
        loadBalancer: {
          servers: [
            { address: live, tls: false },
            { address: dead, tls: false },
          ],
          healthCheck: { interval: 50, timeout: 500 },
        },
      },
    });
    const list = (await a.json('/api/tcp/services')).body as { name: string; status: string; type: string }[];
    assert.deepEqual(
      list.map((s) => [s.name, s.type, s.status]),
      [
        ['both@file', 'weighted', 'enabled'],
        ['echo@file', 'loadbalancer', 'enabled'],
        ['unused@file', 'loadbalancer', 'enabled'],
      ],
    );
    assert.deepEqual((list[0] as unknown as { services: string[] }).services, ['echo@file']);
  });

  it('lists TCP middlewares and UDP routers and services, with the entry point each UDP router won', async (t) => {
    const { a } = await setup(t);
    assert.deepEqual((await a.json('/api/tcp/middlewares')).body, [
      {
        name: 'local@file',
        provider: 'file',
        type: 'ipallowlist',
        ipAllowList: { sourceRange: ['127.0.0.1/32'] },
        status: 'enabled',
        issues: [],
        config: { sourceRange: ['127.0.0.1/32'] },
      },
    ]);
    const routers = (await a.json('/api/udp/routers')).body as Record<string, unknown>[];
    // Traefik's rule: one UDP router per entry point, names in descending order: `other` wins.
    assert.deepEqual(
      routers.map((r) => [r['name'], r['entryPoints'], r['using'], r['service'], r['status']]),
      [
        ['dns@file', ['dns'], [], 'dns@file', 'enabled'],
        ['other@file', ['dns'], ['dns'], 'dns@file', 'enabled'],
      ],
    );
    assert.equal((routers[0]!['issues'] as string[]).length, 1);
    assert.deepEqual((await a.json('/api/udp/services/dns')).body, {
      name: 'dns@file',
      provider: 'file',
      type: 'loadbalancer',
      loadBalancer: { servers: [{ address: '127.0.0.1:5353' }] },
      status: 'enabled',
      issues: [],
      servers: [{ address: '127.0.0.1:5353' }],
      usedBy: ['dns@file', 'other@file'],
      config: { loadBalancer: { servers: [{ address: '127.0.0.1:5353' }] } },
    });
    // UDP has no middlewares here, and layer 4 objects are not written through the API.
    assert.equal((await a.json('/api/udp/middlewares')).status, 404);
    const put = await a.json(
      '/api/tcp/routers/x',
      jsonBody('PUT', { rule: 'HostSNI(`*`)', service: 'echo' }),
    );
    assert.equal(put.status, 405);
    // gorilla/mux's bare 405 (Traefik's routes are GET only); Allow is ours.
    assert.equal(put.headers.get('allow'), 'GET');
    assert.equal(put.body, undefined);
  });

  it('counts layer 4 objects in the overview: totals, warnings and errors', async (t) => {
    const { a, deadDown } = await setup(t);
    await deadDown;
    const o = (await a.json('/api/overview')).body as Record<string, unknown>;
    assert.deepEqual(o['tcp'], {
      routers: { total: 3, warnings: 0, errors: 1 },
      // echo has a server down: its serverStatus says so, its status stays enabled (Traefik's).
      services: { total: 3, warnings: 0, errors: 0 },
      middlewares: { total: 1, warnings: 0, errors: 0 },
    });
    assert.deepEqual(o['udp'], {
      // dns lost its entry point to other: Traefik logs it (no AddError), the status stays enabled.
      routers: { total: 2, warnings: 0, errors: 0 },
      services: { total: 1, warnings: 0, errors: 0 },
    });
    // Their issues are in their views, not in the overview's list.
    assert.deepEqual(o['issues'], []);
  });
});
