import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSelfTime, parseCpuProfile, topSelfTime } from './cpu-profile.ts';

const frame = (functionName: string, url: string, lineNumber: number) => ({
  functionName,
  url,
  lineNumber,
  columnNumber: 0,
  scriptId: '1',
});

// Three nodes; node 2 and node 4 are the same function reached through different parents.
const PROFILE = {
  nodes: [
    { id: 1, callFrame: frame('(root)', '', -1), children: [2, 3] },
    { id: 2, callFrame: frame('route', 'file:///repo/src/router/match.ts', 41), children: [4] },
    { id: 3, callFrame: frame('', 'file:///repo/src/main.ts', 9), children: [] },
    { id: 4, callFrame: frame('route', 'file:///repo/src/router/match.ts', 41), children: [] },
  ],
  startTime: 1000,
  endTime: 1100,
  // Timestamps 1010, 1030, 1060, 1070 → durations 20, 30, 10 and 30 (until endTime).
  samples: [2, 3, 4, 3],
  timeDeltas: [10, 20, 30, 10],
};

describe('topSelfTime', () => {
  const summary = topSelfTime(parseCpuProfile(JSON.stringify(PROFILE)), 25);

  it('gives each sample the time until the next one, the last until endTime', () => {
    assert.equal(summary.totalUs, 90);
  });

  it('merges samples of the same function, line and file from different call paths', () => {
    assert.deepEqual(
      summary.rows.map((r) => [r.functionName, r.line, r.selfUs]),
      [
        ['', 10, 60],
        ['route', 42, 30],
      ],
    );
    assert.equal(summary.rows[1]?.share, 30 / 90);
  });

  it('keeps only the requested number of rows', () => {
    assert.equal(topSelfTime(parseCpuProfile(JSON.stringify(PROFILE)), 1).rows.length, 1);
  });

  it('prints repository-relative locations and names anonymous functions', () => {
    const text = formatSelfTime(summary, '/repo');
    assert.match(text, /\(anonymous\) \(src\/main\.ts:10\)/);
    assert.match(text, /route \(src\/router\/match\.ts:42\)/);
  });
});

describe('parseCpuProfile', () => {
  it('rejects JSON that is not a profile', () => {
    assert.throws(() => parseCpuProfile('{"nodes": 3}'), /not a \.cpuprofile/);
    assert.throws(
      () => parseCpuProfile(JSON.stringify({ ...PROFILE, timeDeltas: [1] })),
      /different lengths/,
    );
  });
});
