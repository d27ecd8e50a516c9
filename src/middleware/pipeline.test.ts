import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Middleware } from './middleware.ts';
import { runRequestPhase, runResponsePhase } from './pipeline.ts';
import { makeRequest, makeResponse } from './test-request.ts';

describe('phase runners', () => {
  it('skips middlewares without the phase', () => {
    const onlyResponse: Middleware = { onResponse: (_q, r) => r.headers.append('X-Seen', '1') };
    const onlyRequest: Middleware = { onRequest: (q) => void q.headers.append('X-Req', '1') };
    const chain = [onlyResponse, onlyRequest];
    const req = makeRequest('http://a.test/');
    const r = runRequestPhase(chain, req);
    assert.equal(r.ranUpTo, 2);
    assert.equal(req.headers.get('x-req'), '1');
    const res = makeResponse();
    runResponsePhase(chain, r.ranUpTo, req, res);
    assert.equal(res.headers.get('x-seen'), '1');
  });

  it('returns the same result object for every request that passes a chain of a given length', () => {
    const chain: Middleware[] = [{}, {}];
    const a = runRequestPhase(chain, makeRequest('http://a.test/'));
    const b = runRequestPhase(chain, makeRequest('http://a.test/'));
    assert.equal(a, b);
    assert.equal(a.ranUpTo, 2);
  });

  it('handles an empty chain and long chains', () => {
    assert.equal(runRequestPhase([], makeRequest('http://a.test/')).ranUpTo, 0);
    const long: Middleware[] = Array.from({ length: 40 }, () => ({}));
    assert.equal(runRequestPhase(long, makeRequest('http://a.test/')).ranUpTo, 40);
  });
});
