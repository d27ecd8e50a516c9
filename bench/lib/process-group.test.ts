import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProcessSupervisor } from './process-group.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ProcessSupervisor', () => {
  it('captures a child’s output and exit code', async () => {
    const supervisor = new ProcessSupervisor();
    const p = supervisor.spawn('echo', 'sh', ['-c', 'echo out; echo err >&2; exit 3'], {
      output: { kind: 'capture' },
    });
    assert.deepEqual(await p.exited, { code: 3, signal: null });
    assert.equal(p.stdout, 'out\n');
    assert.equal(p.stderr, 'err\n');
  });

  it('stops the grandchildren too, not only the process it started', async () => {
    const supervisor = new ProcessSupervisor();
    // The shell forks a sleeper and prints its pid; a kill of the shell alone would orphan it.
    const p = supervisor.spawn('tree', 'sh', ['-c', 'sleep 60 & echo $!; wait'], {
      output: { kind: 'capture' },
    });
    while (!p.stdout.includes('\n')) await new Promise((r) => setImmediate(r));
    const grandchild = Number(p.stdout.trim());
    assert.ok(alive(grandchild));
    await supervisor.stop(p, 2000);
    assert.equal(p.groupAlive(), false);
    assert.equal(alive(grandchild), false);
  });

  it('escalates to SIGKILL when a child ignores SIGTERM', async () => {
    const supervisor = new ProcessSupervisor();
    const p = supervisor.spawn(
      'stubborn',
      'sh',
      ['-c', "trap '' TERM; echo ready; while :; do sleep 1; done"],
      {
        output: { kind: 'capture' },
      },
    );
    while (!p.stdout.includes('ready')) await new Promise((r) => setImmediate(r));
    await supervisor.stop(p, 100);
    assert.equal(p.groupAlive(), false);
    assert.equal(p.exitInfo?.signal, 'SIGKILL');
  });

  it('kills every live group synchronously, as an exit handler needs', async () => {
    const supervisor = new ProcessSupervisor();
    const a = supervisor.spawn('a', 'sleep', ['60'], { output: { kind: 'capture' } });
    const b = supervisor.spawn('b', 'sleep', ['60'], { output: { kind: 'capture' } });
    supervisor.killAllSync();
    assert.equal((await a.exited).signal, 'SIGKILL');
    assert.equal((await b.exited).signal, 'SIGKILL');
  });
});
