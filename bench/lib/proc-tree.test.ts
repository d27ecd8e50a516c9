import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { descendants, type ProcStat, parseStat, parseVmRssKb, sampleTree } from './proc-tree.ts';

// A real line from /proc/<pid>/stat, with utime=2 and stime=7 (fields 14 and 15).
const BASH =
  '4530 (bash) S 4529 4530 4530 0 -1 4194560 2420 37068 0 82 2 7 71 118 20 0 1 0 29415 5124096 1001';

describe('parseStat', () => {
  it('reads pid, ppid, utime and stime', () => {
    assert.deepEqual(parseStat(BASH), { pid: 4530, ppid: 4529, utime: 2, stime: 7 });
  });

  it('counts fields from the last parenthesis, so odd command names do not shift them', () => {
    const odd = BASH.replace('(bash)', '(nginx: worker) (x)');
    assert.deepEqual(parseStat(odd), { pid: 4530, ppid: 4529, utime: 2, stime: 7 });
  });

  it('rejects text that is not a stat line', () => {
    assert.throws(() => parseStat('hello'), /not a \/proc stat line/);
  });
});

describe('parseVmRssKb', () => {
  it('reads VmRSS in kB', () => {
    assert.equal(
      parseVmRssKb('Name:\tnginx\nVmPeak:\t  9000 kB\nVmRSS:\t    4048 kB\nRssAnon:\t 940 kB\n'),
      4048,
    );
  });

  it('is 0 for processes without memory (zombies)', () => {
    assert.equal(parseVmRssKb('Name:\tnginx\nState:\tZ (zombie)\n'), 0);
  });
});

describe('descendants', () => {
  const stat = (pid: number, ppid: number): ProcStat => ({ pid, ppid, utime: 0, stime: 0 });

  it('follows ppid links through grandchildren and skips unrelated processes', () => {
    const stats = [stat(1, 0), stat(10, 1), stat(11, 10), stat(12, 10), stat(13, 12), stat(20, 1)];
    assert.deepEqual(descendants(10, stats), [10, 11, 12, 13]);
  });
});

describe('sampleTree', () => {
  it('includes the calling process with its CPU time and memory', () => {
    const s = sampleTree(process.pid);
    assert.equal(s.pids[0], process.pid);
    assert.ok(s.rssKb > 0);
  });

  it('is empty for a pid that does not exist', () => {
    assert.deepEqual(sampleTree(2 ** 30), { pids: [], cpuTicks: 0, rssKb: 0 });
  });
});
