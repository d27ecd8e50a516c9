import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Middleware, PluginContext } from 'traffic-management/plugin';
import { makeRequest, makeResponse } from '../../../src/middleware/test-request.ts';
import { validateOptions } from '../../../src/plugins/options.ts';
import { plugin, type RequestIdOptions } from './index.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ctx = {} as PluginContext;
const ctl = { onEnd: () => {} };

function make(options: Record<string, unknown> = {}): Middleware {
  const r = validateOptions(plugin.schema, options);
  assert.ok('value' in r, JSON.stringify(r));
  const m = plugin.create(r.value as RequestIdOptions, ctx);
  assert.ok(!('error' in m));
  return m;
}

/** Runs both phases on one request; returns the id the backend saw and the one the client got. */
function roundTrip(m: Middleware, headers: [string, string][] = []) {
  const req = makeRequest('http://app.test/', { headers });
  assert.equal(m.onRequest?.(req, ctl), undefined);
  const res = makeResponse(200);
  m.onResponse?.(req, res);
  return { upstream: req.headers.getAll('x-request-id'), client: res.headers.get('x-request-id') };
}

describe('request-id plugin', () => {
  it('gives a request without an id a new one, seen by the backend and echoed to the client', () => {
    const a = roundTrip(make());
    assert.equal(a.upstream.length, 1);
    assert.match(a.upstream[0]!, UUID);
    assert.equal(a.client, a.upstream[0]);
    assert.notEqual(roundTrip(make()).client, a.client);
  });

  it('keeps one well-formed incoming id, replaces a malformed or repeated one', () => {
    assert.deepEqual(roundTrip(make(), [['X-Request-Id', 'abc-123']]), {
      upstream: ['abc-123'],
      client: 'abc-123',
    });
    for (const headers of [
      [['X-Request-Id', 'has space']],
      [['X-Request-Id', 'x'.repeat(129)]],
      [
        ['X-Request-Id', 'a'],
        ['X-Request-Id', 'b'],
      ],
    ] as [string, string][][]) {
      const r = roundTrip(make(), headers);
      assert.equal(r.upstream.length, 1);
      assert.match(r.upstream[0]!, UUID);
    }
  });

  it('replaces every incoming id when trustIncoming is false, and prefixes its own', () => {
    const r = roundTrip(make({ trustIncoming: false, prefix: 'edge-1-' }), [['X-Request-Id', 'abc']]);
    assert.match(r.upstream[0]!, /^edge-1-[0-9a-f-]{36}$/);
  });

  it('uses another header when told, and echoes nothing with echo: false', () => {
    const m = make({ headerName: 'Trace-Id', echo: false });
    assert.equal(m.onResponse, undefined);
    const req = makeRequest('http://app.test/');
    assert.equal(m.onRequest?.(req, ctl), undefined);
    assert.match(req.headers.get('trace-id')!, UUID);
  });

  it('refuses options it does not know or cannot use', () => {
    const r = validateOptions(plugin.schema, { headerName: 'Bad Name', prefix: 'a b', tracing: true });
    assert.ok('issues' in r);
    assert.deepEqual(
      r.issues.map((i) => [i.path.join('.'), i.message]),
      [
        ['headerName', 'must be a header name'],
        ['prefix', 'letters, digits, `.`, `_`, `:` and `-` only (at most 64)'],
        ['tracing', 'unknown key `tracing`'],
      ],
    );
  });
});
