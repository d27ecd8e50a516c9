import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DirectResponse, RequestHead, ResponseHead } from '../core/request.ts';
import { ChainMiddleware, chainFactory, flattenMiddlewares } from './chain.ts';
import type { Middleware } from './middleware.ts';
import { runRequestPhase, runResponsePhase } from './pipeline.ts';
import { build, makeRequest, makeResponse, testContext } from './test-request.ts';

function recorder(name: string, log: string[], answer?: DirectResponse): Middleware {
  return {
    onRequest(_req: RequestHead) {
      log.push(`req:${name}`);
      return answer;
    },
    onResponse(_req: RequestHead, _res: ResponseHead) {
      log.push(`res:${name}`);
    },
  };
}

describe('chain', () => {
  it('chain runs in order and response phase in reverse', () => {
    const log: string[] = [];
    const ctx = testContext({ a: recorder('a', log), b: recorder('b', log), c: recorder('c', log) });
    const chain = flattenMiddlewares([build('chain', { middlewares: ['a', 'b', 'c'] }, ctx).inner]);
    const req = makeRequest('http://a.test/');
    const r = runRequestPhase(chain, req);
    assert.equal(r.response, undefined);
    runResponsePhase(chain, r.ranUpTo, req, makeResponse());
    assert.deepEqual(log, ['req:a', 'req:b', 'req:c', 'res:c', 'res:b', 'res:a']);
  });

  it('flattens nested chains at build time', () => {
    const log: string[] = [];
    const leaves = { a: recorder('a', log), b: recorder('b', log), c: recorder('c', log) };
    const inner = build('chain', { middlewares: ['b', 'c'] }, testContext(leaves)).inner;
    const outer = build('chain', { middlewares: ['a', 'inner'] }, testContext({ ...leaves, inner })).inner;
    assert.ok(outer instanceof ChainMiddleware);
    assert.deepEqual(outer.members, [leaves.a, leaves.b, leaves.c]);
    assert.equal(flattenMiddlewares([outer]).length, 3);
  });

  it('chain of an unknown name is an error', () => {
    const r = chainFactory.create({ middlewares: ['missing'] }, testContext());
    assert.ok('error' in r);
    assert.match(r.error, /missing/);
  });

  it('stops at a middleware that answers, and only those before it get the response phase', () => {
    const log: string[] = [];
    const answer: DirectResponse = { status: 403 };
    const ctx = testContext({ a: recorder('a', log), b: recorder('b', log, answer), c: recorder('c', log) });
    const chain = flattenMiddlewares([build('chain', { middlewares: ['a', 'b', 'c'] }, ctx).inner]);
    const req = makeRequest('http://a.test/');
    const r = runRequestPhase(chain, req);
    assert.equal(r.response, answer);
    assert.equal(r.ranUpTo, 1);
    runResponsePhase(chain, r.ranUpTo, req, makeResponse(403));
    assert.deepEqual(log, ['req:a', 'req:b', 'res:a']);
  });

  it('runs its members itself when used without flattening', () => {
    const log: string[] = [];
    const ctx = testContext({ a: recorder('a', log), b: recorder('b', log) });
    const chain = build('chain', { middlewares: ['a', 'b'] }, ctx);
    const req = makeRequest('http://a.test/');
    assert.equal(chain.onRequest!(req), undefined);
    chain.onResponse!(req, makeResponse());
    assert.deepEqual(log, ['req:a', 'req:b', 'res:b', 'res:a']);
  });
});
