import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSources } from './read-sources.ts';

describe('readSources', () => {
  it("reads a folder's subfolders too, each at its place in name order, as Traefik", async (t) => {
    // Traefik's loadFileConfigFromDirectory recurses into every directory os.ReadDir lists.
    const dir = await mkdtemp(join(tmpdir(), 'traffic-read-sources-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, 'b', 'deeper'), { recursive: true });
    await mkdir(join(dir, 'elsewhere'));
    for (const f of ['a.yml', 'b/one.yaml', 'b/deeper/two.toml', 'c.toml', 'b/notes.txt', 'elsewhere/x.yml'])
      await writeFile(join(dir, f), '');
    // A symlink to a folder is not a folder of os.ReadDir: skipped, as in Traefik.
    await symlink(join(dir, 'elsewhere'), join(dir, 'd'));
    const r = readSources({ directory: dir });
    assert.deepEqual(r.issues, []);
    assert.deepEqual(
      r.texts.map((x) => x.file.slice(dir.length + 1)),
      ['a.yml', 'b/deeper/two.toml', 'b/one.yaml', 'c.toml', 'elsewhere/x.yml'],
    );
  });
});
