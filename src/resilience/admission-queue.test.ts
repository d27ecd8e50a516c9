import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdmissionQueue, IDLE_KEYS_KEPT, type QueueWaiter } from './admission-queue.ts';

class Waiter implements QueueWaiter {
  readonly name: string;
  readonly log: string[];
  queueDeadline = -1;
  onAdmittedHook: (() => void) | undefined;
  constructor(name: string, log: string[]) {
    this.name = name;
    this.log = log;
  }
  onAdmitted(): void {
    this.log.push(`admit ${this.name}`);
    this.onAdmittedHook?.();
  }
  onQueueTimeout(): void {
    this.log.push(`timeout ${this.name}`);
  }
}

function setup(opts: { limit: number; queueSize: number; queueTimeoutMs: number; maxKeys?: number }) {
  const log: string[] = [];
  const queue = new AdmissionQueue(opts);
  const waiter = (name: string) => new Waiter(name, log);
  return { log, queue, waiter };
}

describe('admission queue', () => {
  it('admits up to the limit per key and rejects at once when the queue size is 0', () => {
    const { queue, waiter } = setup({ limit: 2, queueSize: 0, queueTimeoutMs: 1000 });
    assert.equal(queue.enter('a', waiter('1'), 0), 'admitted');
    assert.equal(queue.enter('a', waiter('2'), 0), 'admitted');
    assert.equal(queue.enter('a', waiter('3'), 0), 'rejected');
    assert.equal(queue.enter('b', waiter('4'), 0), 'admitted', 'another key has its own limit');
    assert.equal(queue.inFlight('a'), 2);
  });

  it('queues up to queueSize waiters per key and rejects the next', () => {
    const { queue, waiter } = setup({ limit: 1, queueSize: 2, queueTimeoutMs: 1000 });
    queue.enter('a', waiter('1'), 0);
    assert.equal(queue.enter('a', waiter('2'), 0), 'queued');
    assert.equal(queue.enter('a', waiter('3'), 0), 'queued');
    assert.equal(queue.enter('a', waiter('4'), 0), 'rejected');
    assert.equal(queue.queued('a'), 2);
  });

  it('hands a finished request slot to the oldest waiter of that key, in FIFO order', () => {
    const { log, queue, waiter } = setup({ limit: 1, queueSize: 3, queueTimeoutMs: 1000 });
    queue.enter('a', waiter('1'), 0);
    for (const name of ['2', '3', '4']) queue.enter('a', waiter(name), 0);
    queue.enter('b', waiter('b1'), 0);
    queue.leave('a');
    assert.deepEqual(log, ['admit 2']);
    queue.leave('a');
    queue.leave('a');
    assert.deepEqual(log, ['admit 2', 'admit 3', 'admit 4']);
    assert.equal(queue.inFlight('a'), 1);
    assert.equal(queue.queued('a'), 0);
  });

  it('does not let a newcomer overtake waiters when a slot frees', () => {
    const { log, queue, waiter } = setup({ limit: 1, queueSize: 2, queueTimeoutMs: 1000 });
    queue.enter('a', waiter('1'), 0);
    queue.enter('a', waiter('2'), 0);
    queue.leave('a');
    assert.equal(queue.enter('a', waiter('late'), 1), 'queued');
    assert.deepEqual(log, ['admit 2']);
  });

  it('never exceeds the limit in flight over a long mixed sequence', () => {
    const { queue, waiter } = setup({ limit: 3, queueSize: 4, queueTimeoutMs: 50 });
    let state = 12345;
    const next = () => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state / 2147483648;
    };
    let admitted = 0;
    const active: Waiter[] = [];
    for (let t = 0; t < 5000; t++) {
      const r = next();
      if (r < 0.45) {
        const w = waiter(String(t));
        w.onAdmittedHook = () => admitted++;
        const result = queue.enter('k', w, t);
        if (result === 'admitted') admitted++;
        if (result === 'queued') active.push(w);
      } else if (r < 0.85) {
        if (admitted > 0) {
          admitted--;
          queue.leave('k');
        }
      } else if (r < 0.95) {
        const w = active.shift();
        if (w !== undefined) queue.cancel('k', w);
      } else {
        queue.expire(t);
      }
      assert.equal(queue.inFlight('k'), admitted, `step ${t}`);
      assert.ok(admitted <= 3, `step ${t}: ${admitted} in flight`);
      assert.ok(queue.queued('k') <= 4);
    }
  });

  it('times out waiters whose deadline passed, oldest first, across keys', () => {
    const { log, queue, waiter } = setup({ limit: 1, queueSize: 5, queueTimeoutMs: 100 });
    queue.enter('a', waiter('a0'), 0);
    queue.enter('b', waiter('b0'), 0);
    queue.enter('a', waiter('a1'), 10);
    queue.enter('b', waiter('b1'), 20);
    queue.enter('a', waiter('a2'), 30);
    assert.equal(queue.nextDeadline(), 110);
    queue.expire(109);
    assert.deepEqual(log, []);
    queue.expire(120);
    assert.deepEqual(log, ['timeout a1', 'timeout b1']);
    assert.equal(queue.nextDeadline(), 130);
    assert.equal(queue.queued('a'), 1);
    assert.equal(queue.queued('b'), 0);
  });

  it('sets the deadline on the waiter and clears it once the waiter leaves the queue', () => {
    const { queue, waiter } = setup({ limit: 1, queueSize: 1, queueTimeoutMs: 100 });
    queue.enter('a', waiter('1'), 0);
    const w = waiter('2');
    queue.enter('a', w, 7);
    assert.equal(w.queueDeadline, 107);
    queue.leave('a');
    assert.equal(w.queueDeadline, 0);
  });

  it('reports no deadline when nobody waits, and lets waiters wait forever with a timeout of 0', () => {
    const { log, queue, waiter } = setup({ limit: 1, queueSize: 1, queueTimeoutMs: 0 });
    assert.equal(queue.nextDeadline(), 0);
    queue.enter('a', waiter('1'), 0);
    queue.enter('a', waiter('2'), 0);
    assert.equal(queue.nextDeadline(), 0);
    queue.expire(1e12);
    assert.deepEqual(log, []);
    queue.leave('a');
    assert.deepEqual(log, ['admit 2']);
  });

  it('removes a cancelled waiter so that it is neither admitted nor timed out', () => {
    const { log, queue, waiter } = setup({ limit: 1, queueSize: 3, queueTimeoutMs: 100 });
    queue.enter('a', waiter('1'), 0);
    const gone = waiter('2');
    queue.enter('a', gone, 0);
    queue.enter('a', waiter('3'), 50);
    queue.cancel('a', gone);
    assert.equal(queue.queued('a'), 1);
    assert.equal(queue.nextDeadline(), 150);
    queue.expire(120);
    assert.deepEqual(log, []);
    queue.leave('a');
    assert.deepEqual(log, ['admit 3']);
  });

  it('ignores cancel for a waiter that is not queued or is queued under another key', () => {
    const { queue, waiter } = setup({ limit: 1, queueSize: 1, queueTimeoutMs: 100 });
    queue.enter('a', waiter('1'), 0);
    const w = waiter('2');
    queue.enter('a', w, 0);
    queue.cancel('b', w);
    queue.cancel('a', waiter('stranger'));
    assert.equal(queue.queued('a'), 1);
  });

  it('deletes the entry of a key once it has nothing in flight and nothing queued', () => {
    const { queue, waiter } = setup({ limit: 1, queueSize: 2, queueTimeoutMs: 100 });
    queue.enter('a', waiter('1'), 0);
    queue.enter('a', waiter('2'), 0);
    queue.enter('b', waiter('3'), 0);
    assert.equal(queue.size, 2);
    queue.leave('b');
    assert.equal(queue.size, 1);
    queue.leave('a');
    queue.leave('a');
    assert.equal(queue.size, 0);
    assert.equal(queue.inFlight('a'), 0);
  });

  it('keeps memory bounded by rejecting new keys beyond maxKeys, not by forgetting busy ones', () => {
    const { queue, waiter } = setup({ limit: 1, queueSize: 0, queueTimeoutMs: 100, maxKeys: 2 });
    queue.enter('a', waiter('1'), 0);
    queue.enter('b', waiter('2'), 0);
    assert.equal(queue.enter('c', waiter('3'), 0), 'rejected');
    assert.equal(queue.enter('a', waiter('4'), 0), 'rejected', 'a is still at its limit');
    queue.leave('a');
    assert.equal(queue.enter('c', waiter('5'), 0), 'admitted');
  });

  it('counts idle keys out at once but drops their entries together, past IDLE_KEYS_KEPT', () => {
    const { queue, waiter } = setup({ limit: 1, queueSize: 0, queueTimeoutMs: 100 });
    const n = IDLE_KEYS_KEPT + 10;
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < n; k++) {
        assert.equal(queue.enter(`k${k}`, waiter(`${k}`), 0), 'admitted');
        assert.equal(queue.size, 1);
        assert.equal(queue.inFlight(`k${k}`), 1);
        queue.leave(`k${k}`);
        assert.equal(queue.size, 0);
        assert.equal(queue.inFlight(`k${k}`), 0);
      }
    }
    // A key that went idle and comes back is at zero, admitted up to its limit again.
    assert.equal(queue.enter('k1', waiter('x'), 0), 'admitted');
    assert.equal(queue.enter('k1', waiter('y'), 0), 'rejected');
  });

  it('makes room for a new key beyond maxKeys by dropping idle ones', () => {
    const { queue, waiter } = setup({ limit: 1, queueSize: 0, queueTimeoutMs: 100, maxKeys: 2 });
    queue.enter('a', waiter('1'), 0);
    queue.enter('b', waiter('2'), 0);
    queue.leave('a');
    queue.leave('b');
    assert.equal(queue.enter('c', waiter('3'), 0), 'admitted');
    assert.equal(queue.enter('d', waiter('4'), 0), 'admitted');
    assert.equal(queue.enter('e', waiter('5'), 0), 'rejected', 'c and d are busy');
    assert.equal(queue.size, 2);
  });

  it('ignores a leave for a key with nothing in flight', () => {
    const { queue, waiter } = setup({ limit: 1, queueSize: 0, queueTimeoutMs: 100 });
    queue.leave('a');
    queue.enter('a', waiter('1'), 0);
    queue.leave('a');
    queue.leave('a');
    assert.equal(queue.enter('a', waiter('2'), 0), 'admitted');
    assert.equal(queue.enter('a', waiter('3'), 0), 'rejected');
  });

  it('stays consistent when an admitted waiter finishes inside its onAdmitted callback', () => {
    const { log, queue, waiter } = setup({ limit: 1, queueSize: 3, queueTimeoutMs: 100 });
    queue.enter('a', waiter('1'), 0);
    const fails = waiter('2');
    fails.onAdmittedHook = () => queue.leave('a');
    queue.enter('a', fails, 0);
    queue.enter('a', waiter('3'), 0);
    queue.leave('a');
    assert.deepEqual(log, ['admit 2', 'admit 3']);
    assert.equal(queue.inFlight('a'), 1);
    assert.equal(queue.queued('a'), 0);
  });

  it('rejects a limit below 1', () => {
    assert.throws(() => new AdmissionQueue({ limit: 0, queueSize: 0, queueTimeoutMs: 0 }), RangeError);
  });
});
