import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeByRank, PrefixIndex } from './prefix-index.ts';

const r = (rank: number) => ({ rank });

describe('PrefixIndex', () => {
  const idx = PrefixIndex.build<{ rank: number }>([
    ['/', r(9)],
    ['/api', r(1)],
    ['/api/v2', r(0)],
    ['/apix', r(5)],
    ['/static/', r(3)],
    ['/api', r(7)],
  ]);
  const ranks = (path: string) => idx.lookup(path).map((x) => x.rank);

  it('returns every route whose prefix starts the path, in rank order', () => {
    assert.deepEqual(ranks('/api/v2/x'), [0, 1, 7, 9]);
    assert.deepEqual(ranks('/api/v1'), [1, 7, 9]);
    assert.deepEqual(ranks('/apix'), [1, 5, 7, 9]);
    assert.deepEqual(ranks('/ap'), [9]);
    assert.deepEqual(ranks('/static'), [9]);
    assert.deepEqual(ranks('/static/app.js'), [3, 9]);
  });

  it('returns nothing when no prefix starts the path', () => {
    assert.deepEqual(ranks('*'), []);
    assert.deepEqual(ranks(''), []);
  });

  it('lists a route once even if it has nested prefixes', () => {
    const same = r(4);
    const i2 = PrefixIndex.build([
      ['/a', same],
      ['/ab', same],
    ]);
    assert.deepEqual(
      i2.lookup('/abc').map((x) => x.rank),
      [4],
    );
  });

  it('is empty when built from nothing', () => {
    const e = PrefixIndex.build<{ rank: number }>([]);
    assert.ok(e.empty);
    assert.deepEqual(e.lookup('/x'), []);
    assert.ok(!idx.empty);
  });
});

describe('mergeByRank', () => {
  it('merges two sorted lists without duplicates', () => {
    const a = [r(1), r(4), r(6)];
    const shared = r(5);
    assert.deepEqual(
      mergeByRank(
        [...a, shared].sort((x, y) => x.rank - y.rank),
        [r(2), shared, r(9)],
      ).map((x) => x.rank),
      [1, 2, 4, 5, 6, 9],
    );
  });
});
