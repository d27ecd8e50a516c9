import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pinTree } from './environment.ts';
import { sampleTree } from './proc-tree.ts';

const allowed = (pid: number) =>
  /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

describe('pinTree', () => {
  it('moves a running process and its children to other CPUs', {
    skip: availableParallelism() < 2,
  }, async () => {
    // A shell pinned to CPU 1 with a child of its own, as the backend nginx (master + worker).
    const child = spawn('taskset', ['-c', '1', 'sh', '-c', 'sleep 30 & wait'], {
      stdio: 'ignore',
      detached: true,
    });
    try {
      let pids: readonly number[] = [];
      for (let i = 0; i < 100 && pids.length < 2; i++) {
        await sleep(20);
        pids = sampleTree(child.pid!).pids;
      }
      assert.equal(pids.length, 2, 'the shell and its sleep');
      for (const pid of pids) assert.equal(allowed(pid), '1');
      assert.deepEqual(pinTree(child.pid!, '0-1'), []);
      for (const pid of pids) assert.equal(allowed(pid), '0-1');
    } finally {
      process.kill(-child.pid!, 'SIGKILL');
    }
  });

  it('names the processes it could not move', () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      assert.deepEqual(pinTree(child.pid!, '99999'), [child.pid]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
