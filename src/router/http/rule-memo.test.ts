import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from '../request-fixture.ts';
import { createCompileContext } from '../rule/compile.ts';
import { HttpRouter } from './http-router.ts';
import { RuleMemo } from './rule-memo.ts';

describe('RuleMemo', () => {
  it('gives the next build the rules compiled by the last one, and forgets those no build used since', () => {
    const memo = new RuleMemo();
    const ctx = createCompileContext();
    const a = memo.compile('Path(`/a`)', ctx);
    memo.nextGeneration();
    assert.equal(memo.compile('Path(`/a`)', ctx), a, 'kept for the next build');
    memo.nextGeneration();
    memo.nextGeneration();
    assert.notEqual(memo.compile('Path(`/a`)', ctx), a, 'compiled again after two builds without it');
  });

  it('builds routers that match as routers built without it, rule errors included', () => {
    const memo = new RuleMemo();
    const routes = (extra: string) => [
      { name: 'a', rule: 'Path(`/a`)', entryPoints: [], value: 'a' },
      { name: 'b', rule: extra, entryPoints: [], value: 'b' },
      { name: 'bad', rule: 'Path(', entryPoints: [], value: 'bad' },
    ];
    const head = (path: string) => request({ path });
    const first = HttpRouter.build(routes('PathPrefix(`/b`)'), memo);
    memo.nextGeneration();
    const second = HttpRouter.build(routes('PathPrefix(`/c`)'), memo);
    assert.deepEqual(
      second.errors.map((e) => e.name),
      ['bad'],
    );
    assert.deepEqual(
      first.errors.map((e) => e.name),
      ['bad'],
    );
    assert.equal(second.router.match('web', head('/a')), 'a');
    assert.equal(second.router.match('web', head('/c/1')), 'b');
    assert.equal(second.router.match('web', head('/b/1')), undefined);
    assert.equal(first.router.match('web', head('/b/1')), 'b');
  });
});
