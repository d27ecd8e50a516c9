/**
 * Traefik's integration/headers_test.go (v3 branch) run against our proxy: each test names the Go
 * test it follows; fixtures are integration/fixtures/headers/*.toml adapted by ./fixture.ts (the
 * backend's fixed 127.0.0.1:9000 made a template field).
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startBackend } from '../../helpers/backends.ts';
import type { ProxyProcess } from '../../helpers/proxy-process.ts';
import { header, rawRequest } from '../../helpers/raw-client.ts';
import { waitForFileLines } from '../../helpers/wait.ts';
import { startFixture } from './fixture.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

async function backend(
  check: (req: IncomingMessage) => void = () => {},
): Promise<{ url: string; seen: IncomingMessage['headers'][] }> {
  const seen: IncomingMessage['headers'][] = [];
  const b = await startBackend((req, res) => {
    seen.push(req.headers);
    check(req);
    res.end();
  });
  open.push(() => b.close());
  return { url: b.url, seen };
}

async function proxy(text: string, vars: Record<string, string>): Promise<ProxyProcess> {
  const p = await startFixture(text, vars);
  open.push(() => p.stop());
  return p;
}

/** One request, its fields written as given (repeated names are repeated lines). */
async function send(port: number, method: string, host: string, fields: [string, string][]) {
  const lines = [`${method} / HTTP/1.1`, `Host: ${host}`, ...fields.map(([n, v]) => `${n}: ${v}`)];
  const r = await rawRequest(port, `${lines.join('\r\n')}\r\n\r\n`, {
    responses: 1,
    methods: [method],
    timeoutMs: 5000,
  });
  const res = r.responses[0];
  assert.ok(res, `no response: ${r.parseError ?? r.closedBy}`);
  return res;
}

describe('traefik integration/headers_test.go', () => {
  // integration/fixtures/headers/basic.toml
  it('TestSimpleConfiguration: 404 with nothing routed', async () => {
    const p = await proxy(
      `[entryPoints]
  [entryPoints.web]
    address = ":8000"
`,
      {},
    );
    assert.equal((await send(p.ports.web!, 'GET', '127.0.0.1', [])).status, 404);
  });

  // integration/fixtures/headers/remove_reverseproxy_headers.toml
  it('TestReverseProxyHeaderRemoved: customRequestHeaders "" removes Foo and X-Forwarded-For, keeps X-Forwarded-Host', async () => {
    const b = await backend();
    const p = await proxy(
      `[entryPoints]
  [entryPoints.web]
    address = ":8000"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    rule = "Host(\`test.localhost\`)"
    middlewares = ["remove"]
    service = "service1"

[http.middlewares]
  [http.middlewares.remove.headers.customRequestHeaders]
    X-Forwarded-For = ""
    Foo = ""

[http.services]
  [http.services.service1.loadBalancer]
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Backend }}"
`,
      { Backend: b.url },
    );
    assert.equal((await send(p.ports.web!, 'GET', 'test.localhost', [['Foo', 'bar']])).status, 200);
    const h = b.seen[0]!;
    assert.ok('x-forwarded-host' in h);
    assert.ok(!('foo' in h));
    assert.ok(!('x-forwarded-for' in h));
  });

  // integration/fixtures/headers/connection_hop_by_hop_headers.toml, its `connectionHeaders` written
  // `connection` (Traefik's ForwardedHeaders.Connection, v3.4): Traefik's file loader ignores a key
  // it does not know, ours refuses it (docs/migrating-from-traefik.md).
  it('TestConnectionHopByHop: Connection-named fields dropped, X-Forwarded-* kept (insecure); access log keeps Foo', async () => {
    const b = await backend();
    const p = await proxy(
      `[accessLog]
  format = "json"
  filePath = "access.log"

  [accessLog.fields.headers.names]
    "Foo" = "keep"
    "Bar" = "keep"

[entryPoints]
  [entryPoints.web]
    address = ":8000"
  [entryPoints.web.forwardedHeaders]
    insecure = true
    connection = ["Foo"]

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    rule = "Host(\`test.localhost\`)"
    service = "service1"

[http.services]
  [http.services.service1.loadBalancer]
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Backend }}"
`,
      { Backend: b.url },
    );
    const res = await send(p.ports.web!, 'GET', 'test.localhost', [
      ['Connection', 'Foo,Bar,X-Forwarded-For,X-Forwarded-Host'],
      ['Foo', 'bar'],
      ['Bar', 'foo'],
      ['X-Forwarded-Host', 'localhost'],
    ]);
    assert.equal(res.status, 200);
    const h = b.seen[0]!;
    assert.ok('x-forwarded-for' in h);
    assert.equal(h['x-forwarded-host'], 'localhost');
    assert.ok(!('foo' in h));
    assert.ok(!('bar' in h));
    const [line] = await waitForFileLines(join(p.dir, 'access.log'), 1);
    assert.ok(line!.includes('"request_Foo":"bar"'), line);
    assert.ok(!line!.includes('"request_Bar":""'), line);
  });

  // integration/fixtures/headers/cors.toml
  it('TestCorsResponses: allowed origin, preflight answered, routers without CORS left alone', async () => {
    const b = await backend();
    const p = await proxy(
      `[entryPoints]
  [entryPoints.web]
    address = ":8000"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    rule = "Host(\`test.localhost\`)"
    middlewares = ["cors"]
    service = "service1"

  [http.routers.router2]
    rule = "Host(\`test2.localhost\`)"
    middlewares = ["nocors"]
    service = "service1"

[http.middlewares]
  [http.middlewares.cors.headers]
    accessControlAllowMethods= ["GET", "OPTIONS", "PUT"]
    accessControlAllowOriginList = ["https://foo.bar.org"]
    accessControlMaxAge = 100
    addVaryHeader = true

  [http.middlewares.nocors.Headers]
    [http.middlewares.nocors.Headers.CustomResponseHeaders]
      X-Custom-Response-Header = "True"

[http.services]
  [http.services.service1.loadBalancer]
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Backend }}"
`,
      { Backend: b.url },
    );
    const preflight: [string, string][] = [
      ['Access-Control-Request-Headers', 'origin'],
      ['Access-Control-Request-Method', 'GET'],
      ['Access-Control-Request-Method', 'OPTIONS'],
      ['Origin', 'https://foo.bar.org'],
    ];
    const cases: [string, string, [string, string][], Record<string, string>][] = [
      [
        'GET',
        'test.localhost',
        [['Origin', 'https://foo.bar.org']],
        {
          'Access-Control-Allow-Origin': 'https://foo.bar.org',
          Vary: 'Origin',
        },
      ],
      [
        'OPTIONS',
        'test.localhost',
        preflight,
        {
          'Access-Control-Allow-Origin': 'https://foo.bar.org',
          'Access-Control-Max-Age': '100',
          'Access-Control-Allow-Methods': 'GET,OPTIONS,PUT',
        },
      ],
      ['OPTIONS', 'test2.localhost', preflight, { 'X-Custom-Response-Header': 'True' }],
      ['GET', 'test2.localhost', preflight, { 'X-Custom-Response-Header': 'True' }],
    ];
    for (const [method, host, fields, want] of cases) {
      const res = await send(p.ports.web!, method, host, fields);
      for (const [name, value] of Object.entries(want)) {
        assert.equal(header(res, name), value, `${method} ${host}: ${name}`);
      }
    }
  });

  // integration/fixtures/headers/secure.toml (v3: permissionsPolicy, and api@internal behind the
  // same middleware on internal.localhost)
  it('TestSecureHeadersResponses: Permissions-Policy on a service and on api@internal', async () => {
    const b = await backend();
    // The `traefik` entry point declared (moved to port 0 as every other): ours serves `[api]` to
    // loopback clients on it, on 127.0.0.1:8082 when undeclared, which another test may hold.
    const p = await proxy(
      `[api]

[entryPoints]
  [entryPoints.web]
    address = ":8000"
  [entryPoints.traefik]
    address = ":8080"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    rule = "Host(\`test.localhost\`)"
    middlewares = ["secure"]
    service = "service1"

  [http.routers.router2]
    rule = "Host(\`internal.localhost\`)"
    middlewares = ["secure"]
    service = "api@internal"

[http.middlewares]
  [http.middlewares.secure.headers]
    permissionsPolicy = "microphone=(),"

[http.services]
  [http.services.service1.loadBalancer]
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Backend }}"
`,
      { Backend: b.url },
    );
    const a = await send(p.ports.web!, 'GET', 'test.localhost', []);
    assert.equal(a.status, 200);
    assert.equal(header(a, 'Permissions-Policy'), 'microphone=(),');
    const r = await rawRequest(
      p.ports.web!,
      'GET /api/rawdata HTTP/1.1\r\nHost: internal.localhost\r\n\r\n',
      {
        responses: 1,
        timeoutMs: 5000,
      },
    );
    assert.equal(r.responses[0]?.status, 200);
    assert.equal(header(r.responses[0]!, 'Permissions-Policy'), 'microphone=(),');
  });

  // integration/fixtures/headers/secure_multiple.toml
  it('TestMultipleSecureHeadersResponses: two headers middlewares both apply', async () => {
    const b = await backend();
    const p = await proxy(
      `[entryPoints]
  [entryPoints.web]
    address = ":8000"

[providers.file]
  filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.router1]
    rule = "Host(\`test.localhost\`)"
    middlewares = ["foo", "bar"]
    service = "service1"

[http.middlewares]
  [http.middlewares.foo.headers]
    frameDeny = true
  [http.middlewares.bar.headers]
    contentTypeNosniff = true

[http.services]
  [http.services.service1.loadBalancer]
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Backend }}"
`,
      { Backend: b.url },
    );
    const res = await send(p.ports.web!, 'GET', 'test.localhost', []);
    assert.equal(header(res, 'X-Frame-Options'), 'DENY');
    assert.equal(header(res, 'X-Content-Type-Options'), 'nosniff');
  });
});
