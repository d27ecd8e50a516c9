/**
 * The API answering as Traefik's pkg/api does, through the real proxy: gorilla/mux's 404 and 405
 * (GET-only routes, HEAD included), writeError's `{"message":…}` bodies, the list filters on the
 * names as routers write them (criterion.go), issues of names holding `@` on their object,
 * `/api/entrypoints` in the static EntryPoint's shape, the overview's providers, v3.7's
 * certificate status, and `api.debug`'s Node profiles under `/debug/pprof/`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { selfSignedCertificate } from '../../src/tls/x509/certificate.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('the API as Traefik answers it', () => {
  let proxy: ProxyProcess;
  let backend: Backend;
  const expired = selfSignedCertificate(['old.test'], {
    notBefore: new Date(Date.now() - 10 * 24 * 3600 * 1000),
    days: 1,
  });

  before(async () => {
    backend = await startBackend();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["10.0.0.0/8"] }
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: { insecure: true, debug: true }
http:
  routers:
    one: { rule: "Path(\`/one\`)", service: app, middlewares: [tag] }
    two: { rule: "Path(\`/two\`)", service: app@file, middlewares: [tag@file] }
    three: { rule: "Path(\`/three\`)", service: other }
    bad@x: { rule: "Path(", service: app }
    secure: { rule: "Host(\`old.test\`)", service: app, tls: {} }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
    other: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
  middlewares:
    tag: { headers: { customRequestHeaders: { X-Tag: t } } }
tls:
  certificates:
    - { certFile: old.pem, keyFile: old.key }
`,
      files: { 'old.pem': expired.certPem, 'old.key': expired.keyPem },
    });
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  const get = (path: string, init?: RequestInit) =>
    fetch(`http://127.0.0.1:${proxy.ports['traefik']}${path}`, init);
  const names = async (path: string): Promise<string[]> => {
    const r = await get(path);
    assert.equal(r.status, 200, path);
    return ((await r.json()) as { name: string }[]).map((x) => x.name);
  };

  // pkg/api/criterion.go filterService / filterMiddleware, on RouterInfo's own (written) names;
  // there is no `provider` parameter.
  it('filters routers on the service and middleware names as written, ignoring provider=', async () => {
    // `bad@x` writes `app` too (it is read as app@x, which does not exist, but the filter compares
    // what is written).
    const writingApp = ['bad@x@file', 'one@file', 'secure@file'];
    assert.deepEqual(await names('/api/http/routers?serviceName=app'), writingApp);
    assert.deepEqual(await names('/api/http/routers?serviceName=app@file'), [...writingApp, 'two@file']);
    assert.deepEqual(await names('/api/http/routers?serviceName=app@docker'), writingApp);
    assert.deepEqual(await names('/api/http/routers?middlewareName=tag'), ['one@file']);
    assert.deepEqual(await names('/api/http/routers?middlewareName=tag@file'), ['two@file']);
    // The internal provider's routers too (api.insecure and api.debug: internal.go).
    assert.deepEqual(await names('/api/http/routers?provider=nope'), [
      'api@internal',
      'bad@x@file',
      'dashboard@internal',
      'debug@internal',
      'one@file',
      'secure@file',
      'three@file',
      'two@file',
    ]);
  });

  // Traefik's runtime AddError puts an object's errors on it, whatever its name holds.
  it('shows the errors of a name holding @ on that object', async () => {
    const r = await get('/api/http/routers/bad%40x%40file');
    assert.equal(r.status, 200);
    const router = (await r.json()) as { status: string; issues: string[] };
    assert.equal(router.status, 'disabled');
    assert.ok(
      router.issues.some((i) => i.includes('http.routers.bad@x@file.rule: invalid rule')),
      JSON.stringify(router.issues),
    );
    const disabled = await names('/api/http/routers?status=disabled');
    assert.deepEqual(disabled, ['bad@x@file']);
  });

  // gorilla/mux: `.Methods(http.MethodGet)` routes, Go's NotFound; writeError is http.Error.
  it('answers unknown paths, other methods and missing objects byte for byte as Traefik', async () => {
    const nowhere = await get('/api/nowhere');
    assert.equal(nowhere.status, 404);
    assert.equal(nowhere.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await nowhere.text(), '404 page not found\n');
    // mux's `{routerID}` is one segment, never empty.
    for (const path of ['/api/http/routers/', '/api/entrypoints/', '/api/http/routers/a/b']) {
      const r = await get(path);
      assert.equal(r.status, 404, path);
      assert.equal(await r.text(), '404 page not found\n', path);
    }
    for (const [method, path] of [
      ['HEAD', '/api/overview'],
      ['POST', '/api/http/routers'],
      ['HEAD', '/api/http/routers/one@file'],
      ['POST', '/api/entrypoints/web'],
    ] as const) {
      const r = await get(path, { method });
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(await r.text(), '', `${method} ${path}`);
    }
    const missing = await get('/api/http/routers/nope@file');
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await missing.text(), '{"message":"router not found: nope@file"}\n');
    // A broken escape never reaches the API: the entry point refuses it, as Go's server does.
    const bad = await get('/api/http/routers/a%zz');
    assert.equal(bad.status, 400);
    await bad.text();
    const page = await get('/api/http/services?page=9');
    assert.equal(page.status, 400);
    assert.equal(await page.text(), '{"message":"invalid request: page: 9, per_page: 100"}\n');
    const ok = await get('/api/http/routers');
    assert.equal(ok.headers.get('content-type'), 'application/json');
  });

  // pkg/api/handler_entrypoint.go: the static EntryPoint (SetDefaults applied) and its name.
  it('shows an entry point as its static configuration in Traefik’s JSON', async () => {
    const r = await get('/api/entrypoints/web');
    assert.equal(r.status, 200);
    const ep = (await r.json()) as Record<string, unknown>;
    assert.match(String(ep['address']), /^127\.0\.0\.1:/);
    const { address: _, ...rest } = ep;
    assert.deepEqual(rest, {
      transport: {
        lifeCycle: { graceTimeOut: '10s' },
        respondingTimeouts: { readTimeout: '1m0s', idleTimeout: '3m0s' },
      },
      forwardedHeaders: { trustedIPs: ['10.0.0.0/8'] },
      http: { sanitizePath: true, maxHeaderBytes: 16384, encodedCharacters: { allowEncodedSlash: true } },
      http2: { maxConcurrentStreams: 250, maxDecoderHeaderTableSize: 4096, maxEncoderHeaderTableSize: 4096 },
      udp: { timeout: '3s' },
      name: 'web',
    });
    const list = (await (await get('/api/entrypoints')).json()) as { name: string; transport: unknown }[];
    assert.deepEqual(
      list.map((e) => e.name),
      ['traefik', 'web'],
    );
    assert.ok(list.every((e) => e.transport !== undefined));
  });

  // pkg/api/handler_overview.go getProviders: the static providers by Go field name.
  it('names the providers in the overview as Traefik’s getProviders', async () => {
    const o = (await (await get('/api/overview')).json()) as { providers: string[]; features: unknown };
    assert.deepEqual(o.providers, ['File']);
    assert.deepEqual(o.features, { tracing: '', metrics: '', accessLog: false });
  });

  // Traefik v3.7 (#12628) pkg/api/certificate.go getCertificateStatus: certStatusExpired.
  it('gives an expired certificate the status `expired`', async () => {
    const certs = (await (await get('/api/certificates?status=expired')).json()) as {
      commonName: string;
      status: string;
    }[];
    assert.deepEqual(
      certs.map((c) => [c.commonName, c.status]),
      [['old.test', 'expired']],
    );
  });

  it('takes a bounded CPU or heap profile of the main thread under /debug/pprof (not Go’s format)', async () => {
    const cpu = await get('/debug/pprof/profile?seconds=1');
    assert.equal(cpu.status, 200);
    assert.match(cpu.headers.get('content-disposition') ?? '', /profile\.cpuprofile/);
    const profile = (await cpu.json()) as { nodes: unknown[]; startTime: number; endTime: number };
    assert.ok(profile.nodes.length > 0);
    assert.ok(profile.endTime > profile.startTime);
    const heap = await get('/debug/pprof/heap?seconds=1');
    assert.equal(heap.status, 200);
    assert.ok(((await heap.json()) as { head: unknown }).head !== undefined);
    const tooLong = await get('/debug/pprof/profile?seconds=61');
    assert.equal(tooLong.status, 400);
    await tooLong.text();
    const head = await get('/debug/pprof/profile', { method: 'HEAD' });
    assert.equal(head.status, 405);
    const unknown = await get('/debug/pprof/goroutine');
    assert.equal(unknown.status, 404);
    await unknown.text();
  });
});

/**
 * Traefik's `error` and `status` (pkg/config/runtime AddError), its lowercased `type`
 * (pkg/api/handler_http.go extractType) and its omitempty fields, through the real proxy: what a
 * script written for Traefik's API reads (admin/traefik-errors.ts, docs/admin-api.md).
 */
describe("the API's objects as Traefik writes them: error, status, type", () => {
  let proxy: ProxyProcess;
  let backend: Backend;

  before(async () => {
    backend = await startBackend();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: { insecure: true }
http:
  routers:
    partial: { rule: "Path(\`/p\`)", service: app, entryPoints: [web, nope] }
    nowhere: { rule: "Path(\`/n\`)", service: app, entryPoints: [nope] }
    plain: { rule: "Path(\`/a\`)", service: app }
    ghost: { rule: "Path(\`/g\`)", service: app, middlewares: [ghost] }
    typeless: { rule: "Path(\`/t\`)", service: typeless }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
    idle: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
    empty: { loadBalancer: { servers: [] } }
    typeless: {}
  middlewares:
    rl: { rateLimit: { average: 10 } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  type Obj = Record<string, unknown>;
  const json = async <T = Obj>(path: string): Promise<T> => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}${path}`);
    assert.equal(r.status, 200, path);
    return (await r.json()) as T;
  };

  it("routers: Traefik's error strings, warning for an entry point missing among others", async () => {
    const routers = await json<Obj[]>('/api/http/routers');
    const by = new Map(routers.map((r) => [r['name'], r]));
    const view = (n: string) => [by.get(n)?.['status'], by.get(n)?.['error']];
    assert.deepEqual(view('partial@file'), ['warning', ['entryPoint "nope" doesn\'t exist']]);
    assert.deepEqual(view('nowhere@file'), [
      'disabled',
      ['entryPoint "nope" doesn\'t exist', 'no valid entryPoint for this router'],
    ]);
    assert.deepEqual(view('ghost@file'), ['disabled', ['middleware "ghost@file" does not exist']]);
    assert.deepEqual(view('typeless@file'), [
      'disabled',
      ['the service "typeless@file" does not have any type defined'],
    ]);
    // Nothing wrong: no `error`, and no empty `middlewares` (omitempty); our issues stay beside.
    const plain = by.get('plain@file')!;
    assert.equal(plain['status'], 'enabled');
    assert.ok(!('error' in plain) && !('middlewares' in plain), JSON.stringify(plain));
    assert.deepEqual(plain['issues'], []);
    assert.ok((by.get('ghost@file')!['issues'] as string[]).some((i) => i.includes('ghost')));
    // Traefik's status filter and the overview count the warning.
    const warned = await json<Obj[]>('/api/http/routers?status=warning');
    assert.deepEqual(
      warned.map((r) => r['name']),
      ['partial@file'],
    );
    const overview = await json<{ http: { routers: Obj } }>('/api/overview');
    assert.deepEqual(overview.http.routers, { total: 7, warnings: 1, errors: 3 });
  });

  it('services and middlewares: lowercased type, serverStatus only when a router uses it, no empty usedBy', async () => {
    const services = await json<Obj[]>('/api/http/services');
    const by = new Map(services.map((s) => [s['name'], s]));
    const app = by.get('app@file')!;
    assert.equal(app['type'], 'loadbalancer');
    assert.deepEqual(app['serverStatus'], { [backend.url]: 'UP' });
    // No router: never built by Traefik, so no serverStatus; no usedBy (omitempty).
    const idle = by.get('idle@file')!;
    assert.equal(idle['status'], 'enabled');
    assert.ok(!('serverStatus' in idle) && !('usedBy' in idle), JSON.stringify(idle));
    // A warning of ours (no servers) that Traefik has not: enabled, no error, the issue kept.
    const empty = by.get('empty@file')!;
    assert.equal(empty['status'], 'enabled');
    assert.ok(!('error' in empty), JSON.stringify(empty));
    assert.ok((empty['issues'] as string[]).length > 0);
    // No kind: no type (extractType finds none), disabled with Traefik's words.
    const typeless = by.get('typeless@file')!;
    assert.ok(!('type' in typeless), JSON.stringify(typeless));
    assert.deepEqual(typeless['error'], ['the service "typeless@file" does not have any type defined']);
    const rl = await json('/api/http/middlewares/rl@file');
    assert.equal(rl['type'], 'ratelimit');
    assert.deepEqual(rl['rateLimit'], { average: 10, period: '1s', burst: 1 });
    assert.ok(!('usedBy' in rl), JSON.stringify(rl));
  });
});
