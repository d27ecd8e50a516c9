import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProxySummary } from './summary.ts';
import { formatWorkersTable, pairWorkers } from './workers-report.ts';

function row(name: string, rps: number | null, cpuUsPerRequest: number | null): ProxySummary {
  return {
    name,
    runs: 1,
    failedRuns: rps === null ? 1 : 0,
    rps,
    p50Ms: null,
    p99Ms: null,
    meanMs: null,
    maxMs: null,
    cpuUsPerRequest,
    idleRssKb: null,
    loadRssKb: null,
    errors: 0,
    efficiencyVsNginx: null,
    efficiencyVsCaddy: null,
    efficiencyVsHaproxy: null,
    tls: null,
  };
}

describe('pairWorkers', () => {
  const pairs = pairWorkers([
    row('nginx', 20_000, 25),
    row('ours-2', 30_000, 34.2),
    row('nginx-2', 30_000, 27.5),
    row('ours', 20_000, 30),
    row('solo', 1000, 10),
    row('lonely-2', 2000, 20),
    row('dead', null, null),
    row('dead-2', 5000, 40),
  ]);
  const byFamily = (f: string) => pairs.find((p) => p.family === f)!;

  it('pairs x with x-2 whatever their order, one row per family in order of first appearance', () => {
    assert.deepEqual(
      pairs.map((p) => p.family),
      ['nginx', 'ours', 'solo', 'lonely', 'dead'],
    );
    assert.deepEqual(byFamily('ours'), {
      family: 'ours',
      rps1: 20_000,
      rps2: 30_000,
      cpuUsPerRequest1: 30,
      cpuUsPerRequest2: 34.2,
      cpuChange: 34.2 / 30 - 1,
      rpsRatio: 1.5,
    });
  });

  it('leaves the comparisons empty when one side did not run or all its runs failed', () => {
    assert.equal(byFamily('solo').rps2, null);
    assert.equal(byFamily('solo').cpuChange, null);
    assert.equal(byFamily('lonely').rps1, null);
    assert.equal(byFamily('lonely').rpsRatio, null);
    assert.equal(byFamily('dead').cpuChange, null);
    assert.equal(byFamily('dead').rps2, 5000);
  });

  it('prints the change in CPU as a signed percentage and req/s as a ratio, n/a for a missing side', () => {
    const lines = formatWorkersTable(pairs).split('\n');
    assert.match(
      lines[0]!,
      /^proxy\s+req\/s 1\s+req\/s 2\s+cpu µs\/req 1\s+cpu µs\/req 2\s+cpu 2 vs 1\s+req\/s 2 vs 1$/,
    );
    assert.match(lines[1]!, /^nginx\s+20000\s+30000\s+25\.0\s+27\.5\s+\+10 %\s+1\.50×$/);
    assert.match(lines[2]!, /^ours\s+20000\s+30000\s+30\.0\s+34\.2\s+\+14 %\s+1\.50×$/);
    assert.match(lines[3]!, /^solo\s+1000\s+n\/a\s+10\.0\s+n\/a\s+n\/a\s+n\/a$/);
    assert.match(lines[4]!, /^lonely\s+n\/a\s+2000\s+n\/a\s+20\.0\s+n\/a\s+n\/a$/);
    assert.equal(lines.length, 6);
  });

  it('shows a cheaper second worker with a minus sign', () => {
    const [p] = pairWorkers([row('x', 100, 20), row('x-2', 100, 17)]);
    assert.match(formatWorkersTable([p!]).split('\n')[1]!, /\s-15 %\s+1\.00×$/);
  });
});
