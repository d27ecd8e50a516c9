/**
 * OTEL_PROPAGATORS, which Traefik's tracer reads through autoprop.NewTextMapPropagator
 * (pkg/observability/tracing/tracing.go NewTracing): `none`, or a list without `tracecontext`,
 * and W3C trace context is neither read from requests nor written to the calls: each request
 * starts its own trace, and the server gets the traceparent the client sent, untouched.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.ts';
import { startProxy } from '../helpers/proxy-process.ts';

const CLIENT_TRACE = 'ab'.repeat(16);
const CLIENT_PARENT = '00f067aa0ba902b7';

describe('tracing: OTEL_PROPAGATORS', () => {
  let app: Backend;
  let receiver: OtlpReceiver;

  before(async () => {
    app = await startBackend((_req, res) => res.end('app'));
    receiver = await startOtlpReceiver();
  });

  after(async () => {
    await Promise.all([app?.close(), receiver?.close()]);
  });

  for (const value of ['none', 'b3']) {
    it(`${value}: no W3C trace context read nor written`, async () => {
      const proxy = await startProxy({
        env: { OTEL_PROPAGATORS: value },
        config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
tracing:
  otlp: { http: { endpoint: "${receiver.url}" } }
http:
  routers:
    app: { rule: "PathPrefix(\`/${value}\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${app.url}" }] } }
`,
      });
      try {
        const sent = `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01`;
        const res = await fetch(`http://127.0.0.1:${proxy.port}/${value}/x`, {
          headers: { traceparent: sent, tracestate: 'k=v' },
        });
        assert.equal(res.status, 200);
        await res.arrayBuffer();
        const seen = app.seen.at(-1)!;
        assert.equal(seen.headers.traceparent, sent, 'the client traceparent goes on untouched');
        assert.equal(seen.headers.tracestate, 'k=v');
        // The request is traced all the same, in a trace of its own.
        const span = await receiver.waitForSpan((s) => s.attributes['url.path'] === `/${value}/x`, 10_000);
        assert.notEqual(span.traceId, CLIENT_TRACE);
        assert.equal(span.parentSpanId, '');
        if (value === 'b3') await proxy.waitForLog((l) => /b3 not supported/.test(String(l.msg)), 10_000);
      } finally {
        await proxy.stop();
      }
    });
  }
});
