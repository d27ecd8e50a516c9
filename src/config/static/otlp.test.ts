import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIssue } from '../issues.ts';
import { loadStaticConfig } from './load.ts';

/** `metrics.otlp.grpc` and `tracing.otlp.grpc`: Traefik's OTelGRPC (types/otel.go). */
function load(text: string, argv: string[] = []) {
  const r = loadStaticConfig({
    file: 'conf/static.yaml',
    readFile: () => `entryPoints:\n  web:\n    address: ":80"\n${text}`,
    argv,
    env: {},
  });
  return { ...r, lines: r.issues.map(formatIssue) };
}

describe('static OTLP gRPC sections', () => {
  it('reads grpc with Traefik’s defaults (localhost:4317, TLS), in the file and as flags', () => {
    const r = load(
      'metrics:\n  otlp:\n    grpc: {}\ntracing:\n  otlp:\n    grpc:\n      endpoint: collector:4317\n      insecure: true\n      headers: { x-a: b }\n',
    );
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.config?.metrics?.otlp?.grpc, {
      endpoint: 'localhost:4317',
      insecure: false,
      headers: {},
    });
    assert.deepEqual(r.config?.tracing?.otlp?.grpc, {
      endpoint: 'collector:4317',
      insecure: true,
      headers: { 'x-a': 'b' },
    });
    const f = load('', [
      '--tracing.otlp.grpc=true',
      '--metrics.otlp.grpc.endpoint=c:1',
      '--metrics.otlp.grpc.insecure',
    ]);
    assert.deepEqual(f.lines, []);
    assert.equal(f.config?.tracing?.otlp?.grpc?.endpoint, 'localhost:4317');
    assert.deepEqual(f.config?.metrics?.otlp?.grpc, { endpoint: 'c:1', insecure: true, headers: {} });
  });

  it('refuses `tls` with `insecure`, as Traefik’s ValidateConfiguration does', () => {
    const r = load(
      'tracing:\n  otlp:\n    grpc:\n      insecure: true\n      tls: { insecureSkipVerify: true }\n',
    );
    assert.equal(r.lines.length, 1);
    assert.match(
      r.lines[0]!,
      /tracing\.otlp\.grpc\.insecure: OTLP gRPC: `tls` and `insecure` are mutually exclusive/,
    );
  });

  it('reads log.otlp behind experimental.otlpLogs, and refuses it without (Traefik’s ValidateConfiguration)', () => {
    const r = load(
      'experimental:\n  otlpLogs: true\nlog:\n  otlp:\n    grpc: { endpoint: c:4317, insecure: true }\n',
    );
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.config?.log.otlp, {
      serviceName: 'traefik',
      resourceAttributes: {},
      grpc: { endpoint: 'c:4317', insecure: true, headers: {} },
    });
    const off = load('log:\n  otlp: {}\n');
    assert.equal(off.lines.length, 1);
    assert.match(off.lines[0]!, /log\.otlp: the experimental OTLPLogs feature must be enabled/);
  });
});
