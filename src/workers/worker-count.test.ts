import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workerCount } from './worker-count.ts';

describe('workerCount', () => {
  it('is 0 (one process, no workers) without the key', () => assert.equal(workerCount(undefined, 8), 0));
  it('is the number given', () => assert.equal(workerCount(3, 8), 3));
  it('is one per core for auto, at least one', () => {
    assert.equal(workerCount('auto', 8), 8);
    assert.equal(workerCount('auto', 0), 1);
  });
});
