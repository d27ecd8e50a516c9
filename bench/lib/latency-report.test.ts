import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CLIENT_LATE_LIMIT_MS,
  formatLatencyRun,
  formatLatencySummary,
  type LatencyReport,
  parseLatencyReport,
  summarizeLatency,
} from './latency-report.ts';
import { loadStats } from './load-stats.ts';
import type { RunFailed, RunOk } from './run-record.ts';

function report(p99Ms: number, lateP99Ms = 0.01, errors: Record<string, number> = {}): LatencyReport {
  const summary = (p99: number) => ({
    count: 1000,
    p50Ms: p99 / 4,
    p90Ms: p99 / 2,
    p99Ms: p99,
    p999Ms: p99 * 2,
    maxMs: p99 * 3,
    meanMs: p99 / 3,
  });
  return {
    rate: 100,
    connections: 50,
    scheduled: 1000,
    completed: 1000,
    durationS: 10,
    achievedRate: 100,
    latency: summary(p99Ms),
    lateness: summary(lateP99Ms),
    statuses: { '200': 1000 },
    errors,
    histogram: [[1000, 1000]],
  };
}

function ok(name: string, round: number, r: LatencyReport, cpuUsPerRequest = 20): RunOk {
  const client = { tool: 'latency-client' as const, result: r };
  const load = loadStats(client);
  return {
    ok: true,
    name,
    mode: 'latency',
    round,
    startedAt: '2026-01-01T00:00:00.000Z',
    load,
    client,
    errorCount: Object.values(r.errors).reduce((a, b) => a + b, 0),
    cpuTicks: 0,
    cpuUsPerRequest,
    cpuBusy: 0.3,
    backendCpuUsPerRequest: 10,
    idleRssKb: 1024,
    loadRssKb: 2048,
    pids: [1],
  };
}

const failed = (name: string, round: number): RunFailed => ({
  ok: false,
  name,
  mode: 'latency',
  round,
  startedAt: '2026-01-01T00:00:00.000Z',
  error: 'boom',
  logTail: '',
});

describe('summarizeLatency', () => {
  const runs = [
    ok('nginx', 1, report(1.0)),
    ok('nginx', 2, report(1.2)),
    ok('nginx', 3, report(5.0)),
    ok('ours', 1, report(2.1), 30),
    ok('ours', 2, report(2.3, CLIENT_LATE_LIMIT_MS * 2), 40),
    failed('ours', 3),
    ok('slow', 1, report(2.3), 50),
  ];
  const rows = summarizeLatency(['nginx', 'ours', 'slow'], runs);

  it('takes the median over rounds of each number, and counts failed and client-limited rounds', () => {
    const nginx = rows[0]!;
    assert.equal(nginx.p99Ms, 1.2);
    assert.equal(nginx.p999Ms, 2.4);
    assert.equal(nginx.runs, 3);
    const ours = rows[1]!;
    assert.equal(ours.p99Ms, 2.2);
    assert.equal(ours.cpuUsPerRequest, 35);
    assert.equal(ours.failedRuns, 1);
    assert.equal(ours.clientLimitedRuns, 1);
  });

  it("compares each median p99 with nginx's: within 1 ms or not", () => {
    assert.deepEqual(
      rows.map((r) => [r.name, Number(r.p99VsNginxMs?.toFixed(2)), r.withinMargin]),
      [
        ['nginx', 0, true],
        ['ours', 1, true],
        ['slow', 1.1, false],
      ],
    );
  });

  it('has no verdict without nginx', () => {
    const [row] = summarizeLatency(['ours'], runs);
    assert.equal(row!.p99VsNginxMs, null);
    assert.equal(row!.withinMargin, null);
  });

  it('sums errors over rounds', () => {
    const [row] = summarizeLatency(
      ['x'],
      [ok('x', 1, report(1, 0, { 'status 502': 2 })), ok('x', 2, report(1, 0, { ECONNRESET: 1 }))],
    );
    assert.equal(row!.errors, 3);
  });
});

describe('latency report lines and table', () => {
  it('flags a client-limited run, a missed rate and errors on its line', () => {
    const late = { ...report(2, 1), achievedRate: 90 };
    const line = formatLatencyRun(ok('ours', 1, late), 100);
    assert.match(line, /CLIENT-LIMITED \(late p99 1\.00ms\)/);
    assert.match(line, /RATE 90 < 100/);
    assert.doesNotMatch(formatLatencyRun(ok('ours', 1, report(2)), 100), /CLIENT-LIMITED|RATE|ERRORS/);
    assert.match(formatLatencyRun(failed('ours', 3), 100), /FAILED: boom/);
  });

  it('prints the verdict column and notes under the table', () => {
    const table = formatLatencySummary(
      summarizeLatency(['nginx', 'slow'], [ok('nginx', 1, report(1)), ok('slow', 1, report(3, 1))]),
      100,
    );
    const [head, nginx, slow] = table.split('\n');
    assert.match(head!, /p99 − nginx\s+≤ \+1 ms$/);
    assert.match(nginx!, /\+0\.00\s+yes$/);
    assert.match(slow!, /\+2\.00\s+NO {2}\(client-limited in 1 of 1\)$/);
  });

  it("prints each proxy's own target with --rate-scale, and says it differs from nginx's", () => {
    const table = formatLatencySummary(
      summarizeLatency(
        ['nginx', 'w1', 'w2'],
        [ok('nginx', 1, report(1)), ok('w1', 1, report(1)), ok('w2', 1, report(1))],
      ),
      (name) => (name === 'w2' ? 200 : 100),
    );
    const [, nginx, w1, w2] = table.split('\n');
    assert.match(nginx!, /^nginx\s+100\s/);
    assert.doesNotMatch(w1!, /nginx at/);
    assert.match(w2!, /^w2\s+200\s.*\(at 200 req\/s, nginx at 100\)$/);
  });
});

describe('parseLatencyReport', () => {
  it("reads the client's last line and refuses one without its fields", () => {
    const r = report(1);
    assert.deepEqual(parseLatencyReport(`noise\n${JSON.stringify(r)}\n`), r);
    assert.throws(() => parseLatencyReport('{"rate":1}'), /lacks its fields/);
    assert.throws(() => parseLatencyReport('oops'), /unrecognised/);
  });
});
