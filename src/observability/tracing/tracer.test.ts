import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { type OtlpReceiver, startOtlpReceiver } from '../../../test/helpers/otlp-receiver.ts';
import { silentLogger } from '../../core/logger.ts';
import { SPAN_INTERNAL } from './span.ts';
import { Tracer, type TracerOptions } from './tracer.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

function options(over: Partial<TracerOptions> = {}): TracerOptions {
  return {
    serviceName: 'edge',
    sampleRate: 1,
    globalAttributes: {},
    // Nothing listens there; the sampling tests never export.
    endpoint: 'http://127.0.0.1:9/v1/traces',
    headers: {},
    flushIntervalMs: 3_600_000,
    ...over,
  };
}

function tracer(
  t: { after(fn: () => Promise<void>): void },
  over: Partial<TracerOptions> = {},
  random?: () => number,
) {
  const tr = new Tracer(options(over), silentLogger, random);
  t.after(() => tr.close());
  return tr;
}

describe('Tracer.startSpan: propagation and sampling', () => {
  it('joins a sampled parent: same trace id, a new span id as the upstream parent, sampled flag', (t) => {
    const span = tracer(t, { sampleRate: 0 }).startSpan(`00-${TRACE}-${PARENT}-01`, 'a=1', 'GET', 1);
    assert.equal(span.sampled, true);
    assert.equal(span.traceId, TRACE);
    assert.match(span.traceparent, new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    assert.notEqual(span.traceparent.slice(36, 52), PARENT);
    assert.equal(span.tracestate, 'a=1');
  });

  it('follows an unsampled parent even at rate 1, and still propagates its trace', (t) => {
    const span = tracer(t, { sampleRate: 1 }, () => 0).startSpan(
      `00-${TRACE}-${PARENT}-00`,
      undefined,
      'GET',
      1,
    );
    assert.equal(span.sampled, false);
    assert.match(span.traceparent, new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
    assert.equal(span.tracestate, undefined);
  });

  it('samples a new trace by ratio with the injected random source', (t) => {
    let draw = 0.2;
    const tr = tracer(t, { sampleRate: 0.5 }, () => draw);
    assert.equal(tr.startSpan(undefined, undefined, 'GET', 1).sampled, true);
    draw = 0.7;
    const span = tr.startSpan(undefined, undefined, 'GET', 1);
    assert.equal(span.sampled, false);
    assert.match(span.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  });

  it('starts a new trace for an invalid traceparent and drops the tracestate that came with it', (t) => {
    const tr = tracer(t, { sampleRate: 1 });
    for (const bad of [
      `00-${TRACE.toUpperCase()}-${PARENT}-01`,
      `00-${'0'.repeat(32)}-${PARENT}-01`,
      'junk',
    ]) {
      const span = tr.startSpan(bad, 'a=1', 'GET', 1);
      assert.notEqual(span.traceId, TRACE);
      assert.match(span.traceId, /^[0-9a-f]{32}$/);
      assert.equal(span.sampled, true);
      assert.equal(span.tracestate, undefined);
    }
  });

  it('drops an invalid tracestate but keeps the parent', (t) => {
    const span = tracer(t).startSpan(`00-${TRACE}-${PARENT}-01`, 'BAD KEY=1', 'GET', 1);
    assert.equal(span.traceId, TRACE);
    assert.equal(span.tracestate, undefined);
  });

  it('never throws on garbage input', (t) => {
    const tr = tracer(t);
    for (const v of ['', '-'.repeat(55), '\u0000'.repeat(80), 'ff'.repeat(100), 5 as unknown as string]) {
      assert.doesNotThrow(() => tr.startSpan(v, v, 'GET', 1));
    }
  });

  it('gives each request its own span id', (t) => {
    const tr = tracer(t);
    const a = tr.startSpan(`00-${TRACE}-${PARENT}-01`, undefined, 'GET', 1);
    const b = tr.startSpan(`00-${TRACE}-${PARENT}-01`, undefined, 'GET', 1);
    assert.notEqual(a.traceparent, b.traceparent);
  });
});

describe('Tracer export to an OTLP/HTTP receiver', () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(() => receiver.close());

  it('child spans: their kind, parent and status as Traefik sets them per kind', async (t) => {
    const from = receiver.spans.length;
    const tr = tracer(t, { endpoint: receiver.url });
    const entry = tr.startSpan(`00-${TRACE}-${PARENT}-01`, undefined, 'EntryPoint', 1_700_000_000_000);
    const router = tr.childSpan(entry, 'Router', SPAN_INTERNAL, 1_700_000_000_001);
    const notFound = tr.clientSpan(router, 1_700_000_000_002);
    notFound.end(1_700_000_000_003, 404);
    const invalid = tr.clientSpan(router, 1_700_000_000_004);
    invalid.end(1_700_000_000_005, 99);
    router.end(1_700_000_000_006, -1);
    entry.end(1_700_000_000_007, 404);
    await tr.flush();
    const spans = receiver.spans.slice(from);
    const byName = (n: string) => spans.filter((s) => s.name === n);
    const [nf, inv] = byName('ReverseProxy');
    assert.equal(nf!.kind, 3);
    assert.equal(nf!.parentSpanId, router.spanId);
    assert.equal(nf!.traceId, TRACE);
    // A CLIENT span is an error from 400 on (Traefik's clientStatus), with no error.type.
    assert.deepEqual(nf!.status, { code: 2, message: '' });
    assert.equal(nf!.attributes['error.type'], undefined);
    assert.deepEqual(inv!.status, { code: 2, message: 'Invalid HTTP status code 99' });
    const [r] = byName('Router');
    assert.equal(r!.kind, 1);
    assert.equal(r!.parentSpanId, entry.spanId);
    assert.deepEqual(r!.status, { code: 0, message: '' });
    assert.equal(r!.attributes['http.response.status_code'], undefined);
    // A SERVER span: a 404 is not its error (serverStatus).
    assert.deepEqual(byName('EntryPoint')[0]!.status, { code: 0, message: '' });
  });

  it("setError (Traefik's SetStatusErrorf): kept through a 4xx end, its message replaced by a 5xx", async (t) => {
    const from = receiver.spans.length;
    const tr = tracer(t, { endpoint: receiver.url });
    const entry = tr.startSpan(`00-${TRACE}-${PARENT}-01`, undefined, 'EntryPoint', 1_700_000_000_000);
    const auth = tr.childSpan(entry, 'BasicAuth', SPAN_INTERNAL, 1_700_000_000_001);
    auth.setError('Authentication failed');
    auth.end(1_700_000_000_002, -1);
    entry.setError('Authentication failed');
    entry.end(1_700_000_000_003, 401);
    const failed = tr.startSpan(undefined, undefined, 'EntryPoint', 1_700_000_000_004);
    failed.setError('Authentication failed');
    failed.end(1_700_000_000_005, 503);
    await tr.flush();
    const spans = receiver.spans.slice(from);
    const status = (name: string, i = 0) => spans.filter((s) => s.name === name)[i]!.status;
    assert.deepEqual(status('BasicAuth'), { code: 2, message: 'Authentication failed' });
    // OTel's SetStatus never lowers Error to Unset (a SERVER span's 401), and Error again replaces it.
    assert.deepEqual(status('EntryPoint'), { code: 2, message: 'Authentication failed' });
    assert.deepEqual(status('EntryPoint', 1), { code: 2, message: '' });
  });

  it('an unsampled trace: the traceparent of a call gets a new span id, not sampled', (t) => {
    const tr = tracer(t, { endpoint: 'http://127.0.0.1:9/v1/traces' });
    const entry = tr.startSpan(`00-${TRACE}-${PARENT}-00`, undefined, 'EntryPoint', 1);
    const tp = tr.unsampledTraceparent(entry);
    assert.match(tp, new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
    assert.notEqual(tp.slice(36, 52), PARENT);
  });

  it('exports sampled spans with their attributes, the incoming parent id and the trace id', async (t) => {
    const from = receiver.spans.length;
    const tr = tracer(t, {
      endpoint: receiver.url,
      serviceName: 'edge-proxy',
      globalAttributes: { 'deployment.environment': 'test' },
      headers: { authorization: 'Bearer xyz' },
    });
    const joined = tr.startSpan(`00-${TRACE}-${PARENT}-01`, 'vendor=opaque', 'GET /api', 1_700_000_000_000);
    joined.setAttribute('http.request.method', 'GET');
    joined.setAttribute('url.path', '/api');
    joined.setAttribute('traffic.router', 'api@file');
    joined.setAttribute('traffic.retries', 1);
    joined.setAttribute('traffic.retries', 2);
    joined.setAttribute('tls', false);
    joined.end(1_700_000_000_012.5, 200);
    const root = tr.startSpan(undefined, undefined, 'POST', 1_700_000_000_001);
    root.end(1_700_000_000_002, 502);
    await tr.flush();

    const spans = receiver.spans.slice(from);
    assert.equal(spans.length, 2);
    const [j, r] = spans as [(typeof spans)[0], (typeof spans)[0]];
    assert.equal(j.traceId, TRACE);
    assert.equal(j.parentSpanId, PARENT);
    assert.equal(j.spanId, joined.traceparent.slice(36, 52));
    assert.equal(j.traceState, 'vendor=opaque');
    assert.equal(j.name, 'GET /api');
    assert.equal(j.kind, 2);
    assert.equal(j.startTimeUnixNano, '1700000000000000000');
    assert.equal(j.endTimeUnixNano, '1700000000012500000');
    assert.deepEqual(j.attributes, {
      'http.request.method': 'GET',
      'url.path': '/api',
      'traffic.router': 'api@file',
      'traffic.retries': 2,
      tls: false,
      'http.response.status_code': 200,
    });
    assert.deepEqual(j.status, { code: 0, message: '' });
    assert.deepEqual(j.resource, { 'service.name': 'edge-proxy', 'deployment.environment': 'test' });
    assert.equal(j.scope, 'github.com/traefik/traefik');

    assert.equal(r.traceId, root.traceId);
    assert.equal(r.parentSpanId, '');
    assert.equal(r.status.code, 2);
    // Traefik's spans carry no error.type (CaptureResponse).
    assert.equal(r.attributes['error.type'], undefined);

    const exp = receiver.exports.at(-1)!;
    assert.equal(exp.spanCount, 2);
    assert.equal(exp.contentType, 'application/x-protobuf');
    assert.equal(exp.headers['authorization'], 'Bearer xyz');
    assert.equal(tr.exported, 2);
    assert.equal(tr.dropped, 0);
  });

  it('exports nothing for unsampled spans and counts nothing as dropped', async (t) => {
    const before = receiver.exports.length;
    const tr = tracer(t, { endpoint: receiver.url, sampleRate: 0 });
    const span = tr.startSpan(undefined, undefined, 'GET', 1);
    span.setAttribute('k', 'v');
    span.end(2, 200);
    await tr.flush();
    assert.equal(receiver.exports.length, before);
    assert.equal(tr.dropped, 0);
  });

  it('records a span once even when it is ended twice, and ignores attributes set after the end', async (t) => {
    const from = receiver.spans.length;
    const tr = tracer(t, { endpoint: receiver.url });
    const span = tr.startSpan(undefined, undefined, 'GET', 1);
    span.end(2, 200);
    span.setAttribute('late', true);
    span.end(3, 500);
    await tr.flush();
    const spans = receiver.spans.slice(from);
    assert.equal(spans.length, 1);
    assert.equal(spans[0]!.endTimeUnixNano, '2000000');
    assert.equal(spans[0]!.attributes['late'], undefined);
  });

  it('sends a full batch without waiting for the timer or a flush', async (t) => {
    const from = receiver.exports.length;
    const tr = tracer(t, { endpoint: receiver.url, maxBatch: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const s = tr.startSpan(undefined, undefined, `s${i}`, 1);
      ids.push(s.traceId);
      s.end(2, 200);
    }
    const spans = await receiver.waitForSpans(receiver.spans.length + 6);
    assert.deepEqual(
      receiver.exports.slice(from).map((e) => e.spanCount),
      [3, 3],
    );
    assert.deepEqual(
      spans.slice(-6).map((s) => s.traceId),
      ids,
    );
  });

  it('exports on the flush interval', async (t) => {
    mock.timers.enable({ apis: ['setInterval'] });
    t.after(() => mock.timers.reset());
    const from = receiver.spans.length;
    const tr = tracer(t, { endpoint: receiver.url, flushIntervalMs: 1000 });
    tr.startSpan(undefined, undefined, 'tick', 1).end(2, 200);
    mock.timers.tick(1000);
    const spans = await receiver.waitForSpans(from + 1);
    assert.equal(spans.at(-1)!.name, 'tick');
  });

  it('close() exports what is queued, and spans ended afterwards are dropped', async () => {
    const from = receiver.spans.length;
    const tr = new Tracer(options({ endpoint: receiver.url }), silentLogger);
    tr.startSpan(undefined, undefined, 'a', 1).end(2, 200);
    tr.startSpan(undefined, undefined, 'b', 1).end(2, 200);
    await tr.close();
    assert.deepEqual(
      receiver.spans.slice(from).map((s) => s.name),
      ['a', 'b'],
    );
    tr.startSpan(undefined, undefined, 'late', 1).end(2, 200);
    await tr.flush();
    assert.equal(receiver.spans.length, from + 2);
    assert.equal(tr.dropped, 1);
  });

  it('drops and counts spans beyond maxQueue', async (t) => {
    const from = receiver.spans.length;
    const tr = tracer(t, { endpoint: receiver.url, maxBatch: 2, maxQueue: 3 });
    for (let i = 0; i < 5; i++) tr.startSpan(undefined, undefined, `q${i}`, 1).end(2, 200);
    assert.equal(tr.dropped, 2);
    await tr.flush();
    assert.deepEqual(
      receiver.spans.slice(from).map((s) => s.name),
      ['q0', 'q1', 'q2'],
    );
  });

  it("retries a batch answered 503, as Go's OTLP exporters do, and it arrives", async (t) => {
    const fromExports = receiver.exports.length;
    const fromSpans = receiver.spans.length;
    const tr = tracer(t, { endpoint: receiver.url });
    receiver.failNext(1, 503);
    tr.startSpan(undefined, undefined, 'retried', 1).end(2, 200);
    await tr.flush();
    assert.equal(tr.dropped, 0);
    assert.equal(receiver.exports.length, fromExports + 2, 'the refused attempt, then the retry');
    assert.deepEqual(
      receiver.spans.slice(fromSpans).map((s) => s.name),
      ['retried'],
    );
  });

  it('drops a batch the receiver refuses for good (400), once, without retrying it', async (t) => {
    const fromExports = receiver.exports.length;
    const fromSpans = receiver.spans.length;
    const tr = tracer(t, { endpoint: receiver.url });
    // 400 is not among Go's retryable statuses (429, 502, 503, 504).
    receiver.failNext(1, 400);
    tr.startSpan(undefined, undefined, 'refused', 1).end(2, 200);
    await tr.flush();
    assert.equal(tr.dropped, 1);
    tr.startSpan(undefined, undefined, 'next', 1).end(2, 200);
    await tr.flush();
    assert.equal(receiver.exports.length, fromExports + 2);
    assert.deepEqual(
      receiver.spans.slice(fromSpans).map((s) => s.name),
      ['next'],
    );
  });
});
