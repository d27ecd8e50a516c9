import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workerExecArgv } from './control-plane.ts';

describe('workerExecArgv', () => {
  it('gives a worker a young-generation floor, keeping the control plane’s own options', () => {
    assert.deepEqual(workerExecArgv(['--enable-source-maps'], ''), [
      '--enable-source-maps',
      '--min-semi-space-size=4',
    ]);
  });

  it('leaves the young generation alone when the operator sized it, by argument or NODE_OPTIONS', () => {
    assert.deepEqual(workerExecArgv(['--max-semi-space-size=8'], ''), ['--max-semi-space-size=8']);
    assert.deepEqual(workerExecArgv([], '--max-old-space-size=512 --max_semi_space_size=2'), []);
  });
});
