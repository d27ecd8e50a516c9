import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PARENT_POLL_MS, type ParentWatchHost, parentWatchMode, watchParent } from './parent-watch.ts';

/** A process whose parent id the test sets, with timers the test fires. */
class FakeHost implements ParentWatchHost {
  env: NodeJS.ProcessEnv;
  parent: number;
  channel: { unref(): void; unrefs: number } | undefined;
  disconnect: (() => void) | undefined;
  readonly timers = new Map<number, { fn: () => void; ms: number; unref: boolean }>();
  #next = 1;

  readonly initialPpid: number;

  constructor(env: NodeJS.ProcessEnv, parent: number, ipc = false) {
    this.env = env;
    this.parent = parent;
    this.initialPpid = parent;
    this.channel = ipc
      ? {
          unrefs: 0,
          unref() {
            this.unrefs++;
          },
        }
      : undefined;
  }
  ppid(): number {
    return this.parent;
  }
  onDisconnect(fn: () => void): void {
    this.disconnect = fn;
  }
  setInterval(fn: () => void, ms: number): { unref(): void } {
    const id = this.#next++;
    const t = { fn, ms, unref: false };
    this.timers.set(id, t);
    return Object.assign(Object.create(null) as object, {
      id,
      unref: () => {
        t.unref = true;
      },
    });
  }
  clearInterval(h: { unref(): void }): void {
    this.timers.delete((h as unknown as { id: number }).id);
  }
  tick(): void {
    for (const t of [...this.timers.values()]) t.fn();
  }
}

describe('watchParent', () => {
  it('is on for npm (npm_command), an IPC parent, or TRAFFIC_EXIT_WITH_PARENT=1; off otherwise or with =0', () => {
    assert.equal(parentWatchMode({}, false), 'off');
    assert.equal(parentWatchMode({ npm_command: 'exec' }, false), 'ppid');
    assert.equal(parentWatchMode({ npm_command: 'run-script' }, true), 'ipc');
    assert.equal(parentWatchMode({ TRAFFIC_EXIT_WITH_PARENT: '1' }, false), 'ppid');
    assert.equal(parentWatchMode({ TRAFFIC_EXIT_WITH_PARENT: '0', npm_command: 'exec' }, true), 'off');
  });

  it('reports once when the parent id changes (re-parented after the parent died), then stops polling', () => {
    const host = new FakeHost({ npm_command: 'exec' }, 4242);
    const gone: string[] = [];
    watchParent(host, (why) => gone.push(why));
    const [timer] = [...host.timers.values()];
    assert.equal(timer?.ms, PARENT_POLL_MS);
    assert.equal(timer?.unref, true, 'the poll never keeps the process alive');
    host.tick();
    assert.deepEqual(gone, []);
    host.parent = 1;
    host.tick();
    host.tick();
    assert.deepEqual(gone, ['parent process 4242 exited (now 1)']);
    assert.equal(host.timers.size, 0);
  });

  it('reports on the next tick, never from within the call, when the parent died while the proxy was starting', async () => {
    const host = new FakeHost({ npm_command: 'exec' }, 4242);
    host.parent = 1;
    const gone: string[] = [];
    // The callback uses what watchParent returns, as main's shutdown does (it once crashed there).
    const stop = watchParent(host, (why) => {
      stop();
      gone.push(why);
    });
    assert.deepEqual(gone, [], 'not from within the call');
    await Promise.resolve();
    assert.deepEqual(gone, ['parent process 4242 exited (now 1)']);
    assert.equal(host.timers.size, 0);
  });

  it('watches nothing when the process was started by init, or when off', () => {
    const orphan = new FakeHost({ npm_command: 'exec' }, 1);
    watchParent(orphan, () => assert.fail('no parent to outlive'));
    assert.equal(orphan.timers.size, 0);
    const plain = new FakeHost({}, 4242);
    watchParent(plain, () => assert.fail('off'));
    assert.equal(plain.timers.size, 0);
  });

  it('reports when the IPC channel closes, and unrefs the channel', () => {
    const host = new FakeHost({}, 4242, true);
    const gone: string[] = [];
    watchParent(host, (why) => gone.push(why));
    assert.equal(host.channel?.unrefs, 1);
    assert.equal(host.timers.size, 0);
    host.disconnect?.();
    assert.deepEqual(gone, ['parent process exited (IPC channel closed)']);
  });

  it('stops watching when told to', () => {
    const host = new FakeHost({ TRAFFIC_EXIT_WITH_PARENT: 'true' }, 4242);
    const stop = watchParent(host, () => assert.fail('stopped'));
    stop();
    host.parent = 1;
    host.tick();
    assert.equal(host.timers.size, 0);
  });
});
