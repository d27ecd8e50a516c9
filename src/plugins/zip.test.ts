import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireTools } from '../../test/helpers/tools.ts';
import { makeZip } from '../../test/helpers/zip.ts';
import { MAX_UNPACKED_BYTES, readZip } from './zip.ts';

describe('zip reader (plugin archives)', () => {
  it('reads stored and deflated files and folders, with their Unix modes', () => {
    const big = Buffer.from('x'.repeat(100_000));
    const entries = readZip(
      makeZip([
        { name: 'mod@v1/' },
        { name: 'mod@v1/.traefik.yml', data: 'runtime: wasm\n' },
        { name: 'mod@v1/plugin.wasm', data: big, stored: true },
        { name: 'mod@v1/empty', data: '' },
      ]),
    );
    assert.deepEqual(
      entries.map((e) => [e.name, e.isDir, e.data.length]),
      [
        ['mod@v1/', true, 0],
        ['mod@v1/.traefik.yml', false, 14],
        ['mod@v1/plugin.wasm', false, 100_000],
        ['mod@v1/empty', false, 0],
      ],
    );
    assert.equal(entries[1]?.mode, 0o644);
    assert.ok(entries[2]?.data.equals(big));
  });

  it('reads what Info-ZIP writes (a comment after the directory, extra fields)', () => {
    requireTools('zip');
    const dir = mkdtempSync(join(tmpdir(), 'zip-'));
    try {
      writeFileSync(join(dir, 'a.txt'), 'hello\n'.repeat(1000));
      execFileSync('zip', ['-q', '-r', '-z', 'out.zip', 'a.txt'], { cwd: dir, input: 'a comment\n' });
      const [e] = readZip(readFileSync(join(dir, 'out.zip')));
      assert.equal(e?.name, 'a.txt');
      assert.equal(e?.data.toString(), 'hello\n'.repeat(1000));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an entry that takes the declared unpacked total past MAX_UNPACKED_BYTES, before inflating it (zip bomb)', () => {
    // A few bytes of deflate declaring 600 MiB: refused on what it declares, not inflated.
    const z = makeZip([{ name: 'bomb.bin', data: 'x' }]);
    const central = z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    z.writeUInt32LE(600 * 1024 * 1024, central + 24);
    assert.throws(() => readZip(z), /unpacks to more than 512 MiB/);
    assert.ok(MAX_UNPACKED_BYTES >= 64 * 1024 * 1024);
  });

  it('refuses what is not a zip, and a corrupted file', () => {
    assert.throws(() => readZip(Buffer.from('not a zip at all, not even close to one')), /not a zip archive/);
    const z = makeZip([{ name: 'a.txt', data: 'hello', stored: true }]);
    const i = z.indexOf('hello');
    z[i] = 'j'.charCodeAt(0);
    assert.throws(() => readZip(z), /a\.txt: CRC or size mismatch/);
  });
});
