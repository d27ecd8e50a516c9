/**
 * Traefik's integration/access_log_test.go (v3 branch) run against our proxy: each test names the
 * Go test it follows, and reads the access log as the Go test does, with Traefik's own CLF parser
 * (./fixture-obs.ts parseAccessLog). Fixture: integration/fixtures/access_log/access_log_base.toml
 * (and access_log_json_config.toml, access_log_ping.toml), adapted:
 * - the compose project `access_log`'s docker labels are written as a file configuration with the
 *   same router, middleware and service names (so the routers are `rt-…@file`, not `@docker`), and
 *   its whoami containers are loopback whoami stand-ins;
 * - `[log]`'s filePath and ERROR level are left out (the harness reads the INFO lines on stderr;
 *   "no other Traefik problems" is: no error line there), the access log goes to an absolute path
 *   read once the proxy has stopped (all lines flushed);
 * - the redirect's target port is the `web` entry point's, picked before start;
 * - `rt-rateLimit`'s rate is per minute (the Go test's per second would let a slow machine's third
 *   request through).
 * integration/access_log_json_test.go exists only in Traefik v1 (v1 configuration keys, fields and
 * gzip ratios that v2 removed): nothing to port.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../helpers/free-port.ts';
import { type HttpReply, httpRequest } from '../../helpers/http-request.ts';
import type { ProxyProcess } from '../../helpers/proxy-process.ts';
import { startFixture, startWhoami, type Whoami } from './fixture.ts';
import {
  type AccessLogValue,
  checkAccessLogExactValuesOutput,
  checkAccessLogFormat,
  startFixtureOnPorts,
} from './fixture-obs.ts';

const open: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of open.reverse()) await close();
});

const dir = mkdtempSync(join(tmpdir(), 'tm-traefik-access-log-'));
open.push(async () => rmSync(dir, { recursive: true, force: true }));
let seq = 0;

let whoamis: Promise<[Whoami, Whoami]> | undefined;
/** The compose project's whoami containers: one stand-in per service's pair. */
function servers(): Promise<[Whoami, Whoami]> {
  whoamis ??= Promise.all([startWhoami('server0'), startWhoami('server1')]).then((ws) => {
    for (const w of ws) open.push(() => w.close());
    return ws;
  });
  return whoamis;
}

// integration/fixtures/access_log/access_log_base.toml, then the compose labels as file configuration.
const BASE = `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[accessLog]
  filePath = "{{ .AccessLog }}"
  {{ .Format }}

[entryPoints]
  [entryPoints.web]
    address = ":8000"
  [entryPoints.frontendRedirect]
    address = ":8005"
  [entryPoints.httpFrontendAuth]
    address = ":8006"
  [entryPoints.httpRateLimit]
    address = ":8007"
  [entryPoints.digestAuth]
    address = ":8008"
  [entryPoints.preflight]
    address = ":8009"

[providers]
  [providers.file]
    filename = "{{ .SelfFilename }}"

[http.routers]
  [http.routers.rt-server0]
    entryPoints = ["web"]
    rule = "Path(\`/test\`)"
    service = "service1"
  [http.routers.rt-server1]
    entryPoints = ["web"]
    rule = "Host(\`frontend1.docker.local\`)"
    service = "service1"
  [http.routers.rt-server2]
    entryPoints = ["web"]
    rule = "Host(\`frontend2.docker.local\`)"
    service = "service2"
  [http.routers.rt-authFrontend]
    entryPoints = ["httpFrontendAuth"]
    rule = "Host(\`frontend.auth.docker.local\`)"
    middlewares = ["basicauth"]
    service = "service3"
  [http.routers.rt-digestAuthMiddleware]
    entryPoints = ["digestAuth"]
    rule = "Host(\`entrypoint.digest.auth.docker.local\`)"
    middlewares = ["digestauth"]
    service = "service3"
  [http.routers.rt-frontendRedirect]
    entryPoints = ["frontendRedirect"]
    rule = "Path(\`/test\`)"
    middlewares = ["redirecthttp"]
    service = "service3"
  [http.routers.rt-rateLimit]
    entryPoints = ["httpRateLimit"]
    rule = "Host(\`ratelimit.docker.local\`)"
    middlewares = ["rate"]
    service = "service3"
  [http.routers.rt-frontendAllowlist]
    entryPoints = ["web"]
    rule = "Host(\`frontend.allowlist.docker.local\`)"
    middlewares = ["allowlist"]
    service = "service3"
  [http.routers.rt-preflightCORS]
    entryPoints = ["preflight"]
    rule = "Host(\`preflight.docker.local\`)"
    middlewares = ["preflightCORS"]
    service = "service3"

[http.middlewares]
  [http.middlewares.basicauth.basicAuth]
    users = ["test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"]
  [http.middlewares.digestauth.digestAuth]
    users = ["test:traefik:a2688e031edb4be6a3797f3882655c05", "test2:traefik:518845800f9e2bfb1f1f740ec24f074e"]
    removeHeader = true
  [http.middlewares.redirecthttp.redirectScheme]
    scheme = "http"
    port = "{{ .WebPort }}"
  [http.middlewares.rate.rateLimit]
    average = 1
    period = "1m"
    burst = 2
  [http.middlewares.allowlist.ipAllowList]
    sourceRange = ["8.8.8.8/32"]
  [http.middlewares.preflightCORS.headers]
    accessControlAllowMethods = ["GET", "OPTIONS", "PUT"]
    accessControlAllowOriginList = ["*"]
    accessControlMaxAge = 100
    addVaryHeader = true

[http.services]
  [http.services.service1.loadBalancer]
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Server0 }}"
    [[http.services.service1.loadBalancer.servers]]
      url = "{{ .Server1 }}"
  [http.services.service2.loadBalancer]
    [[http.services.service2.loadBalancer.servers]]
      url = "{{ .Server0 }}"
    [[http.services.service2.loadBalancer.servers]]
      url = "{{ .Server1 }}"
  [http.services.service3.loadBalancer]
    [[http.services.service3.loadBalancer.servers]]
      url = "{{ .Server0 }}"
`;

interface Started {
  readonly proxy: ProxyProcess;
  readonly accessLog: string;
  readonly webPort: number;
  /** Stops the proxy (its access log flushed and closed) and returns the file's lines. */
  lines(): Promise<string[]>;
}

async function start(format = ''): Promise<Started> {
  const [s0, s1] = await servers();
  const accessLog = join(dir, `access-${++seq}.log`);
  const webPort = await freePort();
  const proxy = await startFixtureOnPorts(
    BASE,
    { AccessLog: accessLog, Format: format, WebPort: String(webPort), Server0: s0.url, Server1: s1.url },
    { web: webPort },
  );
  open.push(() => proxy.stop());
  return {
    proxy,
    accessLog,
    webPort,
    async lines() {
      assert.equal(await proxy.stop(), 0);
      // checkNoOtherTraefikProblems: the Go test prints traefik.log (level ERROR); nothing there here.
      assert.deepEqual(
        proxy.logs.filter((l) => l.level === 'error' || l.level === 'fatal'),
        [],
      );
      // extractLines: split on "\n", the empty string after the last newline kept.
      return readFileSync(accessLog, 'utf8').split('\n');
    },
  };
}

function get(port: number, host: string, headers: Record<string, string> = {}): Promise<HttpReply> {
  return httpRequest(port, { headers: { Host: host, 'User-Agent': 'Go-http-client/1.1', ...headers } });
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

/** digestParts and getDigestAuthorization of access_log_test.go (RFC 2617, qop auth, MD5). */
function digestAuthorization(challenge: string, user: string, password: string, uri: string): string {
  const d: Record<string, string> = {};
  for (const part of challenge.split(',')) {
    for (const w of ['nonce', 'realm', 'qop', 'opaque'])
      if (part.includes(w)) d[w] = part.split('"')[1] ?? '';
  }
  const ha1 = md5(`${user}:${d.realm}:${password}`);
  const ha2 = md5(`GET:${uri}`);
  const nc = '00000001';
  const cnonce = randomBytes(8).toString('hex');
  const response = md5(`${ha1}:${d.nonce}:${nc}:${cnonce}:${d.qop}:${ha2}`);
  return `Digest username="${user}", realm="${d.realm}", nonce="${d.nonce}", uri="${uri}", cnonce="${cnonce}", nc=${nc}, qop=${d.qop}, response="${response}", opaque="${d.opaque}", algorithm="MD5"`;
}

/** checkAccessLogOutput: every non-empty line has Traefik's CLF format; their count. */
function checkAccessLogOutput(lines: readonly string[]): number {
  let count = 0;
  lines.forEach((line, i) => {
    if (line.length === 0) return;
    count++;
    checkAccessLogFormat(line, i);
  });
  return count;
}

describe('traefik integration/access_log_test.go', () => {
  it('TestAccessLog: three proxied requests, three lines in Traefik’s CLF', async () => {
    const s = await start();
    const web = s.proxy.ports.web!;
    const first = await get(web, 'frontend1.docker.local');
    assert.equal(first.status, 200);
    assert.equal((await get(web, 'frontend2.docker.local')).status, 200);
    assert.equal((await get(web, 'frontend2.docker.local')).status, 200);
    const lines = await s.lines();
    assert.equal(checkAccessLogOutput(lines), 3);
    // Beyond the Go test, the first line byte for byte as CommonLogFormatter writes it
    // (logger_formatters.go): DownstreamStatus and DownstreamContentSize unquoted, the Referer and
    // User-Agent fields "-" (request headers are dropped by default: fields.headers.defaultMode).
    const [s0, s1] = await servers();
    const size = Buffer.byteLength(first.text);
    const line = lines[0]!.replace(/\[[^\]]+\]/, '[TIME]').replace(/ \d+ms$/, ' Nms');
    assert.ok(
      [s0.url, s1.url].some(
        (url) =>
          line ===
          `127.0.0.1 - - [TIME] "GET / HTTP/1.1" 200 ${size} "-" "-" 1 "rt-server1@file" "${url}" Nms`,
      ),
      lines[0],
    );
    assert.match(
      lines[0]!,
      /\[\d{2}\/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\]/,
    );
  });

  it('TestAccessLogAuthFrontend: basicAuth’s 401s (without and with a user name) and the 200', async () => {
    const expected: AccessLogValue[] = [
      { code: '401', user: '-', routerName: 'rt-authFrontend', serviceURL: '-' },
      { code: '401', user: 'test', routerName: 'rt-authFrontend', serviceURL: '-' },
      { code: '200', user: 'test', routerName: 'rt-authFrontend', serviceURL: 'http://127.0.0.1' },
    ];
    const s = await start();
    const port = s.proxy.ports.httpFrontendAuth!;
    const host = 'frontend.auth.docker.local';
    assert.equal((await get(port, host)).status, 401);
    assert.equal((await get(port, host, { Authorization: basic('test', '') })).status, 401);
    assert.equal((await get(port, host, { Authorization: basic('test', 'test') })).status, 200);
    assert.ok(checkAccessLogExactValuesOutput(await s.lines(), expected) >= expected.length);
  });

  it('TestAccessLogDigestAuthMiddleware: digestAuth’s 401s (without and with a user name) and the 200', async () => {
    const expected: AccessLogValue[] = [
      { code: '401', user: '-', routerName: 'rt-digestAuthMiddleware', serviceURL: '-' },
      { code: '401', user: 'test', routerName: 'rt-digestAuthMiddleware', serviceURL: '-' },
      { code: '200', user: 'test', routerName: 'rt-digestAuthMiddleware', serviceURL: 'http://127.0.0.1' },
    ];
    const s = await start();
    const port = s.proxy.ports.digestAuth!;
    const host = 'entrypoint.digest.auth.docker.local';
    const first = await get(port, host);
    assert.equal(first.status, 401);
    const challenge = String(first.headers['www-authenticate'] ?? '');
    const json = { 'Content-Type': 'application/json' };
    const wrong = await get(port, host, {
      Authorization: digestAuthorization(challenge, 'test', 'wrong', '/'),
      ...json,
    });
    assert.equal(wrong.status, 401);
    const right = await get(port, host, {
      Authorization: digestAuthorization(challenge, 'test', 'test', '/'),
      ...json,
    });
    assert.equal(right.status, 200);
    assert.ok(checkAccessLogExactValuesOutput(await s.lines(), expected) >= expected.length);
  });

  it('TestAccessLogFrontendRedirect: the redirect’s 302, then the followed request', async () => {
    const expected: AccessLogValue[] = [
      { code: '302', user: '-', routerName: 'rt-frontendRedirect', serviceURL: '-' },
      { formatOnly: true },
    ];
    const s = await start();
    const redirect = await httpRequest(s.proxy.ports.frontendRedirect!, { path: '/test' });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.location, `http://127.0.0.1:${s.webPort}/test`);
    assert.equal((await httpRequest(s.webPort, { path: '/test' })).status, 200);
    assert.ok(checkAccessLogExactValuesOutput(await s.lines(), expected) >= expected.length);
  });

  it('TestAccessLogJSONFrontendRedirect: the JSON lines’ DownstreamStatus, OriginStatus, RouterName, ServiceName', async () => {
    // integration/fixtures/access_log_json_config.toml: the same, with `format = "json"`.
    const expected = [
      { DownstreamStatus: 302, OriginStatus: 0, RouterName: 'rt-frontendRedirect@file', ServiceName: '' },
      {
        DownstreamStatus: 200,
        OriginStatus: 200,
        RouterName: 'rt-server0@file',
        ServiceName: 'service1@file',
      },
    ];
    const s = await start('format = "json"');
    assert.equal((await httpRequest(s.proxy.ports.frontendRedirect!, { path: '/test' })).status, 302);
    assert.equal((await httpRequest(s.webPort, { path: '/test' })).status, 200);
    const lines = await s.lines();
    assert.ok(lines.length >= expected.length);
    lines.forEach((line, i) => {
      if (line === '') return;
      // Go's json.Unmarshal into the test's struct: a field that is absent reads as its zero value.
      const l = JSON.parse(line) as Record<string, unknown>;
      assert.deepEqual(
        {
          DownstreamStatus: l.DownstreamStatus ?? 0,
          OriginStatus: l.OriginStatus ?? 0,
          RouterName: l.RouterName ?? '',
          ServiceName: l.ServiceName ?? '',
        },
        expected[i],
        line,
      );
    });
  });

  it('TestAccessLogRateLimit: two served, the third refused 429 by the rate limiter', async () => {
    const expected: AccessLogValue[] = [
      { formatOnly: true },
      { formatOnly: true },
      { code: '429', user: '-', routerName: 'rt-rateLimit', serviceURL: '-' },
    ];
    const s = await start();
    const port = s.proxy.ports.httpRateLimit!;
    assert.equal((await get(port, 'ratelimit.docker.local')).status, 200);
    assert.equal((await get(port, 'ratelimit.docker.local')).status, 200);
    assert.equal((await get(port, 'ratelimit.docker.local')).status, 429);
    assert.ok(checkAccessLogExactValuesOutput(await s.lines(), expected) >= expected.length);
  });

  it('TestAccessLogBackendNotFound: a 404 without router nor service', async () => {
    const expected: AccessLogValue[] = [{ code: '404', user: '-', routerName: '-', serviceURL: '-' }];
    const s = await start();
    assert.equal((await get(s.proxy.ports.web!, 'backendnotfound.docker.local')).status, 404);
    assert.ok(checkAccessLogExactValuesOutput(await s.lines(), expected) >= expected.length);
  });

  it('TestAccessLogFrontendAllowlist: ipAllowList’s 403', async () => {
    const expected: AccessLogValue[] = [
      { code: '403', user: '-', routerName: 'rt-frontendAllowlist', serviceURL: '-' },
    ];
    const s = await start();
    assert.equal((await get(s.proxy.ports.web!, 'frontend.allowlist.docker.local')).status, 403);
    assert.ok(checkAccessLogExactValuesOutput(await s.lines(), expected) >= expected.length);
  });

  it('TestAccessLogAuthFrontendSuccess: the authenticated 200 names its user and server', async () => {
    const expected: AccessLogValue[] = [
      { code: '200', user: 'test', routerName: 'rt-authFrontend', serviceURL: 'http://127.0.0.1' },
    ];
    const s = await start();
    const r = await get(s.proxy.ports.httpFrontendAuth!, 'frontend.auth.docker.local', {
      Authorization: basic('test', 'test'),
    });
    assert.equal(r.status, 200);
    assert.ok(checkAccessLogExactValuesOutput(await s.lines(), expected) >= expected.length);
  });

  it('TestAccessLogPreflightHeadersMiddleware: the headers middleware’s own preflight answer', async () => {
    const expected: AccessLogValue[] = [
      { code: '200', user: '-', routerName: 'rt-preflightCORS', serviceURL: '-' },
    ];
    const s = await start();
    const r = await httpRequest(s.proxy.ports.preflight!, {
      method: 'OPTIONS',
      headers: { Host: 'preflight.docker.local', Origin: 'whatever', 'Access-Control-Request-Method': 'GET' },
    });
    assert.equal(r.status, 200);
    assert.ok(checkAccessLogExactValuesOutput(await s.lines(), expected) >= expected.length);
  });

  it('TestAccessLogDisabledForInternals: ping@internal, on its entry point or behind a router, is not logged', async () => {
    // integration/fixtures/access_log/access_log_ping.toml; the API's entry point declared (port 0).
    const accessLog = join(dir, `access-${++seq}.log`);
    const proxy = await startFixture(
      `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[accessLog]
  filePath = "{{ .AccessLog }}"

[entryPoints]
  [entryPoints.web]
    address = ":8000"
  [entryPoints.traefik]
    address = ":8080"

[ping]

[providers]
  [providers.file]
    filename = "{{ .SelfFilename }}"

## dynamic configuration ##
[http.routers]
  [http.routers.customPing]
    entryPoints = ["web"]
    rule = "PathPrefix(\`/ping\`)"
    service = "ping@internal"
`,
      { AccessLog: accessLog },
    );
    open.push(() => proxy.stop());
    for (const port of [proxy.ports.traefik!, proxy.ports.traefik!, proxy.ports.web!, proxy.ports.web!]) {
      assert.equal((await httpRequest(port, { path: '/ping' })).status, 200);
    }
    assert.equal(await proxy.stop(), 0);
    let text = '';
    try {
      text = readFileSync(accessLog, 'utf8');
    } catch {
      // No file, or an empty one: no line either way.
    }
    assert.equal(checkAccessLogOutput(text.split('\n')), 0, text);
  });
});
