import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { backupName, LogFile, prunable } from './log-file.ts';

const MB = 1024 * 1024;

/** Polls `cond` until it holds (the compression runs in the background); fails after `ms`. */
async function eventually(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`still not: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function folder(): string {
  return mkdtempSync(join(tmpdir(), 'log-file-'));
}

describe('LogFile (log.filePath, rotated as Traefik rotates it)', () => {
  it('appends to the file, its folder made first', () => {
    const dir = folder();
    try {
      const path = join(dir, 'sub', 'traffic.log');
      writeFileSync(join(dir, 'keep'), '');
      const f = new LogFile({ path, maxSizeMb: 0, maxBackups: 0, maxAgeDays: 0, owner: true });
      f.write('one\n');
      f.write('two\n');
      f.close();
      const g = new LogFile({ path, maxSizeMb: 0, maxBackups: 0, maxAgeDays: 0, owner: true });
      g.write('three\n');
      g.close();
      assert.equal(readFileSync(path, 'utf8'), 'one\ntwo\nthree\n', 'appended, never truncated');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a rotated file as lumberjack does: <name>-<UTC time><ext>', () => {
    assert.equal(
      backupName('/var/log/traefik.log', Date.UTC(2026, 11, 6, 5, 4, 3, 21)),
      '/var/log/traefik-2026-12-06T05-04-03.021.log',
    );
    assert.equal(backupName('/l/app', Date.UTC(2026, 0, 2)), '/l/app-2026-01-02T00-00-00.000');
  });

  it('rotates once a line would pass maxSize, and gzips the rotated file', async () => {
    const dir = folder();
    try {
      const path = join(dir, 'traffic.log');
      let t = Date.UTC(2026, 11, 6, 5, 0, 0);
      const errors: string[] = [];
      const f = new LogFile({
        path,
        maxSizeMb: 1,
        maxBackups: 0,
        maxAgeDays: 0,
        owner: true,
        now: () => t,
        onError: (m) => errors.push(m),
      });
      const line = `${'x'.repeat(1023)}\n`;
      for (let i = 0; i < 1024; i++) f.write(line); // exactly 1 MiB
      assert.equal(statSync(path).size, MB);
      t += 10;
      f.write('next\n');
      assert.equal(readFileSync(path, 'utf8'), 'next\n', 'a new file was started');
      const gz = `${backupName(path, t)}.gz`;
      await eventually(
        () => readdirSync(dir).length === 2 && readdirSync(dir).includes(gz.slice(dir.length + 1)),
        'compressed',
      );
      assert.equal(gunzipSync(readFileSync(gz)).length, MB);
      f.close();
      assert.deepEqual(errors, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the maxBackups newest rotated files and none older than maxAge days', () => {
    const dir = folder();
    try {
      const path = join(dir, 'app.log');
      const day = 86_400_000;
      const now = Date.UTC(2026, 11, 6);
      const names = [1, 2, 3, 10].map((d) => backupName(path, now - d * day));
      for (const n of names) writeFileSync(`${n}.gz`, '');
      writeFileSync(join(dir, 'app.log'), '');
      writeFileSync(join(dir, 'other-2026-01-01T00-00-00.000.log'), '');
      const base = (l: string[]) => l.map((p) => p.slice(dir.length + 1)).sort();
      assert.deepEqual(base(prunable(path, 2, 0, now)), base([`${names[2]}.gz`, `${names[3]}.gz`]));
      assert.deepEqual(base(prunable(path, 0, 5, now)), base([`${names[3]}.gz`]));
      assert.deepEqual(prunable(path, 0, 0, now), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts the file again when the path no longer names it (logrotate, or the owner in another process)', () => {
    const dir = folder();
    try {
      const path = join(dir, 'traffic.log');
      let t = 0;
      const f = new LogFile({ path, maxSizeMb: 0, maxBackups: 0, maxAgeDays: 0, owner: false, now: () => t });
      f.write('before\n');
      renameSync(path, `${path}.1`);
      f.write('still the moved file\n');
      t += 1000;
      f.write('after\n');
      f.close();
      assert.equal(readFileSync(`${path}.1`, 'utf8'), 'before\nstill the moved file\n');
      assert.equal(readFileSync(path, 'utf8'), 'after\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
