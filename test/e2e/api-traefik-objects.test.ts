/**
 * The API's HTTP services and middlewares carry their configuration inline under Traefik's keys,
 * as Traefik's API writes them (pkg/api/handler_http.go: the representations embed
 * runtime.ServiceInfo/MiddlewareInfo, which embed dynamic.Service/Middleware): one key per kind
 * (`rateLimit`, `loadBalancer`…), Traefik's json tags (`omitempty`), Go durations (`1m0s`), the
 * SetDefaults' defaults present. The expected JSON below is written from Traefik's structs
 * (pkg/config/dynamic/http_config.go, middlewares.go) for the configuration given; our own
 * fields (`type`, `config`, `servers`) stay beside them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const USER = 'test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/';

describe("API objects: Traefik's inline configuration", () => {
  let proxy: ProxyProcess;
  let backend: Backend;
  before(async () => {
    backend = await startBackend((_req, res) => res.end('ok'));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
http:
  routers:
    r:
      rule: "PathPrefix(\`/\`)"
      service: lb
      middlewares: [rl, hdr, strip, auth]
  middlewares:
    rl:
      rateLimit: { average: 10, period: 1m, burst: 5 }
    hdr:
      headers:
        customRequestHeaders: { X-Script-Name: test, X-Gone: "", X-Name: "héllo" }
        frameDeny: true
        contentTypeNosniff: false
        customFrameOptionsValue: "ALLOW-FROM https://é.example"
        stsSeconds: 315360000
    strip:
      stripPrefix: { prefixes: ["/api"] }
    broken:
      chain: { middlewares: [nowhere] }
    err:
      errors: { status: ["500-599", "404"], service: lb, query: "/{status}.html" }
    auth:
      basicAuth:
        users: ["${USER}"]
        removeHeader: true
  services:
    lb:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
        healthCheck: { path: /health, interval: 10s, timeout: 3s }
        sticky: { cookie: { name: lbck, httpOnly: true } }
    wbad:
      weighted: { services: [{ name: nowhere }] }
    w:
      weighted:
        services: [{ name: lb, weight: 3 }, { name: lb2 }]
    lb2:
      loadBalancer:
        servers: [{ url: "${backend.url}", weight: 2 }]
        passHostHeader: false
        responseForwarding: { flushInterval: 250ms }
tcp:
  services:
    t:
      loadBalancer:
        servers: [{ address: "127.0.0.1:1", tls: true }, { address: "127.0.0.1:2" }]
    tw:
      weighted: { services: [{ name: t }] }
  middlewares:
    tip:
      ipAllowList: { sourceRange: ["127.0.0.1/32"] }
udp:
  services:
    u:
      loadBalancer: { servers: [{ address: "127.0.0.1:3" }] }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  const get = async (path: string): Promise<unknown> => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}${path}`);
    assert.equal(r.status, 200, path);
    return r.json();
  };

  /** Traefik's JSON of each object's configuration (its kind's key → value). */
  const middlewares: Record<string, [string, unknown]> = {
    'rl@file': ['rateLimit', { average: 10, period: '1m0s', burst: 5 }],
    'hdr@file': [
      'headers',
      {
        // A map's empty value is written (Go's omitempty is about the field), a false one is not.
        customRequestHeaders: { 'X-Script-Name': 'test', 'X-Gone': '', 'X-Name': 'héllo' },
        stsSeconds: 315360000,
        frameDeny: true,
        customFrameOptionsValue: 'ALLOW-FROM https://é.example',
      },
    ],
    'strip@file': ['stripPrefix', { prefixes: ['/api'] }],
    'auth@file': ['basicAuth', { users: [USER], removeHeader: true }],
    'err@file': ['errors', { status: ['500-599', '404'], service: 'lb', query: '/{status}.html' }],
  };
  /** The services' (the backend's URL is known once it started). */
  const expectedServices = (): Record<string, [string, unknown]> => ({
    'lb@file': [
      'loadBalancer',
      {
        sticky: { cookie: { name: 'lbck', httpOnly: true, path: '/' } },
        servers: [{ url: backend.url }],
        strategy: 'wrr',
        healthCheck: { mode: 'http', path: '/health', interval: '10s', timeout: '3s', followRedirects: true },
        passHostHeader: true,
        responseForwarding: { flushInterval: '100ms' },
      },
    ],
    'lb2@file': [
      'loadBalancer',
      {
        servers: [{ url: backend.url, weight: 2 }],
        strategy: 'wrr',
        passHostHeader: false,
        responseForwarding: { flushInterval: '250ms' },
      },
    ],
    'w@file': [
      'weighted',
      {
        services: [
          { name: 'lb', weight: 3 },
          { name: 'lb2', weight: 1 },
        ],
      },
    ],
  });

  it('single views: a middleware and a service show their configuration under their Traefik key', async () => {
    for (const [name, [key, want]] of Object.entries(middlewares)) {
      const v = (await get(`/api/http/middlewares/${name}`)) as Record<string, unknown>;
      assert.deepEqual(v[key], want, name);
      // Traefik's type: the key lowercased (pkg/api handler_http.go extractType); our config beside.
      assert.equal(v['type'], key.toLowerCase(), name);
      assert.ok(v['config'] !== undefined, name);
    }
    for (const [name, [key, want]] of Object.entries(expectedServices())) {
      const v = (await get(`/api/http/services/${name}`)) as Record<string, unknown>;
      assert.deepEqual(v[key], want, name);
      assert.equal(v['type'], key.toLowerCase(), name);
    }
  });

  it('list views and /api/rawdata carry the same keys', async () => {
    const mws = (await get('/api/http/middlewares')) as Record<string, unknown>[];
    const svcs = (await get('/api/http/services')) as Record<string, unknown>[];
    const raw = (await get('/api/rawdata')) as Record<string, Record<string, Record<string, unknown>>>;
    for (const [name, [key, want]] of Object.entries(middlewares)) {
      assert.deepEqual(mws.find((m) => m['name'] === name)?.[key], want, name);
      assert.deepEqual(raw['middlewares']?.[name]?.[key], want, name);
    }
    for (const [name, [key, want]] of Object.entries(expectedServices())) {
      assert.deepEqual(svcs.find((s) => s['name'] === name)?.[key], want, name);
      assert.deepEqual(raw['services']?.[name]?.[key], want, name);
    }
    // Our own service fields are still there (the dashboard reads them).
    const lb = svcs.find((s) => s['name'] === 'lb@file')!;
    assert.deepEqual(
      (lb['servers'] as { url: string }[]).map((s) => s.url),
      [backend.url],
    );
  });

  it('TCP and UDP services and TCP middlewares: the same, in their views and /api/rawdata', async () => {
    const want: [string, string, string, string, unknown][] = [
      [
        'tcp/services',
        'tcpServices',
        't@file',
        'loadBalancer',
        { servers: [{ address: '127.0.0.1:1', tls: true }, { address: '127.0.0.1:2' }] },
      ],
      ['tcp/services', 'tcpServices', 'tw@file', 'weighted', { services: [{ name: 't', weight: 1 }] }],
      ['tcp/middlewares', 'tcpMiddlewares', 'tip@file', 'ipAllowList', { sourceRange: ['127.0.0.1/32'] }],
      ['udp/services', 'udpServices', 'u@file', 'loadBalancer', { servers: [{ address: '127.0.0.1:3' }] }],
    ];
    const raw = (await get('/api/rawdata')) as Record<string, Record<string, Record<string, unknown>>>;
    for (const [path, rawKey, name, key, value] of want) {
      const one = (await get(`/api/${path}/${name}`)) as Record<string, unknown>;
      assert.deepEqual(one[key], value, name);
      assert.equal(one['type'], key.toLowerCase(), name);
      const list = (await get(`/api/${path}`)) as Record<string, unknown>[];
      assert.deepEqual(list.find((o) => o['name'] === name)?.[key], value, name);
      assert.deepEqual(raw[rawKey]?.[name]?.[key], value, name);
    }
  });

  it('a disabled object that parsed shows its configuration too, as Traefik shows it beside `err`', async () => {
    const raw = (await get('/api/rawdata')) as Record<string, Record<string, Record<string, unknown>>>;
    for (const [path, rawKey, name, key, value] of [
      ['http/middlewares', 'middlewares', 'broken@file', 'chain', { middlewares: ['nowhere'] }],
      ['http/services', 'services', 'wbad@file', 'weighted', { services: [{ name: 'nowhere', weight: 1 }] }],
    ] as const) {
      const one = (await get(`/api/${path}/${name}`)) as Record<string, unknown>;
      // Left out here, but no router uses them: Traefik never builds them, so shows them enabled.
      assert.equal(one['status'], 'enabled', name);
      assert.ok((one['issues'] as string[]).length > 0, name);
      assert.deepEqual(one[key], value, name);
      assert.deepEqual(raw[rawKey]?.[name]?.[key], value, name);
    }
  });
});
