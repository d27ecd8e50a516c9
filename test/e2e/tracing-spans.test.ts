/**
 * The spans a request makes, as Traefik v3 makes them, through the real proxy to a real OTLP/HTTP
 * receiver:
 * - the entry point's SERVER span `EntryPoint` (pkg/middlewares/observability/entrypoint.go), for
 *   every request of a traced router or entry point: a 404 no router took and an answer a
 *   middleware made itself too; its request attributes are read before the router's middlewares;
 * - a CLIENT span `ReverseProxy` per call to a server (pkg/proxy/httputil/observability.go), whose
 *   id the server gets in `traceparent`; a CLIENT span is an error for 4xx and 5xx, the SERVER
 *   span for 5xx only (pkg/observability/tracing/tracing.go serverStatus, clientStatus);
 * - with `traceVerbosity: detailed`: the INTERNAL spans `Router`, one per middleware named by its
 *   type, `Service`, and one `Retry` per attempt of a retry middleware (router.go, middleware.go,
 *   service.go, pkg/middlewares/retry/retry.go).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../helpers/otlp-receiver.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const SERVER = 2;
const CLIENT = 3;
const INTERNAL = 1;
const ERROR = 2;
const UNSET = 0;

/** A loopback port nothing listens on (bound, then closed): connections to it are refused. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

let traces = 0;
/** A new sampled trace id and the traceparent a client sends with it. */
function newTrace(sampled = true): { id: string; header: string } {
  const id = (++traces).toString(16).padStart(32, 'e');
  return { id, header: `00-${id}-00f067aa0ba902b7-${sampled ? '01' : '00'}` };
}

/** The backend's view of the traceparent it got: [trace id, parent id, flags]. */
function parseSeen(value: string | string[] | undefined): [string, string, string] {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/.exec(String(value ?? ''));
  assert.ok(m, `the backend got a traceparent: ${String(value)}`);
  return [m[1]!, m[2]!, m[3]!];
}

describe('tracing: the spans of a request (minimal verbosity)', () => {
  let app: Backend;
  let auth: Backend;
  let shadow: Backend;
  let receiver: OtlpReceiver;
  let proxy: ProxyProcess;

  before(async () => {
    auth = await startBackend((_req, res) => res.end('ok'));
    shadow = await startBackend((_req, res) => res.end('shadow'));
    app = await startBackend((req, res) => {
      const code = Number(/status=(\d+)/.exec(req.url ?? '')?.[1] ?? 200);
      res.statusCode = code;
      res.setHeader('X-Answer', 'yes');
      res.end('app');
    });
    receiver = await startOtlpReceiver();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
ping: { entryPoint: web }
tracing:
  addInternals: true
  capturedRequestHeaders: ["X-Req"]
  capturedResponseHeaders: ["X-Answer"]
  otlp: { http: { endpoint: "${receiver.url}" } }
http:
  routers:
    app: { rule: "PathPrefix(\`/app\`)", service: app }
    strip: { rule: "PathPrefix(\`/strip\`)", service: app, middlewares: [strip] }
    locked: { rule: "PathPrefix(\`/locked\`)", service: app, middlewares: [auth] }
    guarded: { rule: "PathPrefix(\`/guarded\`)", service: app, middlewares: [ask] }
    copied: { rule: "PathPrefix(\`/copied\`)", service: mirrored }
  middlewares:
    ask: { forwardAuth: { address: "${auth.url}/verify?key=k1" } }
    strip: { stripPrefix: { prefixes: ["/strip"] } }
    auth: { basicAuth: { users: ["user:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"] } }
  services:
    app: { loadBalancer: { servers: [{ url: "${app.url}" }] } }
    shadow: { loadBalancer: { servers: [{ url: "${shadow.url}" }] } }
    mirrored: { mirroring: { service: app, mirrors: [{ name: shadow, percent: 100 }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([app?.close(), auth?.close(), shadow?.close(), receiver?.close()]);
  });

  it("a mirror's copy is a call of its own: its ReverseProxy span, whose id its server gets", async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/copied`, {
      headers: { traceparent: t.header },
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const copy = await receiver.waitForSpan(
      (s) => s.traceId === t.id && s.name === 'ReverseProxy' && s.attributes['server.port'] === shadow.port,
      10_000,
    );
    await receiver.waitForSpan((s) => s.traceId === t.id && s.name === 'EntryPoint', 10_000);
    const spans = receiver.spans.filter((s) => s.traceId === t.id);
    const ep = spans.find((s) => s.name === 'EntryPoint')!;
    const primary = spans.find((s) => s.name === 'ReverseProxy' && s.attributes['server.port'] === app.port)!;
    assert.equal(copy.parentSpanId, ep.spanId);
    assert.equal(primary.parentSpanId, ep.spanId);
    assert.equal(copy.attributes['http.response.status_code'], 200);
    const seen = shadow.seen.at(-1)?.headers.traceparent;
    assert.equal(parseSeen(seen)[1], copy.spanId);
    assert.equal(parseSeen(app.seen.at(-1)?.headers.traceparent)[1], primary.spanId);
  });

  const spansOf = async (id: string, n: number): Promise<ReceivedSpan[]> => {
    await receiver.waitForSpan((s) => s.traceId === id && s.name === 'EntryPoint', 10_000);
    const spans = receiver.spans.filter((s) => s.traceId === id);
    assert.equal(spans.length, n, spans.map((s) => s.name).join(','));
    return spans;
  };

  it("forwardAuth's call: an AuthRequest CLIENT span, whose id the auth server gets, without a status", async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/guarded`, {
      headers: { traceparent: t.header },
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const spans = await spansOf(t.id, 3);
    const ep = spans.find((s) => s.name === 'EntryPoint')!;
    const ask = spans.find((s) => s.name === 'AuthRequest')!;
    const call = spans.find((s) => s.name === 'ReverseProxy')!;
    assert.equal(ask.kind, CLIENT);
    assert.equal(ask.parentSpanId, ep.spanId);
    assert.equal(call.parentSpanId, ep.spanId);
    assert.equal(ask.attributes['url.full'], `${auth.url}/verify?key=REDACTED`);
    assert.equal(ask.attributes['server.port'], auth.port);
    assert.equal(ask.attributes['http.request.method'], 'GET');
    // Traefik ends it before it would record the answer: no status code, no status.
    assert.equal(ask.attributes['http.response.status_code'], undefined);
    assert.equal(ask.status.code, UNSET);
    const [traceId, parent] = parseSeen(auth.seen.at(-1)?.headers.traceparent);
    assert.equal(traceId, t.id);
    assert.equal(parent, ask.spanId);
    assert.equal(parseSeen(app.seen.at(-1)?.headers.traceparent)[1], call.spanId);
  });

  it('an EntryPoint SERVER span and a ReverseProxy CLIENT span under it, whose id the server gets', async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/app/x?token=s&b=1`, {
      headers: { traceparent: t.header, tracestate: 'v=1', 'x-req': 'r' },
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const [traceId, parent, flags] = parseSeen(app.seen.at(-1)?.headers.traceparent);
    assert.equal(traceId, t.id);
    assert.equal(flags, '01');
    assert.equal(app.seen.at(-1)?.headers.tracestate, 'v=1');

    const spans = await spansOf(t.id, 2);
    const ep = spans.find((s) => s.name === 'EntryPoint')!;
    const call = spans.find((s) => s.name === 'ReverseProxy')!;
    assert.equal(ep.kind, SERVER);
    assert.equal(ep.parentSpanId, '00f067aa0ba902b7');
    assert.equal(ep.attributes['entry_point'], 'web');
    assert.equal(ep.attributes['http.response.status_code'], 200);
    assert.equal(call.kind, CLIENT);
    assert.equal(call.parentSpanId, ep.spanId);
    assert.equal(call.spanId, parent, "the server's parent is the CLIENT span");
    assert.equal(call.traceState, 'v=1');
    const a = call.attributes;
    assert.equal(a['http.request.method'], 'GET');
    assert.equal(a['network.protocol.version'], '1.1');
    assert.equal(a['url.full'], `http://127.0.0.1:${app.port}/app/x?b=REDACTED&token=REDACTED`);
    assert.equal(a['url.scheme'], 'http');
    assert.equal(a['server.address'], '127.0.0.1');
    assert.equal(a['server.port'], app.port);
    assert.equal(a['network.peer.address'], '127.0.0.1');
    assert.equal(a['network.peer.port'], app.port);
    assert.equal(a['http.response.status_code'], 200);
    assert.deepEqual(a['http.request.header.x-req'], ['r']);
    assert.deepEqual(a['http.response.header.x-answer'], ['yes']);
    assert.deepEqual(call.status, { code: UNSET, message: '' });
    // The server span keeps its own attributes: it is not the call's.
    assert.equal(ep.attributes['url.path'], '/app/x');
    // No router, middleware or service span at minimal verbosity.
    assert.equal(
      spans.some((s) => s.kind === INTERNAL),
      false,
    );
  });

  it('a 4xx from the server is an error of the CLIENT span only; a 5xx of both', async () => {
    const t404 = newTrace();
    const t503 = newTrace();
    for (const [t, code] of [
      [t404, 404],
      [t503, 503],
    ] as const) {
      const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/app/?status=${code}`, {
        headers: { traceparent: t.header },
      });
      assert.equal(res.status, code);
      await res.arrayBuffer();
    }
    const s404 = await spansOf(t404.id, 2);
    assert.equal(s404.find((s) => s.name === 'ReverseProxy')!.status.code, ERROR);
    assert.equal(s404.find((s) => s.name === 'EntryPoint')!.status.code, UNSET);
    const s503 = await spansOf(t503.id, 2);
    assert.equal(s503.find((s) => s.name === 'ReverseProxy')!.status.code, ERROR);
    assert.equal(s503.find((s) => s.name === 'EntryPoint')!.status.code, ERROR);
  });

  it('a request no router takes has its EntryPoint span (404), and no call', async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/nowhere`, {
      headers: { traceparent: t.header },
    });
    assert.equal(res.status, 404);
    await res.arrayBuffer();
    const [ep] = await spansOf(t.id, 1);
    assert.equal(ep!.name, 'EntryPoint');
    assert.equal(ep!.attributes['http.response.status_code'], 404);
    assert.equal(ep!.attributes['url.path'], '/nowhere');
    assert.equal(ep!.status.code, UNSET);
  });

  it("a middleware's own answer (basicAuth's 401) has its EntryPoint span", async () => {
    const t = newTrace();
    const seen = app.seen.length;
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/locked`, {
      headers: { traceparent: t.header },
    });
    assert.equal(res.status, 401);
    await res.arrayBuffer();
    const [ep] = await spansOf(t.id, 1);
    assert.equal(ep!.name, 'EntryPoint');
    assert.equal(ep!.attributes['http.response.status_code'], 401);
    assert.equal(app.seen.length, seen, 'nothing reached the server');
  });

  it('an internal service (ping@internal, addInternals) has its EntryPoint span and no call', async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/ping`, {
      headers: { traceparent: t.header },
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const [ep] = await spansOf(t.id, 1);
    assert.equal(ep!.name, 'EntryPoint');
    assert.equal(ep!.attributes['traffic.router'], 'ping@internal');
  });

  it("the request attributes are the request's as it came, before the router's middlewares", async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/strip/inner`, {
      headers: { traceparent: t.header },
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const spans = await spansOf(t.id, 2);
    assert.equal(spans.find((s) => s.name === 'EntryPoint')!.attributes['url.path'], '/strip/inner');
    assert.equal(
      spans.find((s) => s.name === 'ReverseProxy')!.attributes['url.full'],
      `http://127.0.0.1:${app.port}/inner`,
    );
  });

  it('an unsampled trace: the server gets a new span id, not sampled, and nothing is exported', async () => {
    const off = newTrace(false);
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/app/unsampled`, {
      headers: { traceparent: off.header },
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const [traceId, parent, flags] = parseSeen(app.seen.at(-1)?.headers.traceparent);
    assert.equal(traceId, off.id);
    assert.equal(flags, '00');
    assert.notEqual(parent, '00f067aa0ba902b7');
    // Spans leave in the order they end: once a later request's are in, this one's would be.
    const on = newTrace();
    const res2 = await fetch(`http://127.0.0.1:${proxy.ports['web']}/app/sampled`, {
      headers: { traceparent: on.header },
    });
    await res2.arrayBuffer();
    await spansOf(on.id, 2);
    assert.equal(
      receiver.spans.some((s) => s.traceId === off.id),
      false,
    );
  });
});

describe('tracing: traceVerbosity detailed', () => {
  let app: Backend;
  let boom: Backend;
  let receiver: OtlpReceiver;
  let proxy: ProxyProcess;

  before(async () => {
    app = await startBackend((_req, res) => res.end('app'));
    boom = await startBackend((_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    receiver = await startOtlpReceiver();
    const dead = await deadPort();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  deep:
    address: "127.0.0.1:0"
    observability: { traceVerbosity: detailed }
log: { level: INFO }
tracing:
  otlp: { http: { endpoint: "${receiver.url}" } }
http:
  routers:
    det:
      rule: "PathPrefix(\`/det\`)"
      service: app
      middlewares: [hdr, strip]
      entryPoints: [web]
      observability: { traceVerbosity: detailed }
    flaky:
      rule: "PathPrefix(\`/flaky\`)"
      service: down
      middlewares: [again, hdr]
      entryPoints: [web]
      observability: { traceVerbosity: detailed }
    spare:
      rule: "PathPrefix(\`/spare\`)"
      service: halfdown
      middlewares: [again]
      entryPoints: [web]
      observability: { traceVerbosity: detailed }
    lone:
      rule: "PathPrefix(\`/lone\`)"
      service: down
      middlewares: [again]
      entryPoints: [web]
      observability: { traceVerbosity: detailed }
    nested:
      rule: "PathPrefix(\`/nested\`)"
      service: down
      middlewares: [again, hdr, again2]
      entryPoints: [web]
      observability: { traceVerbosity: detailed }
    plain: { rule: "PathPrefix(\`/plain\`)", service: app, middlewares: [hdr], entryPoints: [web] }
    caught:
      rule: "PathPrefix(\`/caught\`)"
      service: boom
      middlewares: [catch, hdr]
      entryPoints: [web]
      observability: { traceVerbosity: detailed }
    model: { rule: "PathPrefix(\`/model\`)", service: app, entryPoints: [deep] }
  middlewares:
    hdr: { headers: { customRequestHeaders: { X-Seen: "1" } } }
    strip: { stripPrefix: { prefixes: ["/det"] } }
    again: { retry: { attempts: 2 } }
    again2: { retry: { attempts: 2, budget: { percent: 100 } } }
    catch: { errors: { status: ["500"], service: app, query: "/page" } }
  services:
    boom: { loadBalancer: { servers: [{ url: "${boom.url}" }] } }
    app: { loadBalancer: { servers: [{ url: "${app.url}" }] } }
    down: { loadBalancer: { servers: [{ url: "http://127.0.0.1:${dead}" }] } }
    halfdown: { loadBalancer: { servers: [{ url: "http://127.0.0.1:${dead}" }, { url: "${app.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([app?.close(), boom?.close(), receiver?.close()]);
  });

  const spansOf = async (id: string, n: number): Promise<ReceivedSpan[]> => {
    await receiver.waitForSpan((s) => s.traceId === id && s.name === 'EntryPoint', 10_000);
    const spans = receiver.spans.filter((s) => s.traceId === id);
    assert.equal(spans.length, n, spans.map((s) => s.name).join(','));
    return spans;
  };
  const one = (spans: readonly ReceivedSpan[], name: string): ReceivedSpan => {
    const found = spans.filter((s) => s.name === name);
    assert.equal(found.length, 1, name);
    return found[0]!;
  };

  it('EntryPoint > Router > a span per middleware > Service > ReverseProxy, the server under the last', async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/det/x`, {
      headers: { traceparent: t.header },
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const spans = await spansOf(t.id, 6);
    const ep = one(spans, 'EntryPoint');
    const router = one(spans, 'Router');
    const headers = one(spans, 'Headers');
    const strip = one(spans, 'StripPrefix');
    const service = one(spans, 'Service');
    const call = one(spans, 'ReverseProxy');
    assert.equal(ep.kind, SERVER);
    assert.equal(router.parentSpanId, ep.spanId);
    assert.equal(headers.parentSpanId, router.spanId);
    assert.equal(strip.parentSpanId, headers.spanId);
    assert.equal(service.parentSpanId, strip.spanId);
    assert.equal(call.parentSpanId, service.spanId);
    for (const s of [router, headers, strip, service]) {
      assert.equal(s.kind, INTERNAL, s.name);
      assert.equal(s.status.code, UNSET, s.name);
    }
    assert.equal(call.kind, CLIENT);
    assert.equal(router.attributes['traefik.router.name'], 'det@file');
    assert.equal(router.attributes['traefik.service.name'], 'app@file');
    assert.equal(router.attributes['http.route'], 'PathPrefix(`/det`)');
    assert.equal(headers.attributes['traefik.middleware.name'], 'hdr@file');
    assert.equal(strip.attributes['traefik.middleware.name'], 'strip@file');
    assert.equal(service.attributes['traefik.service.name'], 'app@file');
    const [, parent] = parseSeen(app.seen.at(-1)?.headers.traceparent);
    assert.equal(parent, call.spanId);
  });

  it("an errors page: the failed call under the chain's spans, the page's call under the CustomError span", async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/caught`, {
      headers: { traceparent: t.header },
    });
    assert.equal(res.status, 500);
    assert.equal(await res.text(), 'app');
    const spans = await spansOf(t.id, 8);
    const router = one(spans, 'Router');
    const caught = one(spans, 'CustomError');
    const hdr = one(spans, 'Headers');
    assert.equal(caught.parentSpanId, router.spanId);
    assert.equal(caught.attributes['traefik.middleware.name'], 'catch@file');
    assert.equal(hdr.parentSpanId, caught.spanId);
    const service = (name: string) =>
      spans.find((s) => s.name === 'Service' && s.attributes['traefik.service.name'] === name)!;
    assert.equal(service('boom@file').parentSpanId, hdr.spanId);
    // Traefik's customErrors calls the page service with its own context.
    assert.equal(service('app@file').parentSpanId, caught.spanId);
    for (const [name, code] of [
      ['boom@file', 500],
      ['app@file', 200],
    ] as const) {
      const calls = spans.filter((s) => s.name === 'ReverseProxy' && s.parentSpanId === service(name).spanId);
      assert.equal(calls.length, 1);
      assert.equal(calls[0]!.attributes['http.response.status_code'], code);
    }
  });

  it('a router at minimal verbosity beside it keeps two spans', async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/plain`, {
      headers: { traceparent: t.header },
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const spans = await spansOf(t.id, 2);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['EntryPoint', 'ReverseProxy']);
  });

  it("an entry point's traceVerbosity is its routers' default", async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['deep']}/model`, {
      headers: { traceparent: t.header },
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const spans = await spansOf(t.id, 4);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['EntryPoint', 'ReverseProxy', 'Router', 'Service']);
    assert.equal(one(spans, 'Router').attributes['traefik.router.name'], 'model@file');
  });

  it('a retry: a Retry span per attempt, each with the middlewares after it, its Service and failed ReverseProxy', async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/flaky`, {
      headers: { traceparent: t.header },
    });
    assert.equal(res.status, 502);
    await res.arrayBuffer();
    const spans = await spansOf(t.id, 10);
    const ep = one(spans, 'EntryPoint');
    const router = one(spans, 'Router');
    const retries = spans.filter((s) => s.name === 'Retry');
    assert.equal(retries.length, 2);
    const [first, second] = [...retries].sort(
      (a, b) =>
        Number(a.attributes['http.request.resend_count'] ?? 0) -
        Number(b.attributes['http.request.resend_count'] ?? 0),
    );
    assert.equal(first!.attributes['http.request.resend_count'], undefined);
    assert.equal(second!.attributes['http.request.resend_count'], 1);
    for (const r of retries) {
      assert.equal(r.parentSpanId, router.spanId);
      assert.equal(r.attributes['traefik.middleware.name'], 'again@file');
      // The middleware after the retry runs again for each attempt in Traefik: its span too.
      const hdr = spans.filter((s) => s.name === 'Headers' && s.parentSpanId === r.spanId);
      assert.equal(hdr.length, 1);
      const service = spans.filter((s) => s.name === 'Service' && s.parentSpanId === hdr[0]!.spanId);
      assert.equal(service.length, 1);
      const calls = spans.filter((s) => s.name === 'ReverseProxy' && s.parentSpanId === service[0]!.spanId);
      assert.equal(calls.length, 1);
      assert.equal(calls[0]!.attributes['http.response.status_code'], 502);
      assert.equal(calls[0]!.status.code, ERROR);
    }
    assert.equal(ep.attributes['http.response.status_code'], 502);
    assert.equal(ep.status.code, ERROR);
  });

  it('a retry last in the chain: a Retry span per attempt, each with its Service and call', async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/lone`, {
      headers: { traceparent: t.header },
    });
    assert.equal(res.status, 502);
    await res.arrayBuffer();
    const spans = await spansOf(t.id, 8);
    const router = one(spans, 'Router');
    const retries = spans.filter((s) => s.name === 'Retry' && s.parentSpanId === router.spanId);
    assert.deepEqual(
      retries.map((s) => Number(s.attributes['http.request.resend_count'] ?? 0)).sort(),
      [0, 1],
    );
    for (const r of retries) {
      const service = spans.filter((s) => s.name === 'Service' && s.parentSpanId === r.spanId);
      assert.equal(service.length, 1);
      assert.equal(
        spans.filter((s) => s.name === 'ReverseProxy' && s.parentSpanId === service[0]!.spanId).length,
        1,
      );
    }
  });

  it('another server tried after a refused connection is no attempt of the retry: one Retry span', async () => {
    // Two requests: the load balancer takes the refused server first for one of them.
    for (let n = 0; n < 2; n++) {
      const t = newTrace();
      const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/spare`, {
        headers: { traceparent: t.header },
      });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      await receiver.waitForSpan((s) => s.traceId === t.id && s.name === 'EntryPoint', 10_000);
      const spans = receiver.spans.filter((s) => s.traceId === t.id);
      assert.equal(spans.filter((s) => s.name === 'Retry').length, 1, spans.map((s) => s.name).join(','));
    }
  });

  it("nested retries: each attempt of the outer one has the inner one's Retry span per attempt", async () => {
    // [again, hdr, again2] against a refused server: 2 × 2 tries. Traefik's retry starts a span
    // per attempt under the context it got, so the inner retry's spans go under the Headers span
    // of each outer attempt, its resend count starting afresh.
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/nested`, {
      headers: { traceparent: t.header },
    });
    assert.equal(res.status, 502);
    await res.arrayBuffer();
    // EntryPoint, Router, 2 outer Retry, 2 Headers, 4 inner Retry, 4 Service, 4 ReverseProxy.
    const spans = await spansOf(t.id, 18);
    const router = one(spans, 'Router');
    const resend = (s: ReceivedSpan): number => Number(s.attributes['http.request.resend_count'] ?? 0);
    const outer = spans.filter((s) => s.name === 'Retry' && s.parentSpanId === router.spanId);
    assert.deepEqual(outer.map(resend).sort(), [0, 1]);
    for (const o of outer) {
      assert.equal(o.attributes['traefik.middleware.name'], 'again@file');
      const hdr = spans.filter((s) => s.name === 'Headers' && s.parentSpanId === o.spanId);
      assert.equal(hdr.length, 1);
      const inner = spans.filter((s) => s.name === 'Retry' && s.parentSpanId === hdr[0]!.spanId);
      assert.deepEqual(inner.map(resend).sort(), [0, 1]);
      for (const i of inner) {
        assert.equal(i.attributes['traefik.middleware.name'], 'again2@file');
        const service = spans.filter((s) => s.name === 'Service' && s.parentSpanId === i.spanId);
        assert.equal(service.length, 1);
        const calls = spans.filter((s) => s.name === 'ReverseProxy' && s.parentSpanId === service[0]!.spanId);
        assert.equal(calls.length, 1);
      }
    }
  });
});

describe('tracing: traceVerbosity detailed, with metrics and a weighted service', () => {
  let app: Backend;
  let receiver: OtlpReceiver;
  let proxy: ProxyProcess;

  before(async () => {
    app = await startBackend((_req, res) => res.end('app'));
    receiver = await startOtlpReceiver();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  deep:
    address: "127.0.0.1:0"
    observability: { traceVerbosity: detailed }
log: { level: INFO }
metrics:
  prometheus: { addRoutersLabels: true }
tracing:
  otlp: { http: { endpoint: "${receiver.url}" } }
http:
  routers:
    split:
      rule: "PathPrefix(\`/\`)"
      service: wrr
      entryPoints: [web]
      observability: { traceVerbosity: detailed }
  services:
    wrr: { weighted: { services: [{ name: leaf, weight: 1 }] } }
    leaf: { loadBalancer: { servers: [{ url: "${app.url}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([app?.close(), receiver?.close()]);
  });

  it("Traefik's Metrics middleware spans where its registry counts, and the Service span of the load balancer that took the call", async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['web']}/x`, {
      headers: { traceparent: t.header },
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    await receiver.waitForSpan((s) => s.traceId === t.id && s.name === 'EntryPoint', 10_000);
    const spans = receiver.spans.filter((s) => s.traceId === t.id);
    // Walk down from the entry span: each has one child.
    const chain: string[] = [];
    let at = spans.find((s) => s.name === 'EntryPoint');
    while (at !== undefined) {
      const name = at.attributes['traefik.middleware.name'] ?? at.attributes['traefik.service.name'];
      chain.push(name === undefined ? at.name : `${at.name}(${String(name)})`);
      const parent: string = at.spanId;
      at = spans.find((s) => s.parentSpanId === parent);
    }
    assert.deepEqual(chain, [
      'EntryPoint',
      'Metrics(metrics-entrypoint)',
      'Router(wrr@file)',
      'Metrics(metrics-router)',
      'Service(leaf@file)',
      'Metrics(metrics-service)',
      'ReverseProxy',
    ]);
    assert.equal(spans.length, 7);
  });

  it("a 404 on an entry point at detailed verbosity: its chain's Metrics span under EntryPoint", async () => {
    const t = newTrace();
    const res = await fetch(`http://127.0.0.1:${proxy.ports['deep']}/none`, {
      headers: { traceparent: t.header },
    });
    assert.equal(res.status, 404);
    await res.arrayBuffer();
    await receiver.waitForSpan((s) => s.traceId === t.id && s.name === 'EntryPoint', 10_000);
    const spans = receiver.spans.filter((s) => s.traceId === t.id);
    assert.equal(spans.length, 2);
    const ep = spans.find((s) => s.name === 'EntryPoint')!;
    const m = spans.find((s) => s.name === 'Metrics')!;
    assert.equal(m.parentSpanId, ep.spanId);
    assert.equal(m.attributes['traefik.middleware.name'], 'metrics-entrypoint');
  });
});
