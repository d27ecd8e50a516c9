import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BodyFilter } from '../middleware.ts';
import { build, makeRequest, makeResponse } from '../test-request.ts';

function drive(filter: BodyFilter, chunks: Buffer[]): { out: Buffer[]; ended: boolean; length: number } {
  const r = { out: [] as Buffer[], ended: false, length: -1 };
  filter.start({
    push: (c) => r.out.push(c) > 0,
    length: (n) => (r.length = n),
    end: () => (r.ended = true),
    fail() {},
    drained() {},
  });
  for (const c of chunks) filter.write(c);
  filter.end();
  return r;
}

describe('contentType', () => {
  it('names the type of a response without one from its first bytes, before any byte goes out', () => {
    const m = build('contentType', {});
    const res = makeResponse(200);
    const f = m.inner.onResponseBody?.(makeRequest('http://a.test/'), res);
    assert.ok(f);
    const pushed: Buffer[] = [];
    let full = false;
    let drained = 0;
    f.start({
      push: (c) => pushed.push(c) > 0 && !full,
      length() {},
      end() {},
      fail() {},
      drained: () => drained++,
    });
    f.write(Buffer.from('<html>'));
    assert.equal(pushed.length, 0, 'held until 512 bytes or the end');
    f.write(Buffer.alloc(600, 0x20));
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(Buffer.concat(pushed).length, 606);
    assert.equal(f.write(Buffer.from('tail')), true);
    assert.equal(pushed.at(-1)?.toString(), 'tail');
    // Backpressure goes through: a full next stage stops the writer until it drains.
    full = true;
    assert.equal(f.write(Buffer.from('more')), false);
    full = false;
    f.resume?.();
    assert.equal(drained, 1);
  });

  it('sniffs a short body at its end, and names no type for an empty one (Go sniffs len(p) > 0)', () => {
    const m = build('contentType', {});
    const png = makeResponse(200);
    const r = drive(m.inner.onResponseBody!(makeRequest('http://a.test/'), png)!, [
      Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    ]);
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.equal(Buffer.concat(r.out).length, 8);
    assert.equal(r.length, 8, 'a short body keeps a Content-Length');
    assert.ok(r.ended);
    const empty = makeResponse(200);
    const e = drive(m.inner.onResponseBody!(makeRequest('http://a.test/'), empty)!, []);
    assert.equal(empty.headers.get('content-type'), undefined);
    assert.equal(e.length, 0);
    assert.ok(e.ended);
  });

  it('leaves alone responses with a Content-Type, without a body, to HEAD, and with autoDetect: false', () => {
    const m = build('contentType', {});
    const req = makeRequest('http://a.test/');
    assert.equal(m.inner.onResponseBody!(req, makeResponse(200, [['Content-Type', 'x/y']])), null);
    assert.equal(m.inner.onResponseBody!(req, makeResponse(204)), null);
    assert.equal(m.inner.onResponseBody!(req, makeResponse(304)), null);
    assert.equal(
      m.inner.onResponseBody!(makeRequest('http://a.test/', { method: 'HEAD' }), makeResponse(200)),
      null,
    );
    assert.equal(m.inner.onResponseBody!(req, makeResponse(200, [['Content-Encoding', 'gzip']])), null);
    assert.equal(build('contentType', { autoDetect: false }).inner.onResponseBody, undefined);
  });
});
