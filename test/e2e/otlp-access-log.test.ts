/**
 * `accessLog.otlp` end to end (Traefik's experimental OTLP access logs: pkg/middlewares/accesslog
 * logger.go NewHandler with the otellogrus hook, types/logs.go OTelLog): the real proxy's access
 * records reach a receiver on loopback over OTLP/HTTP (protobuf) and OTLP/gRPC, one log record
 * per kept request (the filters and fields apply), its body the formatted line, severity INFO (9), the kept
 * fields as typed attributes; the stdout or file lines stop unless `dualOutput`; without
 * `experimental.otlpLogs` the configuration is refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type OtlpReceiver, startOtlpGrpcReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { RawConn } from '../helpers/raw-conn.ts';

describe('accessLog.otlp', () => {
  let http: OtlpReceiver;
  let grpc: OtlpReceiver;
  let be: Backend;
  let dir: string;

  before(async () => {
    http = await startOtlpReceiver();
    grpc = await startOtlpGrpcReceiver();
    be = await startBackend((_req, res) => res.end('ok'));
    dir = mkdtempSync(join(tmpdir(), 'tm-e2e-otlp-access-'));
  });

  after(async () => {
    await Promise.all([http?.close(), grpc?.close(), be?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  function config(accessLog: string): string {
    return `entryPoints:
  web:
    address: "127.0.0.1:0"
experimental:
  otlpLogs: true
accessLog:
${accessLog}
http:
  routers:
    app: { rule: "PathPrefix(\`/app\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`;
  }

  /** A 200 through the router and a 404 nobody routes, on one connection. */
  async function traffic(proxy: ProxyProcess, tag: string): Promise<void> {
    const c = await RawConn.open(proxy.port);
    try {
      c.write(`GET /app/${tag}?x=1 HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: e2e-agent\r\n\r\n`);
      assert.equal((await c.readResponse()).status, 200);
      c.write(`GET /nowhere/${tag} HTTP/1.1\r\nHost: shop.test\r\n\r\n`);
      assert.equal((await c.readResponse()).status, 404);
    } finally {
      c.destroy();
    }
  }

  it('sends the kept records over OTLP/HTTP as typed attributes, and no longer writes stdout', async () => {
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: config(`  format: json
  filters: { statusCodes: ["200-299"] }
  fields:
    names: { ClientUsername: drop }
    headers: { names: { User-Agent: keep } }
  otlp:
    serviceName: edge-access
    resourceAttributes: { team: a }
    http: { endpoint: "${http.base}" }`),
      });
      await traffic(proxy, 'h1');
      const rec = await http.waitForLog((l) => l.attributes.RequestPath === '/app/h1?x=1', 30_000);
      // The body is the line the formatter writes (Traefik's logTheRoundTrip), newline included,
      // with logrus's level and time set (PR #13767: not `panic` and the zero time).
      assert.ok(rec.body.endsWith('}\n'), rec.body);
      const body = JSON.parse(rec.body) as Record<string, unknown>;
      assert.equal(body.RequestPath, '/app/h1?x=1');
      assert.equal(body.level, 'info');
      assert.equal(body.msg, '');
      assert.match(String(body.time), /^20\d\d-/);
      assert.equal(body['request_User-Agent'], 'e2e-agent');
      assert.equal('ClientUsername' in body, false);
      assert.equal(body.DownstreamStatus, rec.attributes.DownstreamStatus);
      assert.equal(rec.severityNumber, 9);
      // otellogrus sets the level's name as severityText.
      assert.equal(rec.severityText, 'info');
      assert.equal(rec.scope, 'traefik');
      assert.equal(rec.resource['service.name'], 'edge-access');
      assert.equal(rec.resource.team, 'a');
      const a = rec.attributes;
      // Integers as int64 (otellogrus's convertValue), strings as strings.
      assert.equal(a.DownstreamStatus, 200);
      assert.equal(a.OriginStatus, 200);
      assert.equal(a.DownstreamContentSize, 2);
      assert.equal(a.RequestCount, 1);
      assert.equal(a.RetryAttempts, 0);
      assert.equal(typeof a.Duration, 'number');
      assert.equal(a.RequestMethod, 'GET');
      assert.equal(a.RequestHost, 'shop.test');
      assert.equal(a.RequestProtocol, 'HTTP/1.1');
      assert.equal(a.RouterName, 'app@file');
      assert.equal(a.entryPointName, 'web');
      assert.equal(a.ClientHost, '127.0.0.1');
      assert.equal(typeof a.ClientPort, 'string');
      // time.Time fields: their Unix nanoseconds.
      assert.equal(typeof a.StartUTC, 'number');
      assert.ok((a.StartUTC as number) > 1.7e18);
      assert.equal(a['request_User-Agent'], 'e2e-agent');
      // Dropped by `fields`; the formatter's own keys are not fields.
      for (const k of ['ClientUsername', 'level', 'msg', 'time']) assert.equal(k in a, false, k);
      await proxy.stop();
      // The filtered 404 was never sent, and nothing went to stdout (Traefik's io.Discard).
      assert.equal(
        http.logs.some((l) => String(l.attributes.RequestPath).startsWith('/nowhere')),
        false,
      );
      assert.equal(proxy.stdout().includes('/app/h1'), false, proxy.stdout());
    } finally {
      await proxy?.stop();
    }
  });

  it("a traced request's EntryPoint span: TraceId and SpanId in the line, the span context on the record", async () => {
    // Traefik v3's TraceId and SpanId fields (pkg/middlewares/accesslog/logdata.go), present only
    // when the request is traced; the OTLP record carries the span context it was logged in.
    const file = join(dir, 'traced.log');
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
experimental:
  otlpLogs: true
tracing:
  otlp: { http: { endpoint: "${http.base}" } }
accessLog:
  filePath: "${file}"
  format: json
  dualOutput: true
  otlp:
    http: { endpoint: "${http.base}" }
http:
  routers:
    app: { rule: "PathPrefix(\`/traced\`)", service: be }
    quiet: { rule: "PathPrefix(\`/quiet\`)", service: be, observability: { tracing: false } }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`,
      });
      const trace = 'cd'.repeat(16);
      const c = await RawConn.open(proxy.port);
      try {
        c.write(
          `GET /traced/t1 HTTP/1.1\r\nHost: shop.test\r\ntraceparent: 00-${trace}-00f067aa0ba902b7-01\r\n\r\n`,
        );
        assert.equal((await c.readResponse()).status, 200);
        c.write('GET /quiet/q1 HTTP/1.1\r\nHost: shop.test\r\n\r\n');
        assert.equal((await c.readResponse()).status, 200);
      } finally {
        c.destroy();
      }
      const entry = await http.waitForSpan((s) => s.name === 'EntryPoint' && s.traceId === trace, 30_000);
      const rec = await http.waitForLog((l) => l.attributes.RequestPath === '/traced/t1', 30_000);
      assert.equal(rec.attributes.TraceId, trace);
      assert.equal(rec.attributes.SpanId, entry.spanId);
      // v3.7's OTel-conformant names beside them (Traefik PR #12801).
      assert.equal(rec.attributes.trace_id, trace);
      assert.equal(rec.attributes.span_id, entry.spanId);
      assert.equal(rec.traceId, trace);
      assert.equal(rec.spanId, entry.spanId);
      assert.equal(rec.flags, 1, 'sampled');
      const quiet = await http.waitForLog((l) => l.attributes.RequestPath === '/quiet/q1', 30_000);
      assert.equal('TraceId' in quiet.attributes, false);
      assert.equal('trace_id' in quiet.attributes || 'span_id' in quiet.attributes, false);
      assert.equal(quiet.traceId, '');
      await proxy.stop();
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const traced = lines.find((l) => l.RequestPath === '/traced/t1')!;
      assert.equal(traced.TraceId, trace);
      assert.equal(traced.SpanId, entry.spanId);
      assert.equal(traced.trace_id, trace);
      assert.equal(traced.span_id, entry.spanId);
      // Go's JSON key order: SpanId after ServiceURL, TraceId after TLS*; the lowercase keys
      // after the formatter's msg: span_id before time, trace_id last.
      const keys = Object.keys(traced);
      assert.ok(keys.indexOf('SpanId') > keys.indexOf('ServiceURL'));
      assert.ok(keys.indexOf('TraceId') < keys.indexOf('entryPointName'));
      assert.deepEqual(keys.slice(-5), ['level', 'msg', 'span_id', 'time', 'trace_id']);
      // dualOutput with format json: Traefik logs the entry with the OTLP body as its message, so
      // the file's line carries that body (whose own msg is "") again as its msg.
      assert.equal(traced.msg, rec.body);
      assert.equal(JSON.parse(rec.body).msg, '');
      assert.equal(JSON.parse(rec.body).time, traced.time);
      const untraced = lines.find((l) => l.RequestPath === '/quiet/q1')!;
      assert.equal(untraced.msg, quiet.body);
      for (const k of ['TraceId', 'SpanId', 'trace_id', 'span_id']) assert.equal(k in untraced, false, k);
    } finally {
      await proxy?.stop();
    }
  });

  it('over OTLP/gRPC with dualOutput: the file gets the lines too', async () => {
    const file = join(dir, 'access.log');
    let proxy: ProxyProcess | undefined;
    try {
      proxy = await startProxy({
        config: config(`  filePath: "${file}"
  dualOutput: true
  otlp:
    grpc: { endpoint: "${grpc.hostPort}", insecure: true }`),
      });
      await traffic(proxy, 'g1');
      const rec = await grpc.waitForLog((l) => l.attributes.RequestPath === '/app/g1?x=1', 30_000);
      assert.equal(rec.resource['service.name'], 'traefik');
      const missed = await grpc.waitForLog((l) => l.attributes.RequestPath === '/nowhere/g1', 30_000);
      assert.equal(missed.attributes.DownstreamStatus, 404);
      // Headers are dropped by default (Traefik's fields.headers.defaultMode).
      assert.equal('request_User-Agent' in rec.attributes, false);
      await proxy.stop();
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      assert.equal(lines.length, 2);
      assert.match(lines[0]!, /"GET \/app\/g1\?x=1 HTTP\/1.1" 200/);
      // The record's body is the line as the common formatter writes it.
      assert.equal(rec.body, `${lines[0]}\n`);
      assert.equal(missed.body, `${lines[1]}\n`);
    } finally {
      await proxy?.stop();
    }
  });

  it('is refused without experimental.otlpLogs, as Traefik refuses it', async () => {
    await assert.rejects(
      startProxy({
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
accessLog:
  otlp: {}
`,
        timeoutMs: 20_000,
      }),
      /experimental OTLPLogs feature must be enabled to use OTLP access logging/,
    );
  });
});
