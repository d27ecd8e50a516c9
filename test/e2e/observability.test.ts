/**
 * Metrics and tracing end to end: the real proxy, real backends, known traffic, then a scrape of
 * /metrics on the admin entry point and the spans an OTLP receiver (started here) decoded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { selfSignedCertificate } from '../helpers/tls-certs.ts';
import { currentGeneration, waitApplied, waitForFileLines } from '../helpers/wait.ts';

/** The value of one sample line `name{labels} value`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('metrics and tracing', () => {
  let ok: Backend;
  let failing: Backend;
  let receiver: OtlpReceiver;
  let proxy: ProxyProcess;

  before(async () => {
    ok = await startBackend((req, res) => {
      res.setHeader('x-traceparent-seen', String(req.headers.traceparent ?? ''));
      res.end('hello');
    });
    failing = await startBackend((_req, res) => {
      res.statusCode = 503;
      res.end('down');
    });
    receiver = await startOtlpReceiver();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
metrics:
  prometheus: { addRoutersLabels: true }
tracing:
  serviceName: edge
  otlp: { http: { endpoint: "${receiver.url}" } }
http:
  routers:
    ok: { rule: "PathPrefix(\`/ok\`)", service: ok }
    bad: { rule: "PathPrefix(\`/bad\`)", service: bad }
  services:
    ok: { loadBalancer: { servers: [{ url: "${ok.url}" }] } }
    bad: { loadBalancer: { servers: [{ url: "${failing.url}" }] } }
    unused: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9/" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([ok?.close(), failing?.close(), receiver?.close()]);
  });

  it('counts requests by entry point, router, service and status code, with durations', async () => {
    for (let i = 0; i < 5; i++)
      assert.equal((await fetch(`http://127.0.0.1:${proxy.ports.web}/ok`)).status, 200);
    for (let i = 0; i < 3; i++)
      assert.equal((await fetch(`http://127.0.0.1:${proxy.ports.web}/bad`)).status, 503);
    assert.equal((await fetch(`http://127.0.0.1:${proxy.ports.web}/nowhere`)).status, 404);
    const res = await fetch(`http://127.0.0.1:${proxy.ports.traefik}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const get = (code: string) => ({ code, method: 'GET', protocol: 'http' });
    assert.equal(sample(text, 'traefik_entrypoint_requests_total', { entrypoint: 'web', ...get('200') }), 5);
    assert.equal(sample(text, 'traefik_entrypoint_requests_total', { entrypoint: 'web', ...get('503') }), 3);
    assert.equal(sample(text, 'traefik_entrypoint_requests_total', { entrypoint: 'web', ...get('404') }), 1);
    assert.equal(sample(text, 'traefik_service_requests_total', { service: 'ok@file', ...get('200') }), 5);
    assert.equal(sample(text, 'traefik_router_requests_total', { router: 'bad@file', ...get('503') }), 3);
    assert.equal(
      sample(text, 'traefik_service_request_duration_seconds_count', { service: 'ok@file', ...get('200') }),
      5,
    );
    assert.equal(
      sample(text, 'traefik_service_request_duration_seconds_bucket', {
        service: 'ok@file',
        ...get('200'),
        le: '+Inf',
      }),
      5,
    );
    assert.ok(
      (sample(text, 'traefik_entrypoint_responses_bytes_total', { entrypoint: 'web', ...get('200') }) ?? 0) >=
        5 * 5,
    );
    assert.equal(sample(text, 'traefik_service_server_up', { service: 'ok@file', url: ok.url }), 1);
    // Traefik builds (and its health checkers set the gauge of) only the services routers reach.
    assert.equal(sample(text, 'traefik_service_server_up', { service: 'unused@file' }), undefined);
    assert.ok((sample(text, 'traefik_config_reloads_total', {}) ?? 0) >= 1);
    // Traefik sets the gauge to float64(time.Now().Unix()): whole seconds.
    const lastReload = sample(text, 'traefik_config_last_reload_success', {}) ?? 0;
    assert.ok(lastReload > 1.7e9);
    assert.equal(Number.isInteger(lastReload), true, String(lastReload));
    assert.ok((sample(text, 'traffic_config_reloads_total', { result: 'success' }) ?? 0) >= 1);
    assert.ok((sample(text, 'traffic_upstream_pool_opened_total', { server: ok.url }) ?? 0) >= 1);
    assert.ok((sample(text, 'process_resident_memory_bytes', {}) ?? 0) > 1e6);
  });

  it('joins the client trace, propagates it to the backend and exports the span', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    const res = await fetch(`http://127.0.0.1:${proxy.ports.web}/ok/traced`, {
      headers: { traceparent: `00-${traceId}-${parent}-01`, tracestate: 'vendor=1' },
    });
    assert.equal(res.status, 200);
    const seen = res.headers.get('x-traceparent-seen') ?? '';
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(seen);
    assert.ok(m, `the backend got a traceparent: ${seen}`);
    assert.equal(m[1], traceId, 'same trace');
    assert.notEqual(m[2], parent, 'our span is the backend’s parent');
    assert.equal(ok.seen.at(-1)?.headers.tracestate, 'vendor=1');
    // Spans of the earlier tests may be there already: wait for this trace's. The entry point's
    // span joins the client's; the call to the server (its CLIENT span) is the backend's parent.
    const span = await receiver.waitForSpan((s) => s.traceId === traceId && s.name === 'EntryPoint', 10_000);
    const call = receiver.spans.find((s) => s.traceId === traceId && s.name === 'ReverseProxy');
    assert.equal(span.parentSpanId, parent);
    assert.equal(call?.spanId, m[2]);
    assert.equal(call?.parentSpanId, span.spanId);
    assert.equal(span.attributes['traffic.router'], 'ok@file');
    assert.equal(span.attributes['http.response.status_code'], 200);
    assert.equal(span.resource['service.name'], 'edge');
  });
});

describe('manualRouting (metrics.prometheus, ping)', () => {
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startBackend((_req, res) => res.end('app'));
    // Traefik's internal provider adds no router for them, and no `traefik` entry point is opened
    // for them: the configuration's own routers name prometheus@internal and ping@internal.
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
metrics:
  prometheus: { manualRouting: true }
ping: { manualRouting: true }
http:
  routers:
    scrape: { rule: "Path(\`/metrics\`)", service: prometheus@internal }
    health: { rule: "Path(\`/ping\`)", service: ping@internal }
    app: { rule: "PathPrefix(\`/\`)", service: app, priority: 1 }
  services:
    app: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('serves /metrics and /ping only through the routers that name them, with no traefik entry point', async () => {
    assert.deepEqual(Object.keys(proxy.ports), ['web']);
    const base = `http://127.0.0.1:${proxy.ports.web}`;
    assert.equal(await (await fetch(`${base}/app`)).text(), 'app');
    const ping = await fetch(`${base}/ping`);
    assert.equal(ping.status, 200);
    assert.equal(await ping.text(), 'OK');
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^traefik_entrypoint_requests_total\{/m);
  });
});

describe('router and entry point observability', () => {
  let app: Backend;
  let receiver: OtlpReceiver;
  let proxy: ProxyProcess;
  let dir: string;

  before(async () => {
    app = await startBackend((_req, res) => res.end('app'));
    receiver = await startOtlpReceiver();
    dir = mkdtempSync(join(tmpdir(), 'tm-e2e-obs-'));
    // Traefik v3.1+: an entry point's `observability` is its routers' default (its model, which
    // splits a router on several entry points: `quiet-loud` on quiet), a router's own keys win,
    // and a request no router takes follows its entry point.
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  quiet:
    address: "127.0.0.1:0"
    observability: { accessLogs: false, metrics: false, tracing: false }
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
accessLog: { format: json, filePath: "${join(dir, 'access.json')}" }
metrics:
  prometheus: { addRoutersLabels: true }
tracing:
  otlp: { http: { endpoint: "${receiver.url}" } }
http:
  routers:
    loud: { rule: "PathPrefix(\`/loud\`)", service: app }
    silent:
      rule: "PathPrefix(\`/silent\`)"
      service: app
      observability: { accessLogs: false, metrics: false, tracing: false }
    partial: { rule: "PathPrefix(\`/partial\`)", service: app, observability: { accessLogs: false } }
    optin:
      rule: "PathPrefix(\`/optin\`)"
      service: app
      entryPoints: [quiet]
      observability: { accessLogs: true, traceVerbosity: minimal }
  services:
    app: { loadBalancer: { servers: [{ url: "${app.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([app?.close(), receiver?.close()]);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('logs, counts and traces each request as its router and entry point say', async () => {
    const traceIds: Record<string, string> = {};
    let n = 0;
    const get = async (ep: string, path: string, status: number): Promise<void> => {
      const id = (++n).toString(16).padStart(32, 'a');
      traceIds[`${ep} ${path}`] = id;
      const res = await fetch(`http://127.0.0.1:${proxy.ports[ep]}${path}`, {
        headers: { traceparent: `00-${id}-00f067aa0ba902b7-01` },
      });
      assert.equal(res.status, status, `${ep} ${path}`);
      await res.arrayBuffer();
    };
    await get('web', '/loud', 200);
    await get('quiet', '/loud', 200);
    await get('web', '/silent', 200);
    await get('web', '/partial', 200);
    await get('quiet', '/optin', 200);
    await get('quiet', '/nowhere', 404);
    await get('web', '/nowhere', 404);
    await get('web', '/loud/end', 200);

    // Access log: lines are written in the order requests end; the last one closes the list.
    const lines = await waitForFileLines(join(dir, 'access.json'), 4);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      logged.map((r) => `${r['entryPointName']} ${r['RequestPath']} ${r['RouterName'] ?? '-'}`),
      ['web /loud loud@file', 'quiet /optin optin@file', 'web /nowhere -', 'web /loud/end loud@file'],
    );

    // Metrics: none of the quiet entry point's requests is counted (optin leaves metrics to it),
    // nor silent's; partial's are.
    const text = await (await fetch(`http://127.0.0.1:${proxy.ports.traefik}/metrics`)).text();
    const ok = { code: '200', method: 'GET', protocol: 'http' };
    assert.equal(sample(text, 'traefik_router_requests_total', { router: 'loud@file', ...ok }), 2);
    assert.equal(sample(text, 'traefik_router_requests_total', { router: 'partial@file', ...ok }), 1);
    assert.equal(sample(text, 'traefik_router_requests_total', { router: 'silent@file' }), undefined);
    assert.equal(sample(text, 'traefik_router_requests_total', { router: 'quiet-loud@file' }), undefined);
    assert.equal(sample(text, 'traefik_router_requests_total', { router: 'optin@file' }), undefined);
    assert.equal(sample(text, 'traefik_entrypoint_requests_total', { entrypoint: 'web', ...ok }), 3);
    assert.equal(
      sample(text, 'traefik_entrypoint_requests_total', { entrypoint: 'web', code: '404', method: 'GET' }),
      1,
    );
    assert.equal(sample(text, 'traefik_entrypoint_requests_total', { entrypoint: 'quiet' }), undefined);

    // Traces: spans leave in the order they end, so once the last request's is in, every
    // earlier one that was made is too.
    await receiver.waitForSpan((s) => s.traceId === traceIds['web /loud/end'], 10_000);
    const traced = new Set(receiver.spans.map((s) => s.traceId));
    // A request no router takes follows its entry point (Traefik's default handler has the
    // entry point's observability chain): web's 404 has its span, quiet's has none.
    const expectTraced = ['web /loud', 'web /partial', 'web /nowhere', 'web /loud/end'];
    for (const [k, id] of Object.entries(traceIds)) {
      // quiet /optin: its router sets accessLogs only; tracing stays its entry point's, off.
      assert.equal(traced.has(id), expectTraced.includes(k), k);
    }
  });
});

describe('addInternals', () => {
  let app: Backend;
  let receiver: OtlpReceiver;
  let proxy: ProxyProcess;
  let dir: string;

  before(async () => {
    app = await startBackend((_req, res) => res.end('app'));
    receiver = await startOtlpReceiver();
    dir = mkdtempSync(join(tmpdir(), 'tm-e2e-internals-'));
    // /ping and /metrics on the entry point of the application: Traefik leaves its internal
    // routers out of each signal unless that signal's addInternals is set (here: metrics only).
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
ping: { entryPoint: web }
accessLog: { format: json, filePath: "${join(dir, 'access.json')}" }
metrics:
  addInternals: true
  prometheus: { entryPoint: web, addRoutersLabels: true }
tracing:
  otlp: { http: { endpoint: "${receiver.url}" } }
http:
  routers:
    app: { rule: "PathPrefix(\`/app\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${app.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([app?.close(), receiver?.close()]);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('observes the internal routers only for the signals whose addInternals is set', async () => {
    const pingTrace = 'b'.repeat(32);
    const appTrace = 'c'.repeat(32);
    const get = async (path: string, trace: string): Promise<void> => {
      const res = await fetch(`http://127.0.0.1:${proxy.ports.web}${path}`, {
        headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` },
      });
      assert.equal(res.status, 200, path);
      await res.arrayBuffer();
    };
    await get('/ping', pingTrace);
    await get('/ping', pingTrace);
    await get('/app', appTrace);

    const lines = await waitForFileLines(join(dir, 'access.json'), 1);
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as Record<string, unknown>)['RequestPath']),
      ['/app'],
      'the /ping requests before it are not logged',
    );

    const text = await (await fetch(`http://127.0.0.1:${proxy.ports.web}/metrics`)).text();
    const ok = { code: '200', method: 'GET', protocol: 'http' };
    assert.equal(sample(text, 'traefik_router_requests_total', { router: 'ping@internal', ...ok }), 2);
    assert.equal(sample(text, 'traefik_router_requests_total', { router: 'app@file', ...ok }), 1);

    await receiver.waitForSpan((s) => s.traceId === appTrace, 10_000);
    assert.equal(
      receiver.spans.some((s) => s.traceId === pingTrace),
      false,
      'no span for /ping',
    );
  });
});

describe('requests over TLS (traefik_*_requests_tls_total)', () => {
  let app: Backend;
  let proxy: ProxyProcess;
  const cert = selfSignedCertificate(['shop.test']);

  before(async () => {
    app = await startBackend((_req, res) => res.end('app'));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
metrics:
  prometheus: { addRoutersLabels: true }
tls:
  certificates:
    - { certFile: shop.pem, keyFile: shop.key }
http:
  routers:
    app: { rule: "PathPrefix(\`/app\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${app.url}" }] } }
`,
      files: { 'shop.pem': cert.certPem, 'shop.key': cert.keyPem },
    });
  });

  after(async () => {
    await proxy?.stop();
    await app?.close();
  });

  it("counts each HTTPS request by its connection's TLS version and cipher, at every level", async () => {
    // HTTP/1.1 over TLS 1.2 (a ChaCha20 suite: Go's name ends in _SHA256), three requests on one
    // connection and a 404 no router takes.
    const agent = new https.Agent({
      keepAlive: true,
      maxSockets: 1,
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305',
    });
    let tls12: { version: string; cipher: string } | undefined;
    const h1 = (path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = https.get(
          {
            host: '127.0.0.1',
            port: proxy.ports.websecure,
            path,
            servername: 'shop.test',
            ca: cert.certPem,
            agent,
          },
          (res) => {
            const s = res.socket as TLSSocket;
            tls12 = { version: s.getProtocol()!.replace('TLSv', ''), cipher: s.getCipher().standardName };
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
      });
    for (let i = 0; i < 3; i++) assert.equal(await h1('/app/h1'), 200);
    assert.equal(await h1('/nowhere'), 404);
    agent.destroy();
    assert.deepEqual(tls12, { version: '1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256' });

    // HTTP/2 over TLS 1.3: two streams on one connection.
    const session = http2.connect(`https://127.0.0.1:${proxy.ports.websecure}`, {
      ca: cert.certPem,
      servername: 'shop.test',
      minVersion: 'TLSv1.3',
    });
    const h2 = (path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const st = session.request({ ':path': path, ':authority': 'shop.test' });
        st.on('response', (h) => resolve(Number(h[':status'])));
        st.on('error', reject);
        st.resume();
      });
    assert.equal(await h2('/app/h2'), 200);
    assert.equal(await h2('/app/h2'), 200);
    const s13 = session.socket as TLSSocket;
    const tls13 = { tls_version: '1.3', tls_cipher: s13.getCipher().standardName };
    assert.equal(s13.getProtocol(), 'TLSv1.3');
    session.close();

    // Cleartext requests are not counted.
    assert.equal((await fetch(`http://127.0.0.1:${proxy.ports.web}/app/plain`)).status, 200);

    const text = await (await fetch(`http://127.0.0.1:${proxy.ports.traefik}/metrics`)).text();
    const l12 = { tls_version: '1.2', tls_cipher: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256' };
    const ep = 'traefik_entrypoint_requests_tls_total';
    assert.equal(sample(text, ep, { entrypoint: 'websecure', ...l12 }), 4);
    assert.equal(sample(text, ep, { entrypoint: 'websecure', ...tls13 }), 2);
    assert.equal(sample(text, ep, { entrypoint: 'web' }), undefined);
    const rt = 'traefik_router_requests_tls_total';
    // Traefik's applyModel: `app` (on both entry points) is `websecure-app` on the one with http.tls.
    const router = 'websecure-app@file';
    assert.equal(sample(text, rt, { router, service: 'app@file', ...l12 }), 3);
    assert.equal(sample(text, rt, { router, service: 'app@file', ...tls13 }), 2);
    const sv = 'traefik_service_requests_tls_total';
    assert.equal(sample(text, sv, { service: 'app@file', ...l12 }), 3);
    assert.equal(sample(text, sv, { service: 'app@file', ...tls13 }), 2);
    assert.match(text, /# TYPE traefik_service_requests_tls_total counter/);
    assert.equal(text.match(/^traefik_service_requests_tls_total\{/gm)?.length, 2);
  });
});

describe('metrics.prometheus.headerLabels', () => {
  let app: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    app = await startBackend((_req, res) => res.end('app'));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
metrics:
  prometheus:
    addRoutersLabels: true
    headerLabels: { useragent: User-Agent, tenant: X-Tenant, hostname: Host }
http:
  routers:
    app: { rule: "PathPrefix(\`/app\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${app.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await app?.close();
  });

  it("labels each request's requests_total series with the configured headers' values", async () => {
    const get = async (path: string, headers: Record<string, string>): Promise<number> => {
      const res = await fetch(`http://127.0.0.1:${proxy.ports.web}${path}`, { headers });
      await res.arrayBuffer();
      return res.status;
    };
    for (let i = 0; i < 2; i++)
      assert.equal(await get('/app', { 'user-agent': 'probe/1', 'x-tenant': 'acme' }), 200);
    assert.equal(await get('/app', { 'user-agent': 'probe/1', 'x-tenant': 'globex' }), 200);
    assert.equal(await get('/app', { 'user-agent': 'probe/2' }), 200);
    assert.equal(await get('/nowhere', { 'user-agent': 'probe/1', 'x-tenant': 'acme' }), 404);
    const text = await (await fetch(`http://127.0.0.1:${proxy.ports.traefik}/metrics`)).text();
    const ok = { code: '200', method: 'GET', protocol: 'http' };
    // Host is "" as in Traefik, whose Go server keeps it out of the header map (traefik#10169).
    const acme = { useragent: 'probe/1', tenant: 'acme', hostname: '' };
    const ep = 'traefik_entrypoint_requests_total';
    assert.equal(sample(text, ep, { entrypoint: 'web', ...ok, ...acme }), 2);
    assert.equal(sample(text, ep, { entrypoint: 'web', ...ok, tenant: 'globex' }), 1);
    assert.equal(sample(text, ep, { entrypoint: 'web', ...ok, useragent: 'probe/2', tenant: '' }), 1);
    assert.equal(sample(text, ep, { entrypoint: 'web', code: '404', ...acme }), 1);
    assert.equal(sample(text, 'traefik_router_requests_total', { router: 'app@file', ...ok, ...acme }), 2);
    assert.equal(sample(text, 'traefik_service_requests_total', { service: 'app@file', ...ok, ...acme }), 2);
    assert.equal(text.match(/^traefik_service_requests_total\{/gm)?.length, 3);
    // The other families keep their own labels only.
    assert.equal(
      sample(text, 'traefik_service_request_duration_seconds_count', { service: 'app@file', ...ok }),
      4,
    );
    assert.doesNotMatch(text, /^traefik_\w+_(request_duration_seconds\w*|re\w+_bytes_total)\{[^}]*tenant=/m);
  });
});

describe("the router's and the service's labels, as Traefik's handlers set them", () => {
  let app: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    app = await startBackend((_req, res) => res.end('app'));
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
metrics:
  prometheus: { addRoutersLabels: true }
http:
  routers:
    guarded: { rule: "PathPrefix(\`/guarded\`)", service: app, middlewares: [deny] }
    split: { rule: "PathPrefix(\`/split\`)", service: split }
  middlewares:
    deny: { ipAllowList: { sourceRange: ["10.0.0.0/8"] } }
  services:
    app: { loadBalancer: { servers: [{ url: "${app.url}" }] } }
    split: { weighted: { services: [{ name: app, weight: 1 }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await app?.close();
  });

  it('counts a middleware answer on the router only, and a weighted tree under its leaf service', async () => {
    const get = async (path: string): Promise<number> => {
      const res = await fetch(`http://127.0.0.1:${proxy.ports.web}${path}`);
      await res.arrayBuffer();
      return res.status;
    };
    assert.equal(await get('/guarded'), 403);
    assert.equal(await get('/split'), 200);
    assert.equal(await get('/split'), 200);
    const text = await (await fetch(`http://127.0.0.1:${proxy.ports.traefik}/metrics`)).text();
    const rt = 'traefik_router_requests_total';
    const sv = 'traefik_service_requests_total';
    // The middleware answered before any server: Traefik's service metrics wrap each server.
    assert.equal(sample(text, rt, { router: 'guarded@file', service: 'app@file', code: '403' }), 1);
    assert.equal(sample(text, sv, { code: '403' }), undefined);
    assert.equal(sample(text, 'traefik_entrypoint_requests_total', { entrypoint: 'web', code: '403' }), 1);
    // The router names its own service; the service families the leaf whose server answered.
    assert.equal(sample(text, rt, { router: 'split@file', service: 'split@file', code: '200' }), 2);
    assert.equal(sample(text, rt, { router: 'split@file', service: 'app@file' }), undefined);
    assert.equal(sample(text, sv, { service: 'app@file', code: '200' }), 2);
    assert.equal(sample(text, sv, { service: 'split@file' }), undefined);
  });
});

describe('series of removed routers and services', () => {
  let app: Backend;
  let proxy: ProxyProcess;
  let next: string;
  const dynamic = (routers: string, services: string) => `http:
  routers:
${routers}  services:
${services}`;

  before(async () => {
    app = await startBackend((_req, res) => res.end('app'));
    const keep = `    keep: { rule: "PathPrefix(\`/keep\`)", service: kept }\n`;
    const kept = `    kept: { loadBalancer: { servers: [{ url: "${app.url}" }] } }\n`;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
metrics:
  prometheus: { addRoutersLabels: true }
providers:
  file: { filename: dyn.yaml }
`,
      files: {
        'dyn.yaml': dynamic(
          `${keep}    gone: { rule: "PathPrefix(\`/gone\`)", service: dead }\n`,
          `${kept}    dead: { loadBalancer: { servers: [{ url: "${app.url}" }] } }\n`,
        ),
      },
    });
    next = dynamic(keep, kept);
  });

  after(async () => {
    await proxy?.stop();
    await app?.close();
  });

  it('exports them once more at the scrape after the reload, then drops them (Traefik)', async () => {
    for (const path of ['/keep', '/gone']) {
      const res = await fetch(`http://127.0.0.1:${proxy.ports.web}${path}`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    const scrape = async () => (await fetch(`http://127.0.0.1:${proxy.ports.traefik}/metrics`)).text();
    const generation = currentGeneration(proxy);
    proxy.writeFile('dyn.yaml', next);
    await waitApplied(proxy, generation + 1);
    const last = await scrape();
    assert.equal(sample(last, 'traefik_service_requests_total', { service: 'dead@file' }), 1);
    assert.equal(sample(last, 'traefik_router_requests_total', { router: 'gone@file' }), 1);
    const then = await scrape();
    assert.equal(sample(then, 'traefik_service_requests_total', { service: 'dead@file' }), undefined);
    assert.equal(sample(then, 'traefik_router_requests_total', { router: 'gone@file' }), undefined);
    assert.equal(sample(then, 'traefik_service_requests_total', { service: 'kept@file' }), 1);
    assert.equal(sample(then, 'traefik_router_requests_total', { router: 'keep@file' }), 1);
    assert.equal(sample(then, 'traefik_entrypoint_requests_total', { entrypoint: 'web', code: '200' }), 2);
  });
});
