import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pickerContract } from './balancer.contract.ts';
import { createPicker, STRATEGIES, type Strategy } from './index.ts';

const UNIFORM: ReadonlySet<Strategy> = new Set(['roundRobin']);

for (const strategy of STRATEGIES) {
  describe(`picker contract: ${strategy}`, () => {
    pickerContract({
      create: (servers, state, random) => createPicker(strategy, servers, state, random),
      distribution: UNIFORM.has(strategy) ? 'uniform' : 'weighted',
    });
  });
}

describe('createPicker', () => {
  it('lists every strategy exactly once', () => {
    assert.deepEqual([...STRATEGIES].sort(), [
      'leastConn',
      'leasttime',
      'p2c',
      'random',
      'roundRobin',
      'wrr',
    ]);
  });

  it('builds a working picker for every strategy with the default random source', () => {
    for (const strategy of STRATEGIES) {
      const picker = createPicker(strategy, [{ weight: 1 }, { weight: 2 }], { inFlight: [0, 0] });
      const seen = new Set<number>();
      for (let k = 0; k < 200; k++) seen.add(picker.pick());
      assert.deepEqual([...seen].sort(), [0, 1], strategy);
    }
  });

  it('copies weights at build time so later edits to the server list have no effect', () => {
    for (const strategy of STRATEGIES) {
      const servers = [{ weight: 1 }, { weight: 0 }];
      const picker = createPicker(strategy, servers, { inFlight: [0, 0] });
      servers[0] = { weight: 0 };
      servers[1] = { weight: 1 };
      for (let k = 0; k < 20; k++) assert.equal(picker.pick(), 0, strategy);
    }
  });

  it('rejects an unknown strategy name that slipped past validation', () => {
    assert.throws(() => createPicker('hrw' as Strategy, [], { inFlight: [] }), TypeError);
  });
});
