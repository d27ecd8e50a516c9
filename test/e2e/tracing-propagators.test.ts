/**
 * OTEL_PROPAGATORS, which Traefik's tracer reads through autoprop.NewTextMapPropagator
 * (pkg/observability/tracing/tracing.go NewTracing): the entry point reads the client's context
 * with the propagators named, and each call carries its own in their formats (B3 single and
 * multiple headers, Jaeger, X-Ray, OT, as the Go contrib propagators write them); `none`, or a
 * list without `tracecontext`, leaves W3C trace context alone: the server gets the client's
 * traceparent untouched.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { httpRequest } from '../helpers/http-request.ts';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const CLIENT_TRACE = 'ab'.repeat(16);
const CLIENT_PARENT = '00f067aa0ba902b7';
const TRACE64 = 'a3ce929d0e0e4736';
const PADDED = `0000000000000000${TRACE64}`;
const OTHER_PARENT = 'e457b5a2e4d86bd1';

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

  function proxyWith(propagators: string, prefix: string): Promise<ProxyProcess> {
    return startProxy({
      env: { OTEL_PROPAGATORS: propagators },
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
tracing:
  otlp: { http: { endpoint: "${receiver.url}" } }
http:
  routers:
    app: { rule: "PathPrefix(\`/${prefix}\`)", service: app }
  services:
    app: { loadBalancer: { servers: [{ url: "${app.url}" }] } }
`,
    });
  }

  /** One request with `headers`; the fields the server got, and the call's ReverseProxy span. */
  async function send(proxy: ProxyProcess, path: string, headers: Record<string, string>, traceId: string) {
    const res = await httpRequest(proxy.port, { path, headers });
    assert.equal(res.status, 200);
    const seen = app.seen.findLast((s) => s.url === path)!;
    const call = await receiver.waitForSpan(
      (s) =>
        s.name === 'ReverseProxy' &&
        s.traceId === traceId &&
        s.attributes['url.full'] === `${app.url}${path}`,
      10_000,
    );
    const entry = await receiver.waitForSpan(
      (s) => s.name === 'EntryPoint' && s.spanId === call.parentSpanId,
      10_000,
    );
    return { seen: seen.headers, call, entry };
  }

  it('none: no W3C trace context read nor written', async () => {
    const proxy = await proxyWith('none', 'none');
    try {
      const sent = `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01`;
      const res = await httpRequest(proxy.port, {
        path: '/none/x',
        headers: { traceparent: sent, tracestate: 'k=v' },
      });
      assert.equal(res.status, 200);
      const seen = app.seen.at(-1)!;
      assert.equal(seen.headers.traceparent, sent, 'the client traceparent goes on untouched');
      assert.equal(seen.headers.tracestate, 'k=v');
      // The request is traced all the same, in a trace of its own.
      const span = await receiver.waitForSpan((s) => s.attributes['url.path'] === '/none/x', 10_000);
      assert.notEqual(span.traceId, CLIENT_TRACE);
      assert.equal(span.parentSpanId, '');
    } finally {
      await proxy.stop();
    }
  });

  it('b3: the single header read (64-bit trace id padded) and written, the multiple ones read too', async () => {
    const proxy = await proxyWith('b3', 'b3');
    try {
      const traceparent = `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01`;
      const a = await send(proxy, '/b3/single', { b3: `${TRACE64}-${OTHER_PARENT}-1`, traceparent }, PADDED);
      assert.equal(a.entry.parentSpanId, OTHER_PARENT, "the client's B3 span is the entry span's parent");
      assert.equal(a.seen.b3, `${PADDED}-${a.call.spanId}-1`);
      assert.equal(a.seen.traceparent, traceparent, 'W3C is not in the list: untouched');
      // X-B3-Flags: 1 is debug (and sampled): the server gets `d`.
      const trace = '12'.repeat(16);
      const b = await send(
        proxy,
        '/b3/multi',
        { 'x-b3-traceid': trace, 'x-b3-spanid': OTHER_PARENT, 'x-b3-flags': '1', 'x-b3-sampled': '0' },
        trace,
      );
      assert.equal(b.entry.parentSpanId, OTHER_PARENT);
      assert.equal(b.seen.b3, `${trace}-${b.call.spanId}-d`);
      assert.equal(b.seen['x-b3-sampled'], '0', 'the multiple headers are not written by b3: as they came');
    } finally {
      await proxy.stop();
    }
  });

  it('b3multi: the X-B3-* headers read and written, X-B3-ParentSpanId left as it came', async () => {
    const proxy = await proxyWith('b3multi', 'multi');
    try {
      const trace = '34'.repeat(16);
      const r = await send(
        proxy,
        '/multi/x',
        {
          'x-b3-traceid': trace,
          'x-b3-spanid': OTHER_PARENT,
          'x-b3-parentspanid': CLIENT_PARENT,
          'x-b3-sampled': 'true',
        },
        trace,
      );
      assert.equal(r.entry.parentSpanId, OTHER_PARENT);
      assert.equal(r.seen['x-b3-traceid'], trace);
      assert.equal(r.seen['x-b3-spanid'], r.call.spanId);
      assert.equal(r.seen['x-b3-sampled'], '1');
      assert.equal(r.seen['x-b3-parentspanid'], CLIENT_PARENT);
      assert.equal(r.seen.b3, undefined);
    } finally {
      await proxy.stop();
    }
  });

  it('jaeger: uber-trace-id read and written, its debug flag kept', async () => {
    const proxy = await proxyWith('tracecontext,jaeger', 'jaeger');
    try {
      const r = await send(proxy, '/jaeger/x', { 'uber-trace-id': `${TRACE64}:${OTHER_PARENT}:0:3` }, PADDED);
      assert.equal(r.entry.parentSpanId, OTHER_PARENT);
      assert.equal(r.seen['uber-trace-id'], `${PADDED}:${r.call.spanId}:0:3`);
      assert.equal(r.seen.traceparent, `00-${PADDED}-${r.call.spanId}-01`, 'and W3C, in the list too');
    } finally {
      await proxy.stop();
    }
  });

  it('xray,ottrace: X-Amzn-Trace-Id read, both formats written', async () => {
    const proxy = await proxyWith('xray,ottrace', 'xray');
    try {
      const trace = '5759e988bd862e3fe1be46a994272793';
      const r = await send(
        proxy,
        '/xray/x',
        { 'x-amzn-trace-id': `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${OTHER_PARENT};Sampled=1` },
        trace,
      );
      assert.equal(r.entry.parentSpanId, OTHER_PARENT);
      assert.equal(
        r.seen['x-amzn-trace-id'],
        `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=${r.call.spanId};Sampled=1`,
      );
      assert.equal(r.seen['ot-tracer-traceid'], trace.slice(16));
      assert.equal(r.seen['ot-tracer-spanid'], r.call.spanId);
      assert.equal(r.seen['ot-tracer-sampled'], 'true');
    } finally {
      await proxy.stop();
    }
  });

  it('tracecontext,baggage,ottrace: baggage goes from one format to the other, as Go carries it', async () => {
    // propagation.Baggage and contrib's ot.OT share the context's baggage: a W3C `baggage` field
    // comes out as ot-baggage-* too, and an OT context's ot-baggage-* as `baggage`.
    const proxy = await proxyWith('tracecontext,baggage,ottrace', 'bag');
    try {
      const w3c = await send(
        proxy,
        '/bag/w3c',
        { traceparent: `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01`, baggage: 'user=alice,note=a%20b' },
        CLIENT_TRACE,
      );
      assert.equal(w3c.seen['ot-baggage-user'], 'alice');
      assert.equal(w3c.seen['ot-baggage-note'], 'a b');
      assert.deepEqual(String(w3c.seen.baggage).split(',').sort(), ['note=a%20b', 'user=alice']);
      const ot = await send(
        proxy,
        '/bag/ot',
        {
          'ot-tracer-traceid': TRACE64,
          'ot-tracer-spanid': OTHER_PARENT,
          'ot-tracer-sampled': 'true',
          'ot-baggage-tenant': 't1',
        },
        PADDED,
      );
      assert.equal(ot.entry.parentSpanId, OTHER_PARENT);
      assert.equal(ot.seen.baggage, 'tenant=t1');
      assert.equal(ot.seen['ot-baggage-tenant'], 't1');
      assert.equal(ot.seen['ot-tracer-spanid'], ot.call.spanId);
    } finally {
      await proxy.stop();
    }
  });
});
