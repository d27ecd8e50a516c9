import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadStats } from './load-stats.ts';
import type { RunFailed, RunOk } from './run-record.ts';
import { median, summarize } from './summary.ts';

function ok(name: string, round: number, cpuUsPerRequest: number, errorCount = 0): RunOk {
  const wrk = {
    requests: 1000,
    durationS: 10,
    rps: 1000 * round,
    latencyMs: { p50: round, p75: round, p90: round, p99: 10 * round },
    errors: { non2xx: errorCount, connect: 0, read: 0, write: 0, timeout: 0 },
  };
  return {
    ok: true,
    name,
    mode: 'http',
    round,
    startedAt: '2026-01-01T00:00:00.000Z',
    load: loadStats({ tool: 'wrk', result: wrk }),
    client: { tool: 'wrk', result: wrk },
    errorCount,
    cpuTicks: 0,
    cpuUsPerRequest,
    cpuBusy: 0.5,
    backendCpuUsPerRequest: 10,
    idleRssKb: 1024,
    loadRssKb: 2048 * round,
    pids: [1],
  };
}

function failed(name: string, round: number): RunFailed {
  return {
    ok: false,
    name,
    mode: 'http',
    round,
    startedAt: '2026-01-01T00:00:00.000Z',
    error: 'boom',
    logTail: '',
  };
}

describe('median', () => {
  it('is the middle value of an odd count, whatever the order', () => {
    assert.equal(median([30, 10, 20]), 20);
  });

  it('averages the two middle values of an even count', () => {
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });

  it('is null for no values', () => {
    assert.equal(median([]), null);
  });
});

describe('summarize', () => {
  const runs = [
    ok('nginx', 1, 20),
    ok('nginx', 2, 26),
    ok('nginx', 3, 25),
    ok('caddy', 1, 100),
    ok('caddy', 2, 90),
    ok('caddy', 3, 110),
    ok('ours', 1, 50, 3),
    failed('ours', 2),
    ok('ours', 3, 50, 4),
  ];
  const [nginx, caddy, ours] = summarize(['nginx', 'caddy', 'ours'], runs);

  it('takes each metric’s median over the successful rounds', () => {
    assert.equal(nginx?.cpuUsPerRequest, 25);
    assert.equal(nginx?.rps, 2000);
    assert.equal(nginx?.p99Ms, 20);
    assert.equal(nginx?.loadRssKb, 4096);
    assert.equal(ours?.cpuUsPerRequest, 50);
  });

  it('gives efficiency as nginx’s CPU per request over the proxy’s', () => {
    assert.equal(nginx?.efficiencyVsNginx, 1);
    assert.equal(caddy?.efficiencyVsNginx, 0.25);
    assert.equal(ours?.efficiencyVsNginx, 0.5);
  });

  it('gives the ratio to caddy as the proxy’s efficiency over caddy’s', () => {
    assert.equal(ours?.efficiencyVsCaddy, 2);
    assert.equal(caddy?.efficiencyVsCaddy, 1);
  });

  it('sums errors over rounds and counts failed runs', () => {
    assert.equal(ours?.errors, 7);
    assert.equal(ours?.failedRuns, 1);
    assert.equal(ours?.runs, 3);
  });

  it('leaves ratios empty when the reference proxy did not run', () => {
    const [alone] = summarize(['ours'], runs);
    assert.equal(alone?.efficiencyVsNginx, null);
    assert.equal(alone?.efficiencyVsCaddy, null);
  });

  it('keeps the TLS facts of the first successful run and none for cleartext runs', () => {
    const facts = {
      protocol: 'TLSv1.3',
      cipher: 'TLS_AES_128_GCM_SHA256',
      group: 'X25519',
      alpn: 'h2',
      certificateSha256: 'AA',
    };
    const [withTls] = summarize(['ours'], [failed('ours', 1), { ...ok('ours', 2, 50), tls: facts }]);
    assert.deepEqual(withTls?.tls, facts);
    assert.equal(nginx?.tls, null);
  });

  it('leaves latency columns empty that the client does not report', () => {
    assert.equal(nginx?.meanMs, null);
    assert.equal(nginx?.maxMs, null);
  });

  it('leaves every median empty for a proxy whose runs all failed', () => {
    const [dead] = summarize(['dead'], [failed('dead', 1)]);
    assert.equal(dead?.cpuUsPerRequest, null);
    assert.equal(dead?.efficiencyVsNginx, null);
    assert.equal(dead?.failedRuns, 1);
  });
});
