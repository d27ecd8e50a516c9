import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

/*
 * In a fresh process each (the cap changes a V8 flag for the whole process): allocate fast with
 * survivors, as a loaded proxy does (in short turns of the event loop, between which the
 * observer runs), and read how large V8 let the new space grow.
 */
function grownNewSpaceMb(cap: number | null, nodeArgs: string[] = []): number {
  const script = `
    import { capYoungGeneration, newSpaceBytes } from ${JSON.stringify(new URL('./young-generation-cap.ts', import.meta.url).href)};
    const stop = ${cap === null ? 'null' : `capYoungGeneration(${cap} * 1024 * 1024)`};
    let keep = [];
    let max = 0;
    for (let round = 0; round < 2000; round++) {
      for (let i = 0; i < 1000; i++) {
        keep.push({ a: i, b: 'x' + i, c: [i] });
        if (keep.length > 20000) keep = [];
      }
      max = Math.max(max, newSpaceBytes());
      // Let the observer run between bursts, as the event loop does between reads.
      await new Promise((r) => setImmediate(r));
    }
    stop?.();
    process.stdout.write(String(max / 1024 / 1024));
  `;
  const r = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout);
}

describe('capYoungGeneration', () => {
  it('keeps the new space at the cap where V8 alone grows it further', () => {
    const free = grownNewSpaceMb(null);
    const capped = grownNewSpaceMb(4);
    // V8 alone reaches 64 MB here; capped runs end at 7–8.5 MB (a semi-space is not always a
    // power of two, and a growth step may land before the observer runs): two steps of slack.
    assert.ok(free > 32, `V8 grows the new space past 32 MB by itself (${free} MB)`);
    assert.ok(capped <= 16, `capped at 4 MB, two growth steps of slack at most (${capped} MB)`);
  });

  it('leaves the heap alone when the operator set a young-generation flag', () => {
    // The operator's 1 MB semi-spaces (2 MB of new space) stay; the cap (64 MB) does not apply.
    const r = spawnSync(
      process.execPath,
      [
        '--max-semi-space-size=1',
        '--input-type=module',
        '-e',
        `import { capYoungGeneration } from ${JSON.stringify(new URL('./young-generation-cap.ts', import.meta.url).href)};
         process.stdout.write(String(capYoungGeneration(64 * 1024 * 1024)));`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'null');
  });
});
