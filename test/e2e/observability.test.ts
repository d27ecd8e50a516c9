/**
 * Metrics and tracing end to end: the real proxy, real backends, known traffic, then a scrape of
 * /metrics on the admin entry point and the spans an OTLP receiver (started here) decoded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

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
    assert.ok((sample(text, 'traefik_config_reloads_total', {}) ?? 0) >= 1);
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
    // Spans of the earlier tests may be there already: wait for this trace's.
    const span = await receiver.waitForSpan((s) => s.traceId === traceId, 10_000);
    assert.equal(span.parentSpanId, parent);
    assert.equal(span.spanId, m[2]);
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
