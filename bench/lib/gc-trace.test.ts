import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatGcTable,
  gcStats,
  parseGcLog,
  parseGoGcLine,
  parseV8GcLine,
  processStartS,
  summarizeGc,
  uptimeS,
} from './gc-trace.ts';

// Lines as Node 24 (V8 13.6) and Go 1.24's runtime print them.
const SCAVENGE =
  '[29680:0x396bf000]       45 ms: Scavenge 4.7 (5.8) -> 4.3 (6.8) MB, pooled: 0 MB, 2.76 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ';
const MARK_COMPACT =
  '[30230:0x2129c000]     1897 ms: Mark-Compact 326.7 (415.9) -> 148.6 (277.7) MB, pooled: 92 MB, 28.72 / 0.00 ms  (+ 98.3 ms in 839 steps since start of marking, biggest step 4.6 ms, walltime since start of marking 133 ms) (average mu = 0.880, current mu = 0.902) finalize incremental marking via task; GC in old space requested';
const GO =
  'gc 1 @0.033s 3%: 0.47+2.9+0.063 ms clock, 0.94+0.25/1.3/0.82+0.12 ms cpu, 3->4->2 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P';

describe('GC trace lines', () => {
  it("reads V8's pause, and adds the incremental marking steps to the serving thread's time", () => {
    assert.deepEqual(parseV8GcLine(SCAVENGE), {
      pid: 29680,
      atS: 0.045,
      kind: 'Scavenge',
      pausesMs: [2.76],
      blockingMs: 2.76,
    });
    const mc = parseV8GcLine(MARK_COMPACT)!;
    assert.equal(mc.kind, 'Mark-Compact');
    assert.deepEqual(mc.pausesMs, [28.72]);
    assert.ok(Math.abs(mc.blockingMs - (28.72 + 98.3)) < 1e-9, `${mc.blockingMs}`);
  });

  it("reads Go's two stop-the-world phases as pauses, and adds the mark assists", () => {
    const g = parseGoGcLine(GO)!;
    assert.equal(g.pid, null);
    assert.equal(g.atS, 0.033);
    assert.deepEqual(g.pausesMs, [0.47, 0.063]);
    assert.ok(Math.abs(g.blockingMs - (0.47 + 0.063 + 0.25)) < 1e-9);
  });

  it('skips every other line of a log', () => {
    const log = ['{"level":"info","msg":"listening"}', SCAVENGE, 'gc 1 @x', GO, ''].join('\n');
    assert.deepEqual(
      parseGcLog(log).map((e) => e.kind),
      ['Scavenge', 'go'],
    );
    assert.equal(parseV8GcLine('Scavenge 4.7 MB'), null);
  });
});

describe('gcStats', () => {
  const event = (pid: number | null, atS: number, pause: number, blocking = pause) => ({
    pid,
    atS,
    kind: 'Scavenge',
    pausesMs: [pause],
    blockingMs: blocking,
  });

  it('keeps what falls in the window, placed by each process start, and shares per process', () => {
    // Window: uptime 100–102 s. Process 1 started at 90 s, process 2 at 99 s.
    const w = { fromS: 100, toS: 102, startS: { '1': 90, '2': 99 }, mainPid: 1 };
    const s = gcStats(
      [
        event(1, 9.5, 50), // 99.5: before the window
        event(1, 10.5, 1),
        event(1, 11.5, 3, 5),
        event(2, 1.5, 2), // 100.5
        event(2, 3.5, 70), // 102.5: after
        event(3, 1, 9), // a process not in the tree
      ],
      w,
    );
    assert.equal(s.count, 3);
    assert.equal(s.processes, 2);
    assert.equal(s.pauseMaxMs, 3);
    assert.equal(s.blockingMs, 1 + 5 + 2);
    assert.ok(Math.abs(s.share - 8 / (2000 * 2)) < 1e-12);
  });

  it("places Go's lines (no pid) by the proxy's own start", () => {
    const s = gcStats([event(null, 5, 1)], { fromS: 10, toS: 20, startS: { '7': 8 }, mainPid: 7 });
    assert.equal(s.count, 1);
  });

  it("reads this process's start from /proc, before now", () => {
    const start = processStartS(process.pid, 100)!;
    assert.ok(start > 0 && start <= uptimeS(), `${start}`);
    assert.equal(processStartS(2 ** 22 + 12345, 100), undefined);
  });
});

describe('the GC table', () => {
  it('prints medians for a traced proxy and "no GC" for one without a collector', () => {
    const gc = (count: number, p99: number) => ({
      count,
      processes: 1,
      pauseP50Ms: 0.5,
      pauseP99Ms: p99,
      pauseMaxMs: p99,
      share: 0.02,
      blockingMs: 20,
    });
    const rows = summarizeGc(
      ['nginx', 'ours'],
      [
        { ok: true, name: 'nginx', load: { completed: 1000 } },
        { ok: true, name: 'ours', gc: gc(10, 1), load: { completed: 10_000 } },
        { ok: true, name: 'ours', gc: gc(30, 3), load: { completed: 10_000 } },
        { ok: true, name: 'ours', gc: gc(20, 2), load: { completed: 10_000 } },
      ],
    );
    assert.equal(rows[1]!.count, 20);
    assert.equal(rows[1]!.pauseP99Ms, 2);
    assert.equal(rows[1]!.usPerRequest, 2);
    const [head, nginx, ours] = formatGcTable(rows).split('\n');
    assert.match(head!, /^proxy\s+GCs\s+procs\s+p50 ms\s+p99 ms\s+max ms\s+in GC\s+gc µs\/req$/);
    assert.match(nginx!, /^nginx\s+-.*\(no GC\)$/);
    assert.match(ours!, /^ours\s+20\s+1\s+0\.50\s+2\.00\s+2\.00\s+2\.0%\s+2\.00$/);
  });
});
