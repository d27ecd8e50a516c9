import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FakeCatalog, sha256, startFakeCatalog } from '../../test/helpers/fake-plugin-catalog.ts';
import { freePort } from '../../test/helpers/free-port.ts';
import { makeZip } from '../../test/helpers/zip.ts';
import { silentLogger } from '../core/logger.ts';
import { setupRemotePlugins } from './remote.ts';

/** Traefik's catalog plugins (pkg/plugins manager.go, downloader.go) against a fake catalog. */
describe('catalog plugins (experimental.plugins)', () => {
  let catalog: FakeCatalog;
  let cwd: string;
  const wasmZip = makeZip([
    { name: 'acme-stamp-0123abc/' },
    { name: 'acme-stamp-0123abc/.traefik.yml', data: 'type: middleware\nruntime: wasm\n' },
    { name: 'acme-stamp-0123abc/plugin.wasm', data: Buffer.from([0, 0x61, 0x73, 0x6d]) },
  ]);
  const moduleZip = makeZip([
    {
      name: 'github.com/acme/go@v0.2.0/.traefik.yml',
      data: 'type: middleware\nimport: github.com/acme/go\n',
    },
    { name: 'github.com/acme/go@v0.2.0/sub/go.go', data: 'package go\n' },
  ]);
  const env = (): NodeJS.ProcessEnv => ({ TM_PLUGINS_URL: catalog.url });
  const stamp = { moduleName: 'github.com/acme/stamp', version: 'v1.0.0' };
  const goPlugin = { moduleName: 'github.com/acme/go', version: 'v0.2.0' };

  before(async () => {
    catalog = await startFakeCatalog();
    catalog.archives.set('github.com/acme/stamp@v1.0.0', wasmZip);
    catalog.archives.set('github.com/acme/go@v0.2.0', moduleZip);
    cwd = mkdtempSync(join(tmpdir(), 'plugins-'));
  });
  after(async () => {
    await catalog.close();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('downloads, checks and unpacks each archive as Traefik lays it out, then 304s on the next start', async () => {
    const decls = await setupRemotePlugins(
      { stamp, go: goPlugin },
      { cwd, env: env(), download: true, logger: silentLogger },
    );
    const src = join(cwd, 'plugins-storage', 'sources', 'src', 'github.com', 'acme');
    assert.deepEqual(decls, [
      { name: 'stamp', target: join(src, 'stamp') },
      { name: 'go', target: join(src, 'go') },
    ]);
    // A GitHub-like archive loses its first folder; a Go module zip its module@version prefix.
    assert.equal(
      readFileSync(join(src, 'stamp', '.traefik.yml'), 'utf8'),
      'type: middleware\nruntime: wasm\n',
    );
    assert.ok(existsSync(join(src, 'stamp', 'plugin.wasm')));
    assert.equal(readFileSync(join(src, 'go', 'sub', 'go.go'), 'utf8'), 'package go\n');
    const archive = join(cwd, 'plugins-storage', 'archives', 'github.com', 'acme', 'stamp', 'v1.0.0.zip');
    assert.ok(readFileSync(archive).equals(wasmZip));
    assert.deepEqual(
      JSON.parse(readFileSync(join(cwd, 'plugins-storage', 'archives', 'state.json'), 'utf8')),
      {
        'github.com/acme/stamp': 'v1.0.0',
        'github.com/acme/go': 'v0.2.0',
      },
    );
    assert.deepEqual(catalog.seen.slice(0, 2), [
      { path: '/public/download/github.com/acme/stamp/v1.0.0', hash: undefined },
      { path: '/public/validate/github.com/acme/stamp/v1.0.0', hash: sha256(wasmZip) },
    ]);
    catalog.seen.length = 0;
    const again = await setupRemotePlugins(
      { stamp },
      { cwd, env: env(), download: true, logger: silentLogger },
    );
    assert.equal(again[0]?.failed, undefined);
    assert.deepEqual(catalog.seen[0], {
      path: '/public/download/github.com/acme/stamp/v1.0.0',
      hash: sha256(wasmZip),
    });
  });

  it('a worker installs nothing: it takes what is there', async () => {
    catalog.seen.length = 0;
    const decls = await setupRemotePlugins(
      { stamp, other: { moduleName: 'example.com/none', version: 'v1' } },
      { cwd, env: env(), download: false, logger: silentLogger },
    );
    assert.equal(decls[0]?.failed, undefined);
    assert.equal(decls[1]?.failed, 'example.com/none@v1 was not installed');
    assert.deepEqual(catalog.seen, []);
  });

  it('fails the plugin, not the others, on an unknown version, a failed integrity check or no catalog', async () => {
    catalog.tampered.add('github.com/acme/go@v0.2.0');
    const decls = await setupRemotePlugins(
      { stamp, go: goPlugin, ghost: { moduleName: 'github.com/acme/stamp2', version: 'v9' } },
      { cwd, env: env(), download: true, logger: silentLogger },
    );
    catalog.tampered.clear();
    assert.deepEqual(
      decls.map((d) => d.failed),
      [
        undefined,
        'unable to install plugin github.com/acme/go@v0.2.0: plugin integrity check failed',
        'unable to install plugin github.com/acme/stamp2@v9: error: 404: plugin not found',
      ],
    );
    const down = await setupRemotePlugins(
      { stamp },
      {
        cwd,
        env: { TM_PLUGINS_URL: `http://127.0.0.1:${await freePort()}/public/` },
        download: true,
        logger: silentLogger,
      },
    );
    assert.match(
      down[0]?.failed ?? '',
      /^unable to install plugin github\.com\/acme\/stamp@v1\.0\.0: failed to call service: ECONNREFUSED/,
    );
  });

  it("compares a configured hash instead of asking the catalog (Traefik's Descriptor.Hash)", async () => {
    catalog.seen.length = 0;
    const good = await setupRemotePlugins(
      { stamp: { ...stamp, hash: sha256(wasmZip) } },
      { cwd, env: env(), download: true, logger: silentLogger },
    );
    assert.equal(good[0]?.failed, undefined);
    assert.ok(
      !catalog.seen.some((s) => s.path.startsWith('/public/validate/')),
      JSON.stringify(catalog.seen),
    );
    const bad = await setupRemotePlugins(
      { stamp: { ...stamp, hash: 'ab'.repeat(32) } },
      { cwd, env: env(), download: true, logger: silentLogger },
    );
    assert.equal(
      bad[0]?.failed,
      `unable to install plugin github.com/acme/stamp@v1.0.0: invalid hash for plugin github.com/acme/stamp, expected ${'ab'.repeat(32)}, got ${sha256(wasmZip)}`,
    );
  });

  it('refuses an archive with a path leaving the plugin folder', async () => {
    catalog.archives.set(
      'example.com/evil@v1',
      makeZip([
        { name: 'top/ok.txt', data: 'ok' },
        { name: 'top/../../escape.txt', data: 'no' },
      ]),
    );
    const [d] = await setupRemotePlugins(
      { evil: { moduleName: 'example.com/evil', version: 'v1' } },
      { cwd, env: env(), download: true, logger: silentLogger },
    );
    assert.equal(
      d?.failed,
      'unable to install plugin example.com/evil@v1: invalid file path in archive: top/../../escape.txt',
    );
    assert.ok(!existsSync(join(cwd, 'plugins-storage', 'sources', 'src', 'escape.txt')));
  });

  it("removes the archive of a module's previous version (Traefik's CleanArchives)", async () => {
    const storage = join(cwd, 'plugins-storage', 'archives');
    writeFileSync(join(storage, 'state.json'), JSON.stringify({ 'github.com/acme/stamp': 'v0.9.0' }));
    const old = join(storage, 'github.com', 'acme', 'stamp', 'v0.9.0.zip');
    writeFileSync(old, 'old');
    await setupRemotePlugins({ stamp }, { cwd, env: env(), download: true, logger: silentLogger });
    assert.ok(!existsSync(old));
  });
});
