import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  backoffDelay,
  certificateRenewDurations,
  parseRetryAfter,
  renewalTime,
  timerDelay,
} from './retry.ts';

const DAY = 86_400_000;

describe('renewalTime', () => {
  it('renews a 90-day certificate 30 days before it expires', () => {
    assert.equal(renewalTime(0, 90 * DAY), 60 * DAY);
  });

  it('renews a short-lived certificate when a third of its lifetime is left', () => {
    assert.equal(renewalTime(0, 6 * DAY), 4 * DAY);
    assert.equal(renewalTime(1000, 1000 + 3_600_000), 1000 + 2_400_000);
  });

  it('honours a shorter renew period for long certificates', () => {
    assert.equal(renewalTime(0, 365 * DAY, 10 * DAY), 355 * DAY);
  });
});

describe('certificateRenewDurations', () => {
  const HOUR = 3_600_000;
  it("follows Traefik's getCertificateRenewDurations table, 2160 hours (30 days ahead) by default", () => {
    const period = (h?: number) => certificateRenewDurations(h).renewPeriodMs;
    assert.equal(period(), 30 * DAY);
    assert.equal(period(365 * 24), 120 * DAY);
    assert.equal(period(365 * 24 - 1), 30 * DAY);
    assert.equal(period(2160), 30 * DAY);
    assert.equal(period(2159), 10 * DAY);
    assert.equal(period(720), 10 * DAY);
    assert.equal(period(719), DAY);
    assert.equal(period(168), DAY);
    assert.equal(period(167), 6 * HOUR);
    assert.equal(period(24), 6 * HOUR);
    assert.equal(period(23), 20 * 60_000);
    assert.equal(period(1), 20 * 60_000);
    assert.equal(certificateRenewDurations(168).renewIntervalMs, HOUR);
  });
});

describe('backoffDelay', () => {
  it('doubles from the initial delay and stops at the cap of one hour', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, 60_000));
    assert.deepEqual(delays, [60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000]);
    assert.equal(backoffDelay(1000, 60_000), 3_600_000);
  });

  it('is zero before any failure', () => {
    assert.equal(backoffDelay(0), 0);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('120', 0), 120_000);
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', now), 0);
  });

  it('ignores what it cannot read', () => {
    assert.equal(parseRetryAfter(undefined, 0), undefined);
    assert.equal(parseRetryAfter('soon', 0), undefined);
    assert.equal(parseRetryAfter('-5', 0), undefined);
  });
});

describe('timerDelay', () => {
  it('rejects at once with the reason of an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort(new Error('stopped'));
    await assert.rejects(timerDelay(60_000, ac.signal), /stopped/);
  });

  it('rejects when the signal aborts during the wait', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const ac = new AbortController();
    const p = timerDelay(60_000, ac.signal);
    ac.abort(new Error('stopped'));
    await assert.rejects(p, /stopped/);
  });

  it('resolves when the time has passed', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const p = timerDelay(1000);
    t.mock.timers.tick(1000);
    await p;
  });
});
