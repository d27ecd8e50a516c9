import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

const MODULE = JSON.stringify(new URL('./old-generation-growth.ts', import.meta.url).href);

/*
 * In a fresh process each (the limit changes a V8 flag for the whole process): a live set that
 * stays, plus objects that survive two scavenges and then die in the old generation, as the
 * requests in flight of a loaded proxy do; the largest old space seen is the garbage V8 let pile
 * up before a mark-compact.
 */
function peakOldSpaceMb(limit: boolean): number {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { limitOldGenerationGrowth } from ${MODULE};
    if (${limit} && !limitOldGenerationGrowth(50)) throw new Error('not applied');
    const old = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size;
    // Reachable to the end (a global): the live heap the limit is a factor of.
    globalThis.live = [];
    for (let i = 0; i < 200000; i++) globalThis.live.push({ a: i, b: 'y' + i, c: [i, i] });
    const inFlight = [];
    let max = 0;
    for (let round = 0; round < 600; round++) {
      for (let i = 0; i < 2000; i++) inFlight.push({ a: i, b: 'x' + i, c: [i] });
      inFlight.splice(0, Math.max(0, inFlight.length - 40000));
      max = Math.max(max, old());
      await new Promise((r) => setImmediate(r));
    }
    process.stdout.write(String(max / 1024 / 1024));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout);
}

describe('limitOldGenerationGrowth', () => {
  it('starts mark-compacts before promoted garbage piles up to V8s own limit (50 %)', () => {
    const free = peakOldSpaceMb(false);
    const limited = peakOldSpaceMb(true);
    assert.ok(limited < free * 0.6, `old space peaks at ${limited} MB limited, ${free} MB by V8 alone`);
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
