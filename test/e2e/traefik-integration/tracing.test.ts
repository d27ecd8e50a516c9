/**
 * Traefik's integration/tracing_test.go (v3 branch) run against our proxy: each test names the Go
 * test it follows. Fixture: integration/fixtures/tracing/simple-opentelemetry.toml (its newest v3
 * form: web with traceVerbosity detailed, web-minimal, routerBasicMinimal, router4, customPing,
 * OTLP metrics beside the traces), adapted: the collector and Tempo are one loopback OTLP receiver
 * (helpers/otlp-receiver.ts), the whoami container a loopback stand-in, the API's entry point
 * declared on port 0, and ratelimit-1's period is a minute (the Go test's per-second rate sleeps
 * 4 s and 3 s between requests to refill it).
 *
 * The Go test looks each expectation up in Tempo's trace JSON (gjson paths such as
 * `batches.0.scopeSpans.0.spans.3.name`): a trace's spans in the order they were exported, which
 * is the order they ended. Here a trace is read from the receiver in that order too, and each span
 * is compared with Traefik's name, kind, attributes and status; beyond the Go test, the parent of
 * each span is checked against the nesting Traefik's handlers make.
 */
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import { freePort } from '../../helpers/free-port.ts';
import { httpRequest } from '../../helpers/http-request.ts';
import {
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpGrpcReceiver,
  startOtlpReceiver,
} from '../../helpers/otlp-receiver.ts';
import type { ProxyProcess } from '../../helpers/proxy-process.ts';
import { startFixture, startWhoami, type Whoami } from './fixture.ts';
import { resolveIfs } from './fixture-obs.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

const INTERNAL = 1;
const SERVER = 2;
const CLIENT = 3;
const STATUS_ERROR = 2;
const UA = 'Go-http-client/1.1';

const FIXTURE = `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"
  noColor = true

[api]
  insecure = true

[ping]

[entryPoints]
  [entryPoints.web]
    address = ":8000"
    [entryPoints.web.observability]
      traceVerbosity = "detailed"
  [entryPoints.web-minimal]
    address = ":8001"
  [entryPoints.traefik]
    address = ":8080"

# Adding metrics to confirm that there is no wrong interaction with tracing.
[metrics]
{{if .IsHTTP}}
  [metrics.otlp.http]
    endpoint = "http://{{.IP}}"
{{else}}
  [metrics.otlp.grpc]
    endpoint = "{{.IP}}"
    insecure = true
{{end}}

[tracing]
  servicename = "tracing"
  sampleRate = 1.0
{{if .IsHTTP}}
  [tracing.otlp.http]
    endpoint = "http://{{.IP}}"
{{else}}
  [tracing.otlp.grpc]
    endpoint = "{{.IP}}"
    insecure = true
{{end}}

[providers.file]
  filename = "{{ .SelfFilename }}"

## dynamic configuration ##

[http.routers]
  [http.routers.routerBasicMinimal]
    Service = "service0"
    Rule = "Path(\`/basic-minimal\`)"
    [http.routers.routerBasicMinimal.observability]
      traceVerbosity = "minimal"
  [http.routers.router0]
    Service = "service0"
    Rule = "Path(\`/basic\`)"
  [http.routers.router1]
    Service = "service1"
    Middlewares = ["ratelimit-1"]
    Rule = "Path(\`/ratelimit\`)"
  [http.routers.router2]
    Service = "service2"
    Middlewares = ["retry"]
    Rule = "Path(\`/retry\`)"
  [http.routers.router3]
    Service = "service3"
    Middlewares = ["basic-auth"]
    Rule = "Path(\`/auth\`)"
  [http.routers.router4]
    Service = "service4"
    Middlewares = ["retry", "basic-auth"]
    Rule = "Path(\`/retry-auth\`)"
  [http.routers.customPing]
    entryPoints = ["web"]
    rule = "PathPrefix(\`/ping\`)"
    service = "ping@internal"

[http.middlewares]
  [http.middlewares.retry.retry]
    attempts = 3
  [http.middlewares.basic-auth.basicAuth]
    users = ["test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/", "test2:$apr1$d9hr9HBB$4HxwgUir3HP4EsggP/QNo0"]
  [http.middlewares.ratelimit-1.rateLimit]
    average = 1
    period = "1m"
    burst = 2

[http.services]
  [http.services.service0]
    [http.services.service0.loadBalancer]
      passHostHeader = true
      [[http.services.service0.loadBalancer.servers]]
        url = "http://{{.WhoamiIP}}:{{.WhoamiPort}}"

  [http.services.service1]
    [http.services.service1.loadBalancer]
      passHostHeader = true
      [[http.services.service1.loadBalancer.servers]]
        url = "http://{{.WhoamiIP}}:{{.WhoamiPort}}"

  [http.services.service2]
    [http.services.service2.loadBalancer]
      passHostHeader = true
      [[http.services.service2.loadBalancer.servers]]
        url = "http://{{.WhoamiIP}}:{{.WhoamiPort}}"

  [http.services.service3]
    [http.services.service3.loadBalancer]
      passHostHeader = true
      [[http.services.service3.loadBalancer.servers]]
        url = "http://{{.WhoamiIP}}:{{.WhoamiPort}}"

  [http.services.service4]
    [http.services.service4.loadBalancer]
      passHostHeader = true
      [[http.services.service4.loadBalancer.servers]]
        url = "http://{{.WhoamiIP}}:{{.WhoamiPort}}"
`;

let whoami: Promise<Whoami> | undefined;
function server(): Promise<Whoami> {
  whoami ??= startWhoami('whoami').then((w) => {
    open.push(() => w.close());
    return w;
  });
  return whoami;
}

interface Setup {
  readonly proxy: ProxyProcess;
  readonly receiver: OtlpReceiver;
  /** The whoami's host and port as the fixture's servers name them. */
  readonly ip: string;
  readonly port: number;
}

/**
 * A collector (HTTP or gRPC), then the proxy on the fixture, both stopped with the test (a fresh
 * Tempo per Go test); `deadServer`: the servers' port is one nothing listens on.
 */
async function setup(t: TestContext, isHttp: boolean, deadServer = false): Promise<Setup> {
  const receiver = isHttp ? await startOtlpReceiver() : await startOtlpGrpcReceiver();
  t.after(() => receiver.close());
  const w = await server();
  const port = deadServer ? await freePort() : Number(new URL(w.url).port);
  const proxy = await startFixture(
    resolveIfs(FIXTURE, { IsHTTP: isHttp }).replace(/^\[api\]\n {2}insecure = true\n/m, '[api]\n'),
    { IP: receiver.hostPort, WhoamiIP: '127.0.0.1', WhoamiPort: String(port) },
    // Spans exported every 100 ms (OTEL_BSP_SCHEDULE_DELAY, as Go's SDK reads it) rather than 1 s.
    { env: { OTEL_BSP_SCHEDULE_DELAY: '100' } },
  );
  t.after(() => proxy.stop());
  return { proxy, receiver, ip: '127.0.0.1', port };
}

function get(port: number, path: string, headers: Record<string, string> = {}) {
  return httpRequest(port, { path, headers: { 'User-Agent': UA, ...headers } });
}

/** The spans of the trace whose root (EntryPoint) has `pred`, in export order; waits for the root. */
async function traceOf(
  receiver: OtlpReceiver,
  pred: (root: ReceivedSpan) => boolean,
): Promise<ReceivedSpan[]> {
  const root = await receiver.waitForSpan((s) => s.name === 'EntryPoint' && pred(s), 15_000);
  // The root ends last: every span of its trace was exported with it or before.
  return receiver.spans.filter((s) => s.traceId === root.traceId);
}

interface Expected {
  readonly name: string;
  readonly kind: number;
  readonly attributes?: Readonly<Record<string, string | number>>;
  readonly status?: { readonly code: number; readonly message?: string };
  /** The index in the expected list of this span's parent (undefined: the root). */
  readonly parent?: number;
}

/** Compares a trace, span for span in export order, with Traefik's expectations. */
function assertTrace(spans: readonly ReceivedSpan[], expected: readonly Expected[]): void {
  const view = spans.map((s) => `${s.name}(${s.kind}) ${JSON.stringify(s.attributes)}`).join('\n');
  assert.deepEqual(
    spans.map((s) => s.name),
    expected.map((e) => e.name),
    view,
  );
  expected.forEach((e, i) => {
    const s = spans[i]!;
    assert.equal(s.scope, 'github.com/traefik/traefik', `${i} ${s.name} scope`);
    assert.equal(s.kind, e.kind, `${i} ${s.name} kind`);
    // (gjson reads an absent attribute as "" too; Traefik's CaptureServerRequest sets url.query
    // whatever the query, so "" is asserted present.)
    for (const [k, v] of Object.entries(e.attributes ?? {}))
      assert.equal(s.attributes[k], v, `${i} ${s.name} attribute ${k}: ${view}`);
    if (e.status !== undefined) {
      assert.equal(s.status.code, e.status.code, `${i} ${s.name} status`);
      if (e.status.message !== undefined) assert.equal(s.status.message, e.status.message, `${i} ${s.name}`);
    }
    const parent = e.parent === undefined ? '' : spans[e.parent]!.spanId;
    assert.equal(s.parentSpanId, parent, `${i} ${s.name}'s parent`);
  });
}

/** Traefik's ReverseProxy CLIENT span to the whoami (pkg/proxy/httputil/observability.go). */
function reverseProxy(x: Setup, path: string, status: number, parent: number): Expected {
  return {
    name: 'ReverseProxy',
    kind: CLIENT,
    parent,
    attributes: {
      'http.request.method': 'GET',
      'network.protocol.version': '1.1',
      'url.full': `http://${x.ip}:${x.port}${path}`,
      'user_agent.original': UA,
      'network.peer.address': x.ip,
      'network.peer.port': x.port,
      'server.address': x.ip,
      'server.port': x.port,
      'http.response.status_code': status,
    },
    ...(status >= 400 ? { status: { code: STATUS_ERROR } } : {}),
  };
}

/** Traefik's EntryPoint SERVER span (pkg/middlewares/observability/entrypoint.go). */
function entryPoint(x: Setup, ep: string, path: string, status: number, query = ''): Expected {
  return {
    name: 'EntryPoint',
    kind: SERVER,
    attributes: {
      entry_point: ep,
      'http.request.method': 'GET',
      'url.path': path,
      'url.query': query,
      'user_agent.original': UA,
      'server.address': `127.0.0.1:${x.proxy.ports[ep]}`,
      'network.peer.address': '127.0.0.1',
      'http.response.status_code': status,
    },
  };
}

function metrics(name: 'metrics-service' | 'metrics-entrypoint', parent: number): Expected {
  return { name: 'Metrics', kind: INTERNAL, parent, attributes: { 'traefik.middleware.name': name } };
}

function service(name: string, parent: number): Expected {
  return { name: 'Service', kind: INTERNAL, parent, attributes: { 'traefik.service.name': name } };
}

function router(n: number, parent: number, route?: string): Expected {
  return {
    name: 'Router',
    kind: INTERNAL,
    parent,
    attributes: {
      'traefik.service.name': `service${n}@file`,
      'traefik.router.name': `web-router${n}@file`,
      ...(route === undefined ? {} : { 'http.route': route }),
    },
  };
}

function middleware(
  name: string,
  middlewareName: string,
  parent: number,
  extra: Partial<Expected> = {},
): Expected {
  return {
    name,
    kind: INTERNAL,
    parent,
    attributes: { 'traefik.middleware.name': middlewareName },
    ...extra,
  };
}

describe('traefik integration/tracing_test.go', () => {
  it('TestOpenTelemetryBasic_HTTP_router_minimalVerbosity: ReverseProxy under EntryPoint only', async (t) => {
    const x = await setup(t, true);
    assert.equal((await get(x.proxy.ports.web!, '/basic-minimal')).status, 200);
    const spans = await traceOf(x.receiver, (s) => s.attributes['url.path'] === '/basic-minimal');
    assertTrace(spans, [
      reverseProxy(x, '/basic-minimal', 200, 1),
      entryPoint(x, 'web', '/basic-minimal', 200),
    ]);
  });

  it('TestOpenTelemetryBasic_HTTP_entrypoint_minimalVerbosity: ReverseProxy under EntryPoint only', async (t) => {
    const x = await setup(t, true);
    assert.equal((await get(x.proxy.ports['web-minimal']!, '/basic')).status, 200);
    const spans = await traceOf(x.receiver, (s) => s.attributes.entry_point === 'web-minimal');
    assertTrace(spans, [reverseProxy(x, '/basic', 200, 1), entryPoint(x, 'web-minimal', '/basic', 200)]);
  });

  // The order the Go test reads (ReverseProxy, Metrics, Service, Router, Metrics, EntryPoint) is the
  // order they end: each the child of the next.
  const basic = (x: Setup): Expected[] => [
    reverseProxy(x, '/basic', 200, 1),
    metrics('metrics-service', 2),
    service('service0@file', 3),
    router(0, 4, 'Path(`/basic`)'),
    metrics('metrics-entrypoint', 5),
    entryPoint(x, 'web', '/basic', 200),
  ];

  it('TestOpenTelemetryBasic_HTTP: detailed: ReverseProxy, Metrics, Service, Router, Metrics, EntryPoint', async (t) => {
    const x = await setup(t, true);
    assert.equal((await get(x.proxy.ports.web!, '/basic')).status, 200);
    assertTrace(await traceOf(x.receiver, (s) => s.attributes['url.path'] === '/basic'), basic(x));
  });

  it('TestOpenTelemetryBasic_gRPC: the same spans over OTLP/gRPC', async (t) => {
    const x = await setup(t, false);
    assert.equal((await get(x.proxy.ports.web!, '/basic')).status, 200);
    assertTrace(await traceOf(x.receiver, (s) => s.attributes['url.path'] === '/basic'), basic(x));
  });

  it('TestOpenTelemetryRateLimit: RateLimiter under Router, its 429 stopping there', async (t) => {
    const x = await setup(t, true);
    const web = x.proxy.ports.web!;
    assert.equal((await get(web, '/ratelimit')).status, 200);
    assert.equal((await get(web, '/ratelimit')).status, 200);
    assert.equal((await get(web, '/ratelimit')).status, 429);
    const limited = await traceOf(
      x.receiver,
      (s) => s.attributes['url.path'] === '/ratelimit' && s.attributes['http.response.status_code'] === 429,
    );
    assertTrace(limited, [
      middleware('RateLimiter', 'ratelimit-1@file', 1),
      router(1, 2, 'Path(`/ratelimit`)'),
      metrics('metrics-entrypoint', 3),
      entryPoint(x, 'web', '/ratelimit', 429),
    ]);
    const served = await traceOf(
      x.receiver,
      (s) => s.attributes['url.path'] === '/ratelimit' && s.attributes['http.response.status_code'] === 200,
    );
    assertTrace(served, [
      reverseProxy(x, '/ratelimit', 200, 1),
      metrics('metrics-service', 2),
      service('service1@file', 3),
      middleware('RateLimiter', 'ratelimit-1@file', 4),
      router(1, 5, 'Path(`/ratelimit`)'),
      metrics('metrics-entrypoint', 6),
      entryPoint(x, 'web', '/ratelimit', 200),
    ]);
  });

  it('TestOpenTelemetryRetry: a Retry span per attempt, each with its Service and ReverseProxy (502)', async (t) => {
    const x = await setup(t, true, true);
    assert.equal((await get(x.proxy.ports.web!, '/retry')).status, 502);
    const spans = await traceOf(x.receiver, (s) => s.attributes['url.path'] === '/retry');
    const attempt = (first: number, resend?: number): Expected[] => [
      reverseProxy(x, '/retry', 502, first + 1),
      metrics('metrics-service', first + 2),
      service('service2@file', first + 3),
      middleware(
        'Retry',
        'retry@file',
        12,
        resend === undefined
          ? {}
          : { attributes: { 'traefik.middleware.name': 'retry@file', 'http.request.resend_count': resend } },
      ),
    ];
    assertTrace(spans, [
      ...attempt(0),
      ...attempt(4, 1),
      ...attempt(8, 2),
      router(2, 13),
      metrics('metrics-entrypoint', 14),
      entryPoint(x, 'web', '/retry', 502),
    ]);
  });

  it('TestOpenTelemetryAuth: BasicAuth’s failure is an error span, the request stops under Router', async (t) => {
    const x = await setup(t, true);
    assert.equal((await get(x.proxy.ports.web!, '/auth')).status, 401);
    assertTrace(await traceOf(x.receiver, (s) => s.attributes['url.path'] === '/auth'), [
      middleware('BasicAuth', 'basic-auth@file', 1, {
        status: { code: STATUS_ERROR, message: 'Authentication failed' },
      }),
      router(3, 2, 'Path(`/auth`)'),
      metrics('metrics-entrypoint', 3),
      entryPoint(x, 'web', '/auth', 401),
    ]);
  });

  it('TestOpenTelemetryAuthWithRetry: Retry around BasicAuth’s failure, no second attempt', async (t) => {
    const x = await setup(t, true);
    assert.equal((await get(x.proxy.ports.web!, '/retry-auth')).status, 401);
    assertTrace(await traceOf(x.receiver, (s) => s.attributes['url.path'] === '/retry-auth'), [
      middleware('BasicAuth', 'basic-auth@file', 1, {
        status: { code: STATUS_ERROR, message: 'Authentication failed' },
      }),
      middleware('Retry', 'retry@file', 2),
      router(4, 3, 'Path(`/retry-auth`)'),
      metrics('metrics-entrypoint', 4),
      entryPoint(x, 'web', '/retry-auth', 401),
    ]);
  });

  it('TestOpenTelemetrySafeURL: credentials and query values are REDACTED in url.full and url.query', async (t) => {
    const x = await setup(t, true);
    // Go's client sends the URL's userinfo (test:test@) as Basic credentials.
    const r = await get(x.proxy.ports.web!, '/auth?api_key=powpow', {
      Authorization: `Basic ${Buffer.from('test:test').toString('base64')}`,
    });
    assert.equal(r.status, 200);
    const spans = await traceOf(x.receiver, (s) => s.attributes['url.path'] === '/auth');
    const proxied = reverseProxy(x, '/auth', 200, 1);
    assertTrace(spans, [
      {
        ...proxied,
        attributes: {
          ...proxied.attributes,
          'url.full': `http://REDACTED:REDACTED@${x.ip}:${x.port}/auth?api_key=REDACTED`,
        },
      },
      metrics('metrics-service', 2),
      service('service3@file', 3),
      middleware('BasicAuth', 'basic-auth@file', 4),
      router(3, 5, 'Path(`/auth`)'),
      metrics('metrics-entrypoint', 6),
      entryPoint(x, 'web', '/auth', 200, 'api_key=REDACTED'),
    ]);
  });

  it('TestNoInternals: no span names an @internal object (ping, on its entry point or behind a router)', async (t) => {
    const x = await setup(t, true);
    assert.equal((await get(x.proxy.ports.web!, '/ratelimit')).status, 200);
    assert.equal((await get(x.proxy.ports.web!, '/ping')).status, 200);
    assert.equal((await get(x.proxy.ports.traefik!, '/ping')).status, 200);
    // The traced request's trace is complete once its root is in; the pings' would have come first.
    await traceOf(x.receiver, (s) => s.attributes['url.path'] === '/ratelimit');
    assert.ok(x.receiver.spans.length > 0, 'expected at least one trace');
    assert.doesNotMatch(JSON.stringify(x.receiver.spans), /@internal/);
  });
});
