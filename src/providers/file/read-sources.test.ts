import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSources } from './read-sources.ts';
import { updateFrom } from './validate-sources.ts';

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

  it('reads hidden files and folders, and a folder whatever its name, as Traefik', async (t) => {
    // Traefik's loadFileConfigFromDirectory skips nothing by name: every directory os.ReadDir
    // lists is read, and every file whose extension (any case) is .yml, .yaml or .toml.
    const dir = await mkdtemp(join(tmpdir(), 'traffic-read-sources-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, '.hidden'));
    await mkdir(join(dir, 'conf.yml'));
    for (const f of ['.a.yml', '.hidden/b.yaml', 'conf.yml/c.toml', 'D.YML', '.swp', 'e.yml.swp'])
      await writeFile(join(dir, f), '');
    const r = readSources({ directory: dir });
    assert.deepEqual(r.issues, []);
    assert.deepEqual(
      r.texts.map((x) => x.file.slice(dir.length + 1)),
      ['.a.yml', '.hidden/b.yaml', 'D.YML', 'conf.yml/c.toml'],
    );
  });
});

describe('a Kubernetes ConfigMap mounted as the folder', () => {
  it('reads each file twice, as Traefik reads it, and the configuration applies', async (t) => {
    // `..2024_01_01/dyn.yaml` (a real folder, read as Traefik reads every folder), `..data` a
    // symlink to it (skipped: not a folder of os.ReadDir), `dyn.yaml` -> `..data/dyn.yaml`.
    const dir = await mkdtemp(join(tmpdir(), 'traffic-read-sources-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, '..2024_01_01'));
    await writeFile(
      join(dir, '..2024_01_01', 'dyn.yaml'),
      'http:\n  routers:\n    r: { rule: "Path(`/`)", service: s }\n  services:\n    s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }\ntls:\n  options:\n    strict: { minVersion: VersionTLS13 }\n',
    );
    await symlink('..2024_01_01', join(dir, '..data'));
    await symlink(join('..data', 'dyn.yaml'), join(dir, 'dyn.yaml'));
    const u = updateFrom(readSources({ directory: dir }), {});
    assert.ok(u.config !== undefined, JSON.stringify(u.issues));
    assert.deepEqual(Object.keys(u.config.http.routers), ['r']);
    // Read twice; the identical copy is dropped (Traefik logs "already configured, skipping").
    assert.deepEqual(u.issues, []);
  });
});
