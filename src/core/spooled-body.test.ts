import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SPOOL_PREFIX, SpooledBody, type SpoolTarget } from './spooled-body.ts';

/** Replays `body` into memory; `accept` says how many writes succeed before one returns false. */
function collect(body: SpooledBody, pauseEvery = 0): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    let n = 0;
    const target: SpoolTarget = {
      write: (c) => {
        out.push(c);
        n++;
        if (pauseEvery > 0 && n % pauseEvery === 0) {
          setImmediate(() => replay.drained());
          return false;
        }
        return true;
      },
      end: () => resolve(Buffer.concat(out)),
      fail: (r) => reject(new Error(r)),
    };
    const replay = body.replay(target);
  });
}

describe('SpooledBody', () => {
  let dir: string;
  let saved: string | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'spool-test-'));
    saved = process.env.TMPDIR;
    process.env.TMPDIR = dir;
  });
  after(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a small body in memory, replayable twice', async () => {
    const b = new SpooledBody(1024);
    assert.equal(
      b.add(Buffer.from('hello '), 0, 6, () => {}),
      true,
    );
    b.add(Buffer.from('xxworldxx'), 2, 7, () => {});
    await b.settled();
    assert.equal(b.spilled, false);
    assert.equal((await collect(b)).toString(), 'hello world');
    assert.equal((await collect(b)).toString(), 'hello world');
    b.dispose();
  });

  it('spills past memBytes into a file in $TMPDIR, replays it in order with backpressure, deletes it', async () => {
    const b = new SpooledBody(100_000);
    const parts = Array.from({ length: 40 }, (_, i) => Buffer.alloc(25_000, i));
    const drains: number[] = [];
    for (const p of parts) {
      if (!b.add(p, 0, p.length, () => drains.push(1))) await new Promise((r) => setImmediate(r));
    }
    await b.settled();
    assert.equal(b.spilled, true);
    assert.equal(b.length, 1_000_000);
    assert.ok(b.path.startsWith(join(dir, SPOOL_PREFIX)), b.path);
    assert.ok(existsSync(b.path));
    assert.deepEqual(await collect(b, 3), Buffer.concat(parts));
    assert.deepEqual(await collect(b), Buffer.concat(parts), 'a second try replays the same bytes');
    const path = b.path;
    b.dispose();
    for (let i = 0; i < 100 && existsSync(path); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(existsSync(path), false, 'the temporary file is deleted');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith(SPOOL_PREFIX)),
      [],
    );
  });

  it('reports a file it cannot write (no such folder) as an error, never an exception', async () => {
    process.env.TMPDIR = join(dir, 'missing', 'deeper');
    try {
      const b = new SpooledBody(0);
      b.add(Buffer.from('abc'), 0, 3, () => {});
      await b.settled();
      assert.match(b.error ?? '', /temporary file .*ENOENT/);
      b.dispose();
    } finally {
      process.env.TMPDIR = dir;
    }
  });
});
