import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatTraceparent,
  parseTraceparent,
  type TraceparentFields,
  validTracestate,
} from './trace-context.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

function parse(v: string | undefined): TraceparentFields | null {
  const out: TraceparentFields = { traceId: '', parentId: '', sampled: false };
  return parseTraceparent(v, out) ? out : null;
}

describe('parseTraceparent', () => {
  it('parses a version 00 header with the sampled flag', () => {
    assert.deepEqual(parse(`00-${TRACE}-${PARENT}-01`), { traceId: TRACE, parentId: PARENT, sampled: true });
  });

  it('reads only the sampled bit of the flags', () => {
    assert.equal(parse(`00-${TRACE}-${PARENT}-00`)?.sampled, false);
    assert.equal(parse(`00-${TRACE}-${PARENT}-02`)?.sampled, false);
    assert.equal(parse(`cc-${TRACE}-${PARENT}-ff`)?.sampled, true);
  });

  it("refuses version 00 with flags above 02, as Go's TraceContext.extract does", () => {
    assert.equal(parse(`00-${TRACE}-${PARENT}-03`), null);
    assert.equal(parse(`00-${TRACE}-${PARENT}-ff`), null);
    assert.equal(parse(`00-${TRACE}-${PARENT}-10`), null);
  });

  it('accepts the first four fields of a future version, with or without more fields', () => {
    assert.deepEqual(parse(`cc-${TRACE}-${PARENT}-01`), { traceId: TRACE, parentId: PARENT, sampled: true });
    assert.deepEqual(parse(`cc-${TRACE}-${PARENT}-01-what-the-future-will-be`), {
      traceId: TRACE,
      parentId: PARENT,
      sampled: true,
    });
  });

  it('rejects a future version whose fourth field runs on without a dash', () => {
    assert.equal(parse(`cc-${TRACE}-${PARENT}-01x`), null);
  });

  it('rejects version 00 with anything after the flags', () => {
    assert.equal(parse(`00-${TRACE}-${PARENT}-01-extra`), null);
    assert.equal(parse(`00-${TRACE}-${PARENT}-010`), null);
  });

  it('rejects version ff', () => {
    assert.equal(parse(`ff-${TRACE}-${PARENT}-01`), null);
  });

  it('rejects uppercase hex anywhere', () => {
    assert.equal(parse(`00-${TRACE.toUpperCase()}-${PARENT}-01`), null);
    assert.equal(parse(`00-${TRACE}-${PARENT.toUpperCase()}-01`), null);
    assert.equal(parse(`0A-${TRACE}-${PARENT}-01`), null);
    assert.equal(parse(`00-${TRACE}-${PARENT}-0A`), null);
  });

  it('rejects an all-zero trace id or parent id', () => {
    assert.equal(parse(`00-${'0'.repeat(32)}-${PARENT}-01`), null);
    assert.equal(parse(`00-${TRACE}-${'0'.repeat(16)}-01`), null);
  });

  it('rejects wrong lengths, separators and non-hex characters', () => {
    for (const bad of [
      '',
      'garbage',
      `00-${TRACE.slice(1)}-${PARENT}-01`,
      `00-${TRACE}0-${PARENT}-01`,
      `00-${TRACE}-${PARENT.slice(1)}-01`,
      `00_${TRACE}-${PARENT}-01`,
      `00-${TRACE}_${PARENT}-01`,
      `00-${TRACE}-${PARENT}_01`,
      `00-${TRACE.slice(0, 31)}g-${PARENT}-01`,
      `00-${TRACE}-${PARENT.slice(0, 15)}z-01`,
      `00-${TRACE}-${PARENT}-0g`,
      `0-${TRACE}-${PARENT}-01`,
      `00-${TRACE}-${PARENT}-01,00-${TRACE}-${PARENT}-01`,
    ]) {
      assert.equal(parse(bad), null, bad);
    }
  });

  it('treats undefined and non-strings as absent without throwing', () => {
    assert.equal(parse(undefined), null);
    assert.equal(parse(42 as unknown as string), null);
  });

  it('tolerates optional whitespace around the value', () => {
    assert.equal(parse(` \t00-${TRACE}-${PARENT}-01\t `)?.traceId, TRACE);
  });
});

describe('formatTraceparent', () => {
  it('writes version 00 with the sampled flag as 01 or 00', () => {
    assert.equal(formatTraceparent(TRACE, PARENT, true), `00-${TRACE}-${PARENT}-01`);
    assert.equal(formatTraceparent(TRACE, PARENT, false), `00-${TRACE}-${PARENT}-00`);
  });

  it('round-trips through parseTraceparent', () => {
    assert.deepEqual(parse(formatTraceparent(TRACE, PARENT, true)), {
      traceId: TRACE,
      parentId: PARENT,
      sampled: true,
    });
  });
});

describe('validTracestate', () => {
  it('passes a valid list through unchanged', () => {
    for (const ok of [
      'congo=t61rcWkgMzE',
      'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
      'rojo=00f067aa0ba902b7 , congo=t61rcWkgMzE',
      'tenant1@vendor=value',
      'a-b_c*d/e=x y',
      'foo=1,,bar=2',
    ]) {
      assert.equal(validTracestate(ok), ok, ok);
    }
  });

  it('drops the whole header when one member is invalid', () => {
    for (const bad of [
      'Congo=t61',
      'congo',
      'congo=',
      'congo=a,b',
      'congo=caf\u00e9',
      'congo=tab\there',
      'con go=x',
      '1abc=x',
      'tenant@Vendor=x',
      'tenant@vendor-too-long-here=x',
      'congo=a=b',
      `k=${'v'.repeat(257)}`,
    ]) {
      assert.equal(validTracestate(bad), undefined, bad);
    }
  });

  it('drops a list with a duplicate key', () => {
    assert.equal(validTracestate('a=1,b=2,a=3'), undefined);
  });

  it('accepts 32 members and drops 33', () => {
    const members = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`).join(',');
    assert.equal(validTracestate(members(32)), members(32));
    assert.equal(validTracestate(members(33)), undefined);
  });

  it('accepts 512 characters and drops 513', () => {
    const s = ['a', 'b'].map((k) => `${k}=${'v'.repeat(250)}`).join(',');
    assert.equal(`${s},cd=vvv`.length, 512);
    assert.equal(validTracestate(`${s},cd=vvv`), `${s},cd=vvv`);
    assert.equal(validTracestate(`${s},cd=vvvv`), undefined);
  });

  it('treats absent, empty and whitespace-only values as absent', () => {
    assert.equal(validTracestate(undefined), undefined);
    assert.equal(validTracestate(''), undefined);
    assert.equal(validTracestate(' , '), undefined);
  });
});
