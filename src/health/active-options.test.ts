import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { activeCheckOptions, statusAccepted } from './active-options.ts';

describe('activeCheckOptions', () => {
  it('fills in Traefik’s defaults', () => {
    assert.deepEqual(activeCheckOptions(), {
      mode: 'http',
      path: '',
      method: 'GET',
      hostname: undefined,
      port: undefined,
      headers: [],
      status: [],
      followRedirects: true,
      intervalMs: 30_000,
      unhealthyIntervalMs: 30_000,
      timeoutMs: 5_000,
      passes: 1,
      fails: 1,
    });
  });

  it('defaults the unhealthy interval to the given interval', () => {
    assert.equal(activeCheckOptions({ intervalMs: 1_000 }).unhealthyIntervalMs, 1_000);
    assert.equal(
      activeCheckOptions({ intervalMs: 1_000, unhealthyIntervalMs: 200 }).unhealthyIntervalMs,
      200,
    );
  });
});

describe('statusAccepted', () => {
  it('accepts 200–399 when no range is configured', () => {
    assert.equal(statusAccepted([], 199), false);
    assert.equal(statusAccepted([], 200), true);
    assert.equal(statusAccepted([], 399), true);
    assert.equal(statusAccepted([], 400), false);
  });

  it('accepts exactly the configured inclusive ranges', () => {
    const ranges = [
      { from: 204, to: 204 },
      { from: 500, to: 503 },
    ];
    assert.equal(statusAccepted(ranges, 200), false);
    assert.equal(statusAccepted(ranges, 204), true);
    assert.equal(statusAccepted(ranges, 500), true);
    assert.equal(statusAccepted(ranges, 503), true);
    assert.equal(statusAccepted(ranges, 504), false);
  });
});
