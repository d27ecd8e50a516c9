import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { duration, MAX_DURATION_MS, parseDuration, signedDuration } from './duration.ts';

describe('parseDuration', () => {
  it('reads Go duration strings as milliseconds', () => {
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1h'), 3_600_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('500us'), 0.5);
    assert.equal(parseDuration('0s'), 0);
  });

  it("sums a duration's parts as Go does, in whole nanoseconds (no floating-point residue)", () => {
    assert.equal(parseDuration('1.005s'), 1005);
    assert.equal(parseDuration('1.1s'), 1100);
    assert.equal(parseDuration('0.3s'), 300);
    assert.equal(parseDuration('1h0.1m'), 3_606_000);
    assert.equal(parseDuration('+2s'), 2000);
    assert.equal(parseDuration('1.s'), 1000);
  });

  it('reads a bare integer, as a number or a string of digits, as seconds (Traefik)', () => {
    assert.equal(parseDuration(10), 10_000);
    assert.equal(parseDuration('10'), 10_000);
    assert.equal(parseDuration(0), 0);
  });

  it('rejects negative, fractional bare numbers, unknown units and other types', () => {
    for (const bad of ['-1s', '10x', '1h 30m', 's', '', 1.5, -3, true, null, {}]) {
      assert.ok(typeof parseDuration(bad) === 'object', `expected an error for ${JSON.stringify(bad)}`);
    }
  });

  it('refuses durations that would overflow Node timers', () => {
    assert.equal(parseDuration('596h'), 596 * 3_600_000);
    const r = parseDuration('600h');
    assert.ok(typeof r === 'object' && /too long/.test(r.error));
    assert.ok(596 * 3_600_000 <= MAX_DURATION_MS);
  });
});

describe('duration schema', () => {
  it('transforms to milliseconds and reports the expected form on error', () => {
    assert.equal(duration.parse('2s'), 2000);
    const r = duration.safeParse('soon');
    assert.equal(r.success, false);
    const zi = r.error?.issues[0];
    assert.match(zi?.message ?? '', /invalid duration "soon"/);
    assert.match(String((zi as { params?: { expected?: string } }).params?.expected), /10s/);
  });
});

describe('signedDuration', () => {
  it('keeps the sign of negative durations, as flushInterval needs', () => {
    assert.equal(signedDuration.parse('-1ms'), -1);
    assert.equal(signedDuration.parse(-1), -1000);
    assert.equal(signedDuration.parse('100ms'), 100);
    assert.equal(signedDuration.safeParse('-x').success, false);
  });
});
