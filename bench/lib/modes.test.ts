import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cpuLayout, MODES, PINNED } from './modes.ts';

describe('cpuLayout', () => {
  it('pins every mode but workers: the client on CPU 0, the proxy and backend on CPU 1', () => {
    for (const mode of MODES.filter((m) => m !== 'workers')) {
      assert.deepEqual(cpuLayout(mode, false, 2), { proxy: '1', client: '0' }, mode);
    }
    assert.deepEqual(PINNED, { proxy: '1', client: '0' });
  });

  it('pins nothing in --mode workers, with or without --spread', () => {
    assert.deepEqual(cpuLayout('workers', false, 2), { proxy: '0-1', client: '0-1' });
    assert.deepEqual(cpuLayout('workers', true, 4), { proxy: '0-3', client: '0-3' });
  });

  it('pins nothing in any mode with --spread', () => {
    assert.deepEqual(cpuLayout('http', true, 2), { proxy: '0-1', client: '0-1' });
    assert.deepEqual(cpuLayout('latency', true, 8), { proxy: '0-7', client: '0-7' });
  });
});
