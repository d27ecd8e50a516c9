import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutlierDetector, type OutlierOptions } from './outlier-detector.ts';

interface Change {
  index: number;
  ejected: boolean;
  now: number;
  reason: string;
}

function detector(serverCount: number, opts: Partial<OutlierOptions> = {}) {
  const changes: Change[] = [];
  const d = new OutlierDetector(serverCount, opts, (index, ejected, now, reason) =>
    changes.push({ index, ejected, now, reason }),
  );
  return { d, changes };
}

function fail(d: OutlierDetector, index: number, now: number, times = 1): void {
  for (let k = 0; k < times; k++) d.record(index, true, now);
}

describe('outlier detector', () => {
  describe('consecutive failures', () => {
    it('ejects a server on its first failure by default, as Traefik does', () => {
      const { d, changes } = detector(3);
      d.record(1, true, 100);
      assert.equal(d.isEjected(1, 100), true);
      assert.equal(d.ejected[1], 1);
      assert.deepEqual(changes, [{ index: 1, ejected: true, now: 100, reason: 'consecutive-failures' }]);
    });

    it('ejects after maxFailedAttempts failures in a row and not before', () => {
      const { d } = detector(3, { maxFailedAttempts: 3 });
      fail(d, 0, 0, 2);
      assert.equal(d.isEjected(0, 0), false);
      fail(d, 0, 0);
      assert.equal(d.isEjected(0, 0), true);
    });

    it('starts counting again after a success', () => {
      const { d } = detector(3, { maxFailedAttempts: 3 });
      fail(d, 0, 0, 2);
      d.record(0, false, 1);
      fail(d, 0, 2, 2);
      assert.equal(d.isEjected(0, 2), false);
    });

    it('only ejects when the failures fall within the failure window', () => {
      const { d } = detector(3, { maxFailedAttempts: 3, failureWindowMs: 1000 });
      fail(d, 0, 0, 2);
      fail(d, 0, 1001);
      assert.equal(d.isEjected(0, 1001), false, 'the run restarted at 1001');
      fail(d, 0, 2000);
      assert.equal(d.isEjected(0, 2000), false);
      fail(d, 0, 2001);
      assert.equal(d.isEjected(0, 2001), true);
    });

    it('counts failures per server', () => {
      const { d } = detector(3, { maxFailedAttempts: 2 });
      fail(d, 0, 0);
      fail(d, 1, 0);
      assert.equal(d.ejectedCount, 0);
    });
  });

  describe('failure ratio', () => {
    it('ejects when the failure share in the window reaches the ratio with enough requests', () => {
      const { d, changes } = detector(4, { maxFailedAttempts: 0, failureRatio: 0.3, minRequests: 10 });
      for (let k = 0; k < 7; k++) d.record(2, false, k);
      fail(d, 2, 7, 2);
      assert.equal(d.isEjected(2, 9), false, '2 of 9');
      fail(d, 2, 9);
      assert.equal(d.isEjected(2, 9), true, '3 of 10');
      assert.equal(changes[0]?.reason, 'failure-ratio');
    });

    it('waits for minRequests however bad the share is', () => {
      const { d } = detector(4, { maxFailedAttempts: 0, failureRatio: 0.5, minRequests: 5 });
      fail(d, 0, 0, 4);
      assert.equal(d.isEjected(0, 0), false);
      fail(d, 0, 0);
      assert.equal(d.isEjected(0, 0), true);
    });

    it('forgets outcomes older than the window', () => {
      const { d } = detector(4, {
        maxFailedAttempts: 0,
        failureRatio: 0.5,
        minRequests: 4,
        failureWindowMs: 1000,
      });
      fail(d, 0, 0, 3);
      d.record(0, false, 2000);
      fail(d, 0, 2000);
      assert.equal(d.isEjected(0, 2000), false, 'only 2 requests in the window');
    });
  });

  describe('ejection time', () => {
    it('keeps a server out for baseEjectionMs, which defaults to the failure window', () => {
      const { d, changes } = detector(3, { failureWindowMs: 5000 });
      fail(d, 0, 1000);
      assert.equal(d.isEjected(0, 5999), true);
      assert.equal(d.isEjected(0, 6000), false);
      assert.deepEqual(changes[1], { index: 0, ejected: false, now: 6000, reason: 'ejection-expired' });
      assert.equal(d.ejectedCount, 0);
      assert.equal(d.ejected[0], 0);
    });

    it('multiplies the ejection time by the number of ejections in a row, up to the maximum', () => {
      const { d } = detector(3, { baseEjectionMs: 1000, maxEjectionMs: 2500 });
      const durations: number[] = [];
      let now = 0;
      for (let k = 0; k < 4; k++) {
        fail(d, 0, now);
        const start = now;
        while (d.isEjected(0, now)) now += 100;
        durations.push(now - start);
      }
      assert.deepEqual(durations, [1000, 2000, 2500, 2500]);
    });

    it('decays the multiplier by one per base period spent healthy after returning', () => {
      const { d } = detector(3, { baseEjectionMs: 1000, maxEjectionMs: 100_000 });
      fail(d, 0, 0);
      fail(d, 0, 1000);
      fail(d, 0, 3000);
      assert.equal(d.isEjected(0, 5999), true, 'third ejection in a row lasts 3000');
      // Returned at 6000; 2 healthy periods take the streak from 3 to 1, so this ejection is the 2nd.
      fail(d, 0, 8500);
      assert.equal(d.isEjected(0, 10_499), true);
      assert.equal(d.isEjected(0, 10_500), false);
      // Returned at 10500; 5 healthy periods clear the streak entirely.
      fail(d, 0, 15_500);
      assert.equal(d.isEjected(0, 16_499), true);
      assert.equal(d.isEjected(0, 16_500), false);
    });

    it('measures healthy time from the end of the ejection, not from when it was noticed', () => {
      const { d } = detector(3, { baseEjectionMs: 1000, maxEjectionMs: 100_000 });
      fail(d, 0, 0);
      // Nobody looked at server 0 until 5000; it has been healthy since 1000.
      fail(d, 0, 5000);
      assert.equal(d.isEjected(0, 5999), true);
      assert.equal(d.isEjected(0, 6000), false, 'streak decayed to 0, so this is a first ejection');
    });

    it('ignores outcomes recorded while the server is ejected', () => {
      const { d } = detector(3, { maxFailedAttempts: 2, baseEjectionMs: 1000 });
      fail(d, 0, 0, 2);
      fail(d, 0, 500, 5);
      assert.equal(d.isEjected(0, 1000), false);
      fail(d, 0, 1000);
      assert.equal(d.isEjected(0, 1000), false, 'one failure after returning is not two');
    });

    it('returns an expired server when an outcome is recorded for it', () => {
      const { d, changes } = detector(3, { maxFailedAttempts: 2, baseEjectionMs: 1000 });
      fail(d, 0, 0, 2);
      d.record(0, false, 1500);
      assert.equal(d.ejected[0], 0);
      assert.deepEqual(changes[1], { index: 0, ejected: false, now: 1500, reason: 'ejection-expired' });
    });
  });

  describe('ejection cap', () => {
    it('never ejects more than maxEjectionPercent of the servers at once', () => {
      const { d } = detector(4, { maxEjectionPercent: 50 });
      for (let i = 0; i < 4; i++) fail(d, i, 0);
      assert.deepEqual([...d.ejected], [1, 1, 0, 0]);
      assert.equal(d.ejectedCount, 2);
    });

    it('always allows one ejection when there are at least two servers', () => {
      const { d } = detector(2, { maxEjectionPercent: 10 });
      fail(d, 0, 0);
      fail(d, 1, 0);
      assert.deepEqual([...d.ejected], [1, 0]);
    });

    it('never ejects the only server of a service', () => {
      const { d, changes } = detector(1, { maxEjectionPercent: 100 });
      fail(d, 0, 0, 50);
      assert.equal(d.isEjected(0, 0), false);
      assert.deepEqual(changes, []);
    });

    it('ejects a server held back by the cap once an expired ejection frees room', () => {
      const { d } = detector(2, { baseEjectionMs: 1000 });
      fail(d, 0, 0);
      fail(d, 1, 500);
      assert.equal(d.ejected[1], 0);
      // Server 0's ejection expired at 1000 although nobody asked; the next failure of 1 still ejects it.
      fail(d, 1, 1200);
      assert.deepEqual([...d.ejected], [0, 1]);
      assert.equal(d.ejectedCount, 1);
    });
  });

  it('ignores records for indexes outside the service', () => {
    const { d } = detector(2);
    d.record(5, true, 0);
    d.record(-1, true, 0);
    assert.equal(d.ejectedCount, 0);
    assert.equal(d.isEjected(5, 0), false);
  });

  describe('ejections decided elsewhere (workers)', () => {
    it('ejects for the given time, reports it as shared, and returns it when it ends', () => {
      const { d, changes } = detector(4, { baseEjectionMs: 1000 });
      d.ejectFor(2, 5000, 100);
      assert.equal(d.isEjected(2, 5099), true);
      assert.equal(d.ejectedFor(2, 1100), 4000);
      assert.deepEqual(changes, [{ index: 2, ejected: true, now: 100, reason: 'shared' }]);
      assert.equal(d.isEjected(2, 5100), false);
      assert.equal(d.ejectedFor(2, 5100), 0);
    });

    it('keeps the later end when already ejected here, and respects the cap on ejected servers', () => {
      const { d } = detector(2, { baseEjectionMs: 1000, maxEjectionPercent: 50 });
      fail(d, 0, 0);
      d.ejectFor(0, 3000, 0);
      assert.equal(d.isEjected(0, 2999), true);
      d.ejectFor(1, 3000, 0);
      assert.equal(d.isEjected(1, 0), false, 'one of two servers at most');
    });
  });
});
