import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

const MODULE = JSON.stringify(new URL('./old-generation-growth.ts', import.meta.url).href);

/*
 * In a fresh process each (the limit changes a V8 flag for the whole process): a live set that
 * stays, plus objects that survive two scavenges and then die in the old generation, as the
 * requests in flight of a loaded proxy do. Returns the largest old space seen (the garbage V8
 * let pile up before a mark-compact) and the live old space after a full collection at the end.
 */
function oldSpaceMb(percent: number): { peak: number; live: number } {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { limitOldGenerationGrowth } from ${MODULE};
    if (!limitOldGenerationGrowth(${percent})) throw new Error('not applied');
    const old = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
    // Reachable to the end (a global): the live heap the limit is a factor of.
    globalThis.live = [];
    for (let i = 0; i < 200000; i++) globalThis.live.push({ a: i, b: 'y' + i, c: [i, i] });
    const inFlight = [];
    let max = 0;
    for (let round = 0; round < 600; round++) {
      for (let i = 0; i < 2000; i++) inFlight.push({ a: i, b: 'x' + i, c: [i] });
      inFlight.splice(0, Math.max(0, inFlight.length - 40000));
      max = Math.max(max, old().space_size);
      await new Promise((r) => setImmediate(r));
    }
    globalThis.gc();
    process.stdout.write(JSON.stringify({ peak: max / 1048576, live: old().space_used_size / 1048576 }));
  `;
  // A young generation of 2 MB (1 MB semi-spaces): the 40,000 objects in flight (~4 MB) always
  // outlive two scavenges. Left to itself V8 may grow it until they all die young, and then
  // nothing is promoted (seen in a busy full test run).
  const args = ['--expose-gc', '--max-semi-space-size=1', '--input-type=module', '-e', script];
  const r = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { peak: number; live: number };
}

describe('limitOldGenerationGrowth', () => {
  it('sets how far the old space grows past its live size before a mark-compact', () => {
    // V8 alone picks a factor of 1.1 to 4 by its GC and mutator speeds; the flag replaces it.
    const low = oldSpaceMb(50);
    const high = oldSpaceMb(300);
    assert.ok(low.live > 15, `the live set is in the old space (${low.live} MB)`);
    assert.ok(
      high.peak > 3 * high.live,
      `300 %: old space peaks at ${high.peak} MB for ${high.live} MB live`,
    );
    assert.ok(low.peak < 0.7 * high.peak, `50 %: old space peaks at ${low.peak} MB, 300 %: ${high.peak} MB`);
  });

  it('leaves the heap alone when the operator set the growing factor', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--heap-growing-percent=300',
        '--input-type=module',
        '-e',
        `import { limitOldGenerationGrowth } from ${MODULE};
         process.stdout.write(String(limitOldGenerationGrowth()));`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'false');
  });
});
