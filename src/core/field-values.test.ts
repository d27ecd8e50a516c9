import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { H1_RESPONSE, H2_RESPONSE, invalidRequestField, REQUEST, settleFields } from './field-values.ts';
import { HeaderList } from './headers.ts';

describe('HeaderList.unsettled', () => {
  it('is set by append and set of a field that needs settling, never by a clean one, a parser or appendLowered; clone keeps it', () => {
    const h = new HeaderList(['A'], ['a'], ['a\r\nb']);
    assert.equal(h.unsettled, false, 'a parser filling the arrays vouches for them');
    h.appendLowered('X-Forwarded-Proto', 'x-forwarded-proto', 'http');
    h.append('B', 'clean value, caf\u00e9');
    h.set('C', '3');
    assert.equal(h.unsettled, false);
    for (const [n, v] of [
      ['D', 'a\u010ab'],
      ['D', 'a\nb'],
      ['D', 'a\0'],
      ['D', ' padded'],
      ['D', 'padded\t'],
      ['D E', 'v'],
      ['', 'v'],
    ] as const) {
      const g = new HeaderList();
      g.append(n, v);
      assert.equal(g.unsettled, true, JSON.stringify([n, v]));
      const k = new HeaderList();
      k.set(n, v);
      assert.equal(k.unsettled, true, JSON.stringify([n, v]));
      assert.equal(k.clone().unsettled, true);
    }
  });
});

describe('settleFields', () => {
  it('writes a value past U+00FF as its UTF-8 bytes, trims SP/HTAB, and marks the list checked', () => {
    const h = HeaderList.from([
      ['X-A', 'a\u010d\u010ab'],
      ['X-B', ' \tcafé\t '],
      ['X-C', 'plain'],
    ]);
    assert.equal(settleFields(h, REQUEST), null);
    assert.deepEqual(h.values, ['a\xc4\x8d\xc4\x8ab', 'café', 'plain']);
    assert.equal(h.unsettled, false);
  });

  it('refuses NUL, CR, LF or a bad name in a request, naming the field; the list stays unsettled', () => {
    for (const [n, v] of [
      ['X-A', 'a\r\nX-B: 1'],
      ['X-A', 'a\0'],
      ['X A', 'v'],
      ['', 'v'],
      ['X-\u00e9', 'v'],
    ] as const) {
      const h = HeaderList.from([
        ['Ok', 'v'],
        [n, v],
      ]);
      assert.equal(settleFields(h, REQUEST), n, JSON.stringify([n, v]));
      assert.equal(h.unsettled, true);
    }
  });

  it('turns CR, LF and NUL into SP in an HTTP/1.1 response, and drops a field with a bad name', () => {
    const h = HeaderList.from([
      ['X-A', 'a\r\nX-B: 1\u010a'],
      ['Bad Name', 'v'],
      ['X-C', 'c\0'],
    ]);
    assert.equal(settleFields(h, H1_RESPONSE), null);
    assert.deepEqual(h.names, ['X-A', 'X-C']);
    assert.deepEqual(h.lnames, ['x-a', 'x-c']);
    assert.deepEqual(h.values, ['a  X-B: 1\xc4\x8a', 'c']);
  });

  it('drops a field with NUL, CR, LF or a bad name from an HTTP/2 response', () => {
    const h = HeaderList.from([
      ['X-A', 'a\r\nb'],
      ['X-B', 'b\u00e9\u0101'],
      ['Bad Name', 'v'],
      ['X-C', 'c\0'],
    ]);
    assert.equal(settleFields(h, H2_RESPONSE), null);
    assert.deepEqual(h.names, ['X-B']);
    assert.deepEqual(h.values, [Buffer.from('b\u00e9\u0101').toString('latin1')]);
  });

  it('names the field in the 500, never its value', () => {
    const e = invalidRequestField('X-Secret');
    assert.equal(e.status, 500);
    assert.match(e.message, /X-Secret/);
    assert.match(invalidRequestField('a\r\nb').message, /"a\\r\\nb"/);
  });
});
