import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anyValue, encodeResource, encodeTraces, unixNanos } from './otlp-json.ts';
import type { FinishedSpan } from './span.ts';

/** The tree as OTLP/HTTP JSON would carry it. */
const json = (tree: object) => JSON.parse(JSON.stringify(tree));

describe('unixNanos', () => {
  it('prints epoch milliseconds as exact integer nanoseconds', () => {
    assert.equal(unixNanos(1_700_000_000_123), '1700000000123000000');
    assert.equal(unixNanos(1_700_000_000_123.5), '1700000000123500000');
    assert.equal(unixNanos(1_700_000_000_000 + 2 ** -12), '1700000000000000244');
  });

  it('carries a fraction that rounds up to a whole millisecond', () => {
    assert.equal(unixNanos(5.999_999_9), '6000000');
  });

  it('prints 0 for zero, negative and non-finite times', () => {
    assert.equal(unixNanos(0), '0');
    assert.equal(unixNanos(0.5), '500000');
    assert.equal(unixNanos(-5), '0');
    assert.equal(unixNanos(Number.NaN), '0');
  });
});

describe('anyValue', () => {
  it('maps strings, booleans, integers and fractions to the OTLP JSON value kinds', () => {
    assert.deepEqual(anyValue('x'), { stringValue: 'x' });
    assert.deepEqual(anyValue(true), { boolValue: true });
    assert.deepEqual(anyValue(200), { intValue: '200' });
    assert.deepEqual(anyValue(1.5), { doubleValue: 1.5 });
    assert.deepEqual(anyValue(Number.POSITIVE_INFINITY), { stringValue: 'Infinity' });
  });
});

describe('encodeTraces', () => {
  const span = (over: Partial<FinishedSpan>): FinishedSpan => ({
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    parentSpanId: undefined,
    tracestate: undefined,
    name: 'GET',
    startEpochMs: 1000,
    endEpochMs: 1002,
    kind: 2,
    remoteParent: false,
    error: false,
    message: '',
    attributes: ['http.request.method', 'GET', 'traffic.retries', 0],
    ...over,
  });

  it('nests spans under the resource and the traffic-management scope', () => {
    const body = json(encodeTraces(encodeResource('svc', { env: 'prod' }), [span({})]));
    const rs = body.resourceSpans[0];
    assert.deepEqual(rs.resource.attributes, [
      { key: 'service.name', value: { stringValue: 'svc' } },
      { key: 'env', value: { stringValue: 'prod' } },
    ]);
    assert.deepEqual(rs.scopeSpans[0].scope, { name: 'github.com/traefik/traefik' });
    assert.deepEqual(rs.scopeSpans[0].spans[0], {
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      flags: 0x101,
      name: 'GET',
      kind: 2,
      startTimeUnixNano: '1000000000',
      endTimeUnixNano: '1002000000',
      attributes: [
        { key: 'http.request.method', value: { stringValue: 'GET' } },
        { key: 'traffic.retries', value: { intValue: '0' } },
      ],
      status: { code: 0 },
    });
  });

  it('writes the parent id, the tracestate and the remote-parent flag when the trace came from outside', () => {
    const body = json(
      encodeTraces(encodeResource('svc', {}), [
        span({ parentSpanId: 'c'.repeat(16), tracestate: 'k=v', remoteParent: true }),
      ]),
    );
    const s = body.resourceSpans[0].scopeSpans[0].spans[0];
    assert.equal(s.parentSpanId, 'c'.repeat(16));
    assert.equal(s.traceState, 'k=v');
    assert.equal(s.flags, 0x301);
  });

  it('writes the status the span ended with, and its kind', () => {
    const out = [
      span({ error: true }),
      span({ error: true, message: 'connection broken' }),
      span({ kind: 3 }),
    ].map((s) => json(encodeTraces({ attributes: [] }, [s])).resourceSpans[0].scopeSpans[0].spans[0]);
    assert.deepEqual(
      out.map((s) => s.status),
      [{ code: 2 }, { code: 2, message: 'connection broken' }, { code: 0 }],
    );
    assert.equal(out[2].kind, 3);
  });

  it('a parent of ours (not from the client) has no remote-parent flag', () => {
    const s = json(encodeTraces({ attributes: [] }, [span({ parentSpanId: 'c'.repeat(16) })]))
      .resourceSpans[0].scopeSpans[0].spans[0];
    assert.equal(s.flags, 0x101);
  });

  it('does not let a global attribute replace service.name', () => {
    const res = json(encodeResource('svc', { 'service.name': 'other' }));
    assert.deepEqual(res.attributes, [{ key: 'service.name', value: { stringValue: 'svc' } }]);
  });
});
