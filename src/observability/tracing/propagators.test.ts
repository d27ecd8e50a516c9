import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeaderList } from '../../core/headers.ts';
import {
  B3_DEBUG,
  B3_DEFERRED,
  DEFAULT_PROPAGATION,
  emptyRemoteContext,
  JAEGER_DEBUG,
  type Propagation,
  parsePropagators,
  type RemoteContext,
} from './propagators.ts';

const T32 = '4bf92f3577b34da6a3ce929d0e0e4736';
const T16 = 'a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';
const P = 'e457b5a2e4d86bd1';

function prop(value: string): Propagation {
  const warnings: string[] = [];
  const p = parsePropagators(value, (m) => warnings.push(m));
  assert.deepEqual(warnings, []);
  return p;
}

function extract(p: Propagation, fields: Record<string, string>): RemoteContext | null {
  const out = emptyRemoteContext();
  return p.extract(HeaderList.from(Object.entries(fields)), out) ? out : null;
}

/** The marks extraction leaves, whether or not it found a context. */
function marks(p: Propagation, fields: Record<string, string>): number {
  const out = emptyRemoteContext();
  p.extract(HeaderList.from(Object.entries(fields)), out);
  return out.flags;
}

function inject(p: Propagation, sampled: boolean, flags = 0, fields: Record<string, string> = {}) {
  const h = HeaderList.from(Object.entries(fields));
  p.inject(h, `00-${T32}-${S}-${sampled ? '01' : '00'}`, undefined, flags);
  return Object.fromEntries(h.lnames.map((n, i) => [n, h.values[i]]));
}

describe('parsePropagators (OTEL_PROPAGATORS as autoprop reads it)', () => {
  it('W3C trace context alone by default and for tracecontext,baggage', () => {
    const warn = (m: string) => assert.fail(m);
    assert.equal(parsePropagators(undefined, warn), DEFAULT_PROPAGATION);
    assert.equal(parsePropagators('', warn), DEFAULT_PROPAGATION);
    const p = parsePropagators('baggage,tracecontext', warn);
    assert.equal(p.w3c, true);
    assert.equal(p.others, false);
  });

  it('none (anywhere) turns everything off; a list without tracecontext turns W3C off', () => {
    for (const v of ['none', 'tracecontext,none', 'b3,none']) {
      const p = prop(v);
      assert.equal(p.w3c || p.others, false, v);
    }
    assert.equal(prop('baggage').w3c, false);
    const b3 = prop('b3multi');
    assert.equal(b3.w3c, false);
    assert.equal(b3.others, true);
  });

  it('skips unknown names (not trimmed, as Go splits them) and falls back to the default when none is left', () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    assert.equal(parsePropagators('foo', warn), DEFAULT_PROPAGATION);
    const p = parsePropagators('baggage, tracecontext', warn);
    assert.equal(p.w3c, false, '" tracecontext" is not a name');
    assert.match(warnings.join('\n'), /unknown propagator\(s\) foo/);
  });
});

describe('b3 (go.opentelemetry.io/contrib/propagators/b3)', () => {
  const p = prop('b3');

  it('reads the single header: 128-bit and padded 64-bit ids, sampling state, parent checked', () => {
    assert.deepEqual(extract(p, { b3: `${T32}-${S}-1` }), {
      traceId: T32,
      parentId: S,
      sampled: true,
      tracestate: undefined,
      flags: 0,
      baggage: null,
    });
    assert.equal(extract(p, { b3: `${T16}-${S}-0` })?.traceId, `0000000000000000${T16}`);
    assert.equal(extract(p, { b3: `${T16}-${S}-0` })?.sampled, false);
    assert.equal(extract(p, { b3: `${T32}-${S}-1-${P}` })?.sampled, true);
    const d = extract(p, { b3: `${T32}-${S}-d` });
    assert.equal(d?.sampled, true);
    assert.equal(d?.flags, B3_DEBUG);
    const deferred = extract(p, { b3: `${T32}-${S}` });
    assert.equal(deferred?.sampled, false);
    assert.equal(deferred?.flags, B3_DEFERRED);
  });

  it('refuses what Go refuses in the single header', () => {
    for (const bad of [
      T32, // a trace id alone
      `${T32}-${S}-`, // a dash and no sampling state
      `${T32}-${S}-${P}`, // a parent without sampling state
      `${T32}-${S}-x`,
      `${T32}-${S}-1-zzzzzzzzzzzzzzzz`,
      `${T32.toUpperCase()}-${S}-1`, // hex is lowercase
      `${'0'.repeat(32)}-${S}-1`,
      `${T32}-${'0'.repeat(16)}-1`,
      `${T32}-${S}-true`,
    ])
      assert.equal(extract(p, { b3: bad }), null, bad);
  });

  it('falls back to the multiple headers when the single one gives no context', () => {
    const multi = { 'x-b3-traceid': T16, 'x-b3-spanid': S, 'x-b3-sampled': 'true' };
    assert.equal(extract(p, { b3: 'garbage', ...multi })?.traceId, `0000000000000000${T16}`);
    assert.equal(extract(p, { b3: '1', ...multi })?.sampled, true);
  });

  it('reads the multiple headers: sampled 0/1/true/false, X-B3-Flags 1 is debug and sampled', () => {
    const ids = { 'x-b3-traceid': T32, 'x-b3-spanid': S };
    assert.equal(extract(p, { ...ids, 'x-b3-sampled': '1' })?.sampled, true);
    assert.equal(extract(p, { ...ids, 'x-b3-sampled': 'FALSE' })?.sampled, false);
    const dbg = extract(p, { ...ids, 'x-b3-sampled': '0', 'x-b3-flags': '1' });
    assert.equal(dbg?.sampled, true);
    assert.equal(dbg?.flags, B3_DEBUG);
    assert.equal(extract(p, ids)?.flags, B3_DEFERRED);
    assert.equal(extract(p, { ...ids, 'x-b3-parentspanid': P, 'x-b3-sampled': '1' })?.flags, 0);
    for (const bad of [
      { ...ids, 'x-b3-sampled': 'yes' },
      { 'x-b3-traceid': T32, 'x-b3-sampled': '1' },
      { ...ids, 'x-b3-parentspanid': 'nothex' },
      { 'x-b3-parentspanid': P },
      { ...ids, 'x-b3-traceid': 'abc' },
    ])
      assert.equal(extract(p, bad), null, JSON.stringify(bad));
  });

  it('keeps the debug mark of a context it could not read, as the Go context does', () => {
    assert.equal(marks(p, { b3: 'd' }), B3_DEBUG);
    assert.equal(marks(p, { 'x-b3-flags': '1' }), B3_DEBUG);
    assert.equal(marks(p, { 'x-b3-flags': '1', 'x-b3-traceid': 'zz' }), B3_DEBUG);
    assert.equal(marks(p, {}), 0, 'the deferred mark is cleared without a context');
  });

  it('injects the single header: sampled, not sampled, debug, deferred', () => {
    assert.deepEqual(inject(p, true), { b3: `${T32}-${S}-1` });
    assert.deepEqual(inject(p, false), { b3: `${T32}-${S}-0` });
    assert.deepEqual(inject(p, true, B3_DEBUG), { b3: `${T32}-${S}-d` });
    assert.deepEqual(inject(p, false, B3_DEFERRED), { b3: `${T32}-${S}` });
  });

  it('b3multi injects the multiple headers and leaves the others as they came', () => {
    const m = prop('b3multi');
    assert.deepEqual(inject(m, true, 0, { 'x-b3-parentspanid': P }), {
      'x-b3-parentspanid': P,
      'x-b3-traceid': T32,
      'x-b3-spanid': S,
      'x-b3-sampled': '1',
    });
    assert.deepEqual(inject(m, true, B3_DEBUG), { 'x-b3-traceid': T32, 'x-b3-spanid': S, 'x-b3-flags': '1' });
    assert.deepEqual(inject(m, false, B3_DEFERRED), { 'x-b3-traceid': T32, 'x-b3-spanid': S });
  });
});

describe('jaeger (go.opentelemetry.io/contrib/propagators/jaeger)', () => {
  const p = prop('jaeger');

  it('reads uber-trace-id: padded 64-bit ids, flags in hex, debug with sampled', () => {
    const c = extract(p, { 'uber-trace-id': `${T16}:${S}:0:1` });
    assert.equal(c?.traceId, `0000000000000000${T16}`);
    assert.equal(c?.parentId, S);
    assert.equal(c?.sampled, true);
    assert.equal(extract(p, { 'uber-trace-id': `${T32}:${S}:${P}:0` })?.sampled, false);
    assert.equal(extract(p, { 'uber-trace-id': `${T32}:${S}:0:` })?.sampled, false);
    assert.equal(extract(p, { 'uber-trace-id': `${T32}:${S}:0:3` })?.flags, JAEGER_DEBUG);
    assert.equal(extract(p, { 'uber-trace-id': `${T32}:${S}:0:2` })?.flags, 0, 'debug without sampled');
    assert.equal(extract(p, { 'uber-trace-id': `${T32}:${S}:0:0F` })?.flags, JAEGER_DEBUG);
    assert.equal(extract(p, { 'uber-trace-id': `${T32}:${S}:0:-1` })?.sampled, true, "ParseInt's sign");
    for (const bad of [
      `${T32}:${S}:0`,
      `${T32}:${S}:0:1:x`,
      `abc:${S}:0:1`,
      `${T32}:abc:0:1`,
      `${T32}:${S}:0:zz`,
      `${T32}:${S}:0:0x1`,
      `${T32}:${S}:0:10000000000000000`, // past int64
      `:${S}:0:1`,
    ])
      assert.equal(extract(p, { 'uber-trace-id': bad }), null, bad);
  });

  it('injects {trace}:{span}:0:{flags}', () => {
    assert.deepEqual(inject(p, true), { 'uber-trace-id': `${T32}:${S}:0:1` });
    assert.deepEqual(inject(p, false), { 'uber-trace-id': `${T32}:${S}:0:0` });
    assert.deepEqual(inject(p, true, JAEGER_DEBUG), { 'uber-trace-id': `${T32}:${S}:0:3` });
  });
});

describe('xray and ottrace', () => {
  it('xray reads and writes X-Amzn-Trace-Id', () => {
    const p = prop('xray');
    const root = `1-${T32.slice(0, 8)}-${T32.slice(8)}`;
    const c = extract(p, { 'x-amzn-trace-id': `Root=${root};Parent=${S};Sampled=1` });
    assert.equal(c?.traceId, T32);
    assert.equal(c?.parentId, S);
    assert.equal(c?.sampled, true);
    assert.equal(extract(p, { 'x-amzn-trace-id': `Root=${root};Parent=${S};Sampled=0` })?.sampled, false);
    assert.equal(extract(p, { 'x-amzn-trace-id': `Root=${root};Parent=${S}` })?.sampled, false);
    // Go's parseTraceFlag: one character other than 1 is not sampled, anything else is.
    assert.equal(extract(p, { 'x-amzn-trace-id': `Root=${root};Parent=${S};Sampled=?` })?.sampled, false);
    assert.equal(extract(p, { 'x-amzn-trace-id': `Root=${root};Parent=${S};Sampled=` })?.sampled, true);
    assert.equal(extract(p, { 'x-amzn-trace-id': `Root=${root};Parent=${S};Lineage=a:1` })?.traceId, T32);
    assert.equal(extract(p, { 'x-amzn-trace-id': `Root=${root}` }), null);
    assert.equal(extract(p, { 'x-amzn-trace-id': `Root=${root};Parent` }), null);
    assert.deepEqual(inject(p, true), { 'x-amzn-trace-id': `Root=${root};Parent=${S};Sampled=1` });
  });

  it('ottrace reads and writes ot-tracer-*, 64-bit trace ids', () => {
    const p = prop('ottrace');
    const c = extract(p, { 'ot-tracer-traceid': T16, 'ot-tracer-spanid': S, 'ot-tracer-sampled': 'true' });
    assert.equal(c?.traceId, `0000000000000000${T16}`);
    assert.equal(c?.sampled, true);
    assert.equal(extract(p, { 'ot-tracer-traceid': T16, 'ot-tracer-spanid': S })?.sampled, false);
    assert.equal(extract(p, { 'ot-tracer-traceid': T16, 'ot-tracer-sampled': '1' }), null);
    assert.deepEqual(inject(p, false), {
      'ot-tracer-traceid': T32.slice(16),
      'ot-tracer-spanid': S,
      'ot-tracer-sampled': 'false',
    });
  });
});

describe('a composite of several', () => {
  it('the last propagator with a valid context wins; a W3C tracestate goes with its own context only', () => {
    const tp = `00-${T32}-${S}-01`;
    const b3 = `${T16}-${P}-0`;
    const w3cLast = extract(prop('b3,tracecontext'), { traceparent: tp, tracestate: 'k=v', b3 });
    assert.equal(w3cLast?.traceId, T32);
    assert.equal(w3cLast?.tracestate, 'k=v');
    const b3Last = extract(prop('tracecontext,b3'), { traceparent: tp, tracestate: 'k=v', b3 });
    assert.equal(b3Last?.parentId, P);
    assert.equal(b3Last?.sampled, false);
    assert.equal(b3Last?.tracestate, undefined);
    assert.equal(extract(prop('tracecontext,b3'), { traceparent: tp, b3: 'bad' })?.parentId, S);
  });

  it('injects each format, and W3C tracestate only when there is one (the client field stays otherwise)', () => {
    const p = prop('tracecontext,b3,jaeger');
    assert.deepEqual(inject(p, true, 0, { tracestate: 'client=1' }), {
      tracestate: 'client=1',
      traceparent: `00-${T32}-${S}-01`,
      b3: `${T32}-${S}-1`,
      'uber-trace-id': `${T32}:${S}:0:1`,
    });
  });
});

describe('baggage beside other propagators (otel-go baggage, contrib ot)', () => {
  const ot = { 'ot-tracer-traceid': T16, 'ot-tracer-spanid': S, 'ot-tracer-sampled': 'true' };
  function carried(p: Propagation, fields: Record<string, string>): Record<string, string> {
    const out = emptyRemoteContext();
    p.extract(HeaderList.from(Object.entries(fields)), out);
    const h = new HeaderList();
    p.inject(h, `00-${T32}-${S}-01`, undefined, 0, out.baggage);
    const o: Record<string, string> = {};
    for (let i = 0; i < h.lnames.length; i++)
      if (h.lnames[i]!.includes('baggage')) o[h.lnames[i]!] = h.values[i]!;
    return o;
  }

  it('ottrace: ot-baggage-* read with a valid OT context, written again per member, decoded', () => {
    const p = prop('ottrace');
    assert.deepEqual(carried(p, { ...ot, 'OT-Baggage-Tenant': 't1', 'ot-baggage-note': 'a%20b' }), {
      'ot-baggage-tenant': 't1',
      'ot-baggage-note': 'a b',
    });
    // No valid OT context: no baggage.
    assert.deepEqual(carried(p, { 'ot-baggage-tenant': 't1' }), {});
    // One invalid member (a space is no baggage-octet, %zz no escape): none of them.
    assert.deepEqual(carried(p, { ...ot, 'ot-baggage-a': '1', 'ot-baggage-b': 'x y' }), {});
    assert.deepEqual(carried(p, { ...ot, 'ot-baggage-a': '1', 'ot-baggage-b': '%zz' }), {});
  });

  it('W3C baggage and ottrace carry each other: baggage= to ot-baggage-*, and back', () => {
    const both = prop('tracecontext,baggage,ottrace');
    const tp = `00-${T32}-${S}-01`;
    assert.deepEqual(carried(both, { traceparent: tp, baggage: ' user = alice ;p1;p2=v , n=x%2Cy' }), {
      baggage: 'user=alice;p1;p2=v,n=x%2Cy',
      'ot-baggage-user': 'alice',
      'ot-baggage-n': 'x,y',
    });
    // The OT context's baggage replaces the W3C one (ottrace extracts after baggage).
    assert.deepEqual(carried(both, { ...ot, baggage: 'user=alice', 'ot-baggage-tenant': 't1' }), {
      baggage: 'tenant=t1',
      'ot-baggage-tenant': 't1',
    });
    // An invalid baggage field is no baggage: nothing written.
    assert.deepEqual(carried(both, { traceparent: tp, baggage: 'user=alice,,x=1' }), {});
    // The last member of a key wins.
    assert.deepEqual(carried(prop('baggage,b3'), { baggage: 'k=1,k=2' }), { baggage: 'k=2' });
  });

  it('W3C trace context alone (the default) never reads or writes baggage', () => {
    assert.deepEqual(carried(DEFAULT_PROPAGATION, { baggage: 'user=alice' }), {});
  });
});
