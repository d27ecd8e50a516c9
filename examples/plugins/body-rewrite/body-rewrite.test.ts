import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BodyOutput, Middleware, PluginContext } from 'traffic-management/plugin';
import { makeRequest, makeResponse } from '../../../src/middleware/test-request.ts';
import { validateOptions } from '../../../src/plugins/options.ts';
import { type BodyRewriteOptions, plugin } from './index.ts';

function make(options: Record<string, unknown>): Middleware {
  const r = validateOptions(plugin.schema, options);
  assert.ok('value' in r, JSON.stringify(r));
  const m = plugin.create(r.value as BodyRewriteOptions, {} as PluginContext);
  assert.ok(!('error' in m));
  return m;
}

/** Streams `chunks` through the filter the middleware makes for a response with `headers`. */
function rewrite(
  m: Middleware,
  chunks: (string | Buffer)[],
  headers: [string, string][] = [['Content-Type', 'text/html']],
) {
  const res = makeResponse(200, headers);
  const f = m.onResponseBody!(makeRequest('http://app.test/'), res);
  if (f === null) return { body: null, res };
  const parts: Buffer[] = [];
  let ended = false;
  const out: BodyOutput = {
    push: (c) => {
      parts.push(Buffer.from(c));
      return true;
    },
    length: () => assert.fail('no length: the output is streamed'),
    end: () => {
      ended = true;
    },
    fail: (r) => assert.fail(r),
    drained: () => {},
  };
  f.start(out);
  for (const c of chunks) assert.equal(f.write(Buffer.from(c)), true);
  f.end();
  assert.ok(ended);
  return { body: Buffer.concat(parts).toString(), res };
}

describe('body-rewrite plugin', () => {
  const rules = [
    { from: 'http://internal.example', to: 'https://www.example.com' },
    { from: 'Internal', to: 'Public' },
  ];
  const page = '<a href="http://internal.example/a">Internal</a> and http://internal.example/b — Internal';
  const expected = '<a href="https://www.example.com/a">Public</a> and https://www.example.com/b — Public';

  it('replaces every match, whatever the chunk boundaries', () => {
    const m = make({ rules });
    assert.equal(rewrite(m, [page]).body, expected);
    // Every split point (bytes, through the UTF-8 of the dash too), and one byte at a time.
    const bytes = Buffer.from(page);
    for (let i = 1; i < bytes.length; i++) {
      assert.equal(rewrite(m, [bytes.subarray(0, i), bytes.subarray(i)]).body, expected, `split at ${i}`);
    }
    const single = [...bytes].map((b) => Buffer.from([b]));
    assert.equal(rewrite(m, single).body, expected);
  });

  it('passes backpressure through: a full next stage stops its input until resume', () => {
    const m = make({ rules });
    const f = m.onResponseBody!(
      makeRequest('http://app.test/'),
      makeResponse(200, [['Content-Type', 'text/plain']]),
    )!;
    const events: string[] = [];
    let room = false;
    f.start({
      push: (c) => {
        events.push(`push ${c.toString()}`);
        return room;
      },
      length: () => {},
      end: () => events.push('end'),
      fail: (r) => events.push(`fail ${r}`),
      drained: () => events.push('drained'),
    });
    assert.equal(f.write(Buffer.from('0123456789012345678901234567890')), false);
    room = true;
    f.resume!();
    assert.equal(f.write(Buffer.from('abc')), true);
    f.end();
    // The longest `from` is 23 bytes: the last 22 are held until more comes (or the end).
    assert.deepEqual(events, ['push 012345678', 'drained', 'push 901', 'push 2345678901234567890abc', 'end']);
  });

  it('can delete, and lets the earliest match win', () => {
    const m = make({
      rules: [
        { from: 'abc', to: '' },
        { from: 'b', to: 'B' },
      ],
    });
    assert.equal(rewrite(m, ['xabcx', 'b', 'ab', 'c']).body, 'xxBabc'.replace('abc', ''));
  });

  it('leaves other media types, encoded bodies and partial responses alone', () => {
    const m = make({ rules });
    assert.equal(rewrite(m, [page], [['Content-Type', 'image/png']]).body, null);
    assert.equal(
      rewrite(
        m,
        [page],
        [
          ['Content-Type', 'text/html'],
          ['Content-Encoding', 'gzip'],
        ],
      ).body,
      null,
    );
    const partial = makeResponse(206, [['Content-Type', 'text/html']]);
    assert.equal(m.onResponseBody!(makeRequest('http://app.test/'), partial), null);
  });

  it('weakens the ETag and drops Accept-Ranges of a rewritten response', () => {
    const { res } = rewrite(
      make({ rules }),
      [page],
      [
        ['Content-Type', 'text/html; charset=utf-8'],
        ['ETag', '"v1"'],
        ['Accept-Ranges', 'bytes'],
      ],
    );
    assert.equal(res.headers.get('etag'), 'W/"v1"');
    assert.equal(res.headers.has('accept-ranges'), false);
  });

  it('needs at least one rule with a non-empty `from`', () => {
    const r = validateOptions(plugin.schema, { rules: [{ from: '', to: 'x' }] });
    assert.ok('issues' in r);
    assert.deepEqual(r.issues[0]!.path, ['rules', 0, 'from']);
    assert.ok('issues' in validateOptions(plugin.schema, { rules: [] }));
  });
});
