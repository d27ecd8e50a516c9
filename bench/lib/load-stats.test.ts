import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorTotal, loadStats } from './load-stats.ts';

describe('loadStats', () => {
  it('keeps wrk’s request rate and percentiles', () => {
    const s = loadStats({
      tool: 'wrk',
      result: {
        requests: 1000,
        durationS: 10,
        rps: 99.5,
        latencyMs: { p50: 1, p75: 2, p90: 3, p99: 4 },
        errors: { non2xx: 1, connect: 0, read: 2, write: 0, timeout: 0 },
      },
    });
    assert.equal(s.completed, 1000);
    assert.equal(s.perSecond, 99.5);
    assert.deepEqual(s.latencyMs, { p50: 1, p99: 4, mean: null, max: null });
    assert.equal(errorTotal(s), 3);
  });

  it('divides h2load’s completed requests by its duration and counts failed ones once', () => {
    const s = loadStats({
      tool: 'h2load',
      result: {
        durationS: 2,
        rps: 450,
        requests: {
          total: 1000,
          started: 1010,
          done: 1000,
          succeeded: 900,
          failed: 100,
          errored: 60,
          timeout: 10,
        },
        status: { s2xx: 900, s3xx: 0, s4xx: 0, s5xx: 40 },
        requestMs: { min: 0.1, max: 9, mean: 1.5, sd: 0.2 },
        tls: {},
        dataBytes: null,
      },
    });
    assert.equal(s.completed, 1000);
    assert.equal(s.perSecond, 500);
    assert.deepEqual(s.latencyMs, { p50: null, p99: null, mean: 1.5, max: 9 });
    assert.equal(errorTotal(s), 100);
  });

  it('counts handshakes as the unit of the handshake client', () => {
    const s = loadStats({
      tool: 'handshake-client',
      result: {
        handshakes: 300,
        durationS: 3,
        meanMs: 20,
        maxMs: 80,
        errors: { connect: 1, status: 0, resumed: 2, timeout: 0 },
        protocols: {},
        ciphers: {},
        groups: {},
      },
    });
    assert.equal(s.perSecond, 100);
    assert.equal(errorTotal(s), 3);
  });
});
