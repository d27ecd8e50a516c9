import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { diffByKind, newByKind, readSnapshot, retainerPath } from './heap-diff.ts';

// Two snapshots of a real process: the second after it kept 2,000 objects of a class of its own
// (plus a string each) in an array held by a global, and dropped 300 objects it held before;
// 500 others live through both.
const SCRIPT = `
const v8 = require('node:v8');
class Leaky { constructor(i) { this.i = i; this.s = 'leaky-' + i; } }
class Dropped { constructor(i) { this.i = i; } }
class Steady { constructor(i) { this.i = i; } }
globalThis.steady = Array.from({ length: 500 }, (_, i) => new Steady(i));
globalThis.before = Array.from({ length: 300 }, (_, i) => new Dropped(i));
v8.writeHeapSnapshot(process.argv[1]);
globalThis.kept = Array.from({ length: 2000 }, (_, i) => new Leaky(i));
globalThis.before = null;
v8.writeHeapSnapshot(process.argv[2]);
`;

describe('heap-diff', () => {
  const dir = mkdtempSync(join(tmpdir(), 'heap-diff-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const a = join(dir, 'a.heapsnapshot');
  const b = join(dir, 'b.heapsnapshot');
  execFileSync(process.execPath, ['-e', SCRIPT, a, b], { timeout: 60_000 });
  const earlier = readSnapshot(a);
  const later = readSnapshot(b);

  it('counts what grew and what went, by constructor', () => {
    const rows = diffByKind(earlier, later);
    const leaky = rows.find((r) => r.kind === 'object|Leaky');
    assert.equal(leaky?.countDelta, 2000);
    assert.equal(leaky?.count, 2000);
    assert.ok(leaky.sizeDelta >= 2000 * 16, String(leaky.sizeDelta));
    const dropped = rows.find((r) => r.kind === 'object|Dropped');
    assert.equal(dropped?.countDelta, -300);
    assert.equal(dropped?.count, 0);
    // Largest change first: nothing the script did not do outgrows the 2,000 objects.
    const index = rows.indexOf(leaky);
    assert.ok(
      index < 5,
      rows
        .slice(0, 6)
        .map((r) => `${r.kind} ${r.sizeDelta}`)
        .join(', '),
    );
  });

  it('finds the new nodes by id, and a holder chain up to the global that keeps them', () => {
    const fresh = newByKind(earlier, later);
    assert.equal(fresh.find((r) => r.kind === 'object|Leaky')?.count, 2000);
    assert.equal(
      fresh.find((r) => r.kind === 'object|Dropped'),
      undefined,
    );
    // Objects that lived through both keep their ids: not new.
    assert.equal(later.kinds.filter((k) => k === 'object|Steady').length, 500);
    assert.equal(
      fresh.find((r) => r.kind === 'object|Steady'),
      undefined,
    );
    // Their strings are new too (one per object, at least).
    assert.ok(fresh.find((r) => r.kind === 'string|')!.count >= 2000);
    let node = -1;
    for (let i = 0; i < later.count && node < 0; i++) if (later.kinds[i] === 'object|Leaky') node = i;
    const path = retainerPath(later, node);
    assert.equal(path[0], 'object|Leaky');
    assert.ok(
      path.some((step) => step.startsWith('<-kept- ')),
      path.join(' '),
    );
  });
});
