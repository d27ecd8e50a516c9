import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryPointSchema } from '../config/static/schema.ts';
import { goDuration, traefikEntryPoint } from './entry-point-views.ts';

describe('entry points in Traefik’s JSON (pkg/api/handler_entrypoint.go)', () => {
  it('writes durations as Go’s time.Duration String()', () => {
    assert.equal(goDuration(0), '0s');
    assert.equal(goDuration(0.0005), '500ns');
    assert.equal(goDuration(0.0015), '1.5µs');
    assert.equal(goDuration(100), '100ms');
    assert.equal(goDuration(1500), '1.5s');
    assert.equal(goDuration(10_000), '10s');
    assert.equal(goDuration(60_000), '1m0s');
    assert.equal(goDuration(180_000), '3m0s');
    assert.equal(goDuration(3_723_500), '1h2m3.5s');
  });

  it('leaves out what Go’s omitempty leaves out, keeps set pointers and false *bool', () => {
    const ep = entryPointSchema.parse({
      address: ':443',
      asDefault: true,
      proxyProtocol: { insecure: true },
      http: {
        sanitizePath: false,
        tls: {},
        redirections: { entryPoint: { to: 'web', permanent: false } },
      },
      observability: { accessLogs: false },
      transport: { keepAliveMaxRequests: 5, lifeCycle: { requestAcceptGraceTimeout: '1.5s' } },
    });
    const json = traefikEntryPoint(ep);
    assert.equal(json['address'], ':443');
    assert.equal(json['asDefault'], true);
    assert.deepEqual(json['proxyProtocol'], { insecure: true });
    assert.deepEqual(json['forwardedHeaders'], {});
    assert.deepEqual(json['transport'], {
      lifeCycle: { requestAcceptGraceTimeout: '1.5s', graceTimeOut: '10s' },
      respondingTimeouts: { readTimeout: '1m0s', idleTimeout: '3m0s' },
      keepAliveMaxRequests: 5,
    });
    const http = json['http'] as Record<string, unknown>;
    assert.equal(http['sanitizePath'], false);
    assert.deepEqual(http['tls'], {});
    assert.deepEqual((http['redirections'] as { entryPoint: unknown }).entryPoint, {
      to: 'web',
      scheme: 'https',
      // Go's math.MaxInt - 1 (RedirectEntryPoint.SetDefaults), written exactly.
      priority: 9_223_372_036_854_775_806n,
    });
    assert.deepEqual(json['observability'], {
      accessLogs: false,
      metrics: true,
      tracing: true,
      traceVerbosity: 'minimal',
    });
    assert.equal('reusePort' in json, false);
    assert.equal('allowACMEByPass' in json, false);
  });
});
