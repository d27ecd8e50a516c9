import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { declarationOf, entryFile } from './locate.ts';

describe('plugin location', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-plugin-locate-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const folder = (name: string, files: Record<string, string>): string => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(dirname(join(d, f)), { recursive: true });
      writeFileSync(join(d, f), text);
    }
    return d;
  };

  it("looks for a moduleName in Traefik's ./plugins-local/src/<moduleName> under the working directory", () => {
    const d = declarationOf('p', { moduleName: 'github.com/me/p' }, '/srv/work', '/etc/traffic');
    assert.equal(d.target, '/srv/work/plugins-local/src/github.com/me/p');
  });

  it('takes a path relative to the static file, an absolute one as it is', () => {
    assert.equal(
      declarationOf('p', { path: 'plugins/p.ts' }, '/srv/work', '/etc/traffic').target,
      '/etc/traffic/plugins/p.ts',
    );
    assert.equal(
      declarationOf('p', { path: '/opt/p', moduleName: 'x' }, '/srv/work', '/etc').target,
      '/opt/p',
    );
  });

  it('finds index.ts before index.js, and a package.json main before both', () => {
    const a = folder('a', { 'index.js': '', 'index.ts': '' });
    assert.deepEqual(entryFile(a), { file: join(a, 'index.ts') });
    const b = folder('b', { 'index.ts': '', 'main.mjs': '', 'package.json': '{"main":"main.mjs"}' });
    assert.deepEqual(entryFile(b), { file: join(b, 'main.mjs') });
    const c = folder('c', { 'index.mjs': '' });
    assert.deepEqual(entryFile(c), { file: join(c, 'index.mjs') });
  });

  it('takes a module file as it is, and refuses other files', () => {
    const d = folder('d', { 'p.ts': '', 'p.go': '' });
    assert.deepEqual(entryFile(join(d, 'p.ts')), { file: join(d, 'p.ts') });
    assert.match(
      (entryFile(join(d, 'p.go')) as { error: string }).error,
      /not a TypeScript or JavaScript module/,
    );
  });

  it('names the path looked at when nothing is there', () => {
    const r = entryFile(join(dir, 'nowhere'));
    assert.deepEqual(r, {
      error: `no plugin module at ${join(dir, 'nowhere')} (no such file or folder)`,
      missing: true,
    });
    const e = folder('e', { 'README.md': '' });
    assert.match(
      (entryFile(e) as { error: string }).error,
      /no plugin module in .*\/e \(looked for index\.ts, index\.mts/,
    );
  });

  it('says a folder holds a Traefik Go plugin when it has .traefik.yml and no module', () => {
    const g = folder('g', { '.traefik.yml': 'type: middleware\n', 'main.go': '' });
    assert.match(
      (entryFile(g) as { error: string }).error,
      /Traefik Go \(Yaegi\) plugin \(\.traefik\.yml, runtime "yaegi"\)/,
    );
  });

  it('finds the binary of a runtime: wasm manifest: plugin.wasm, or its wasmPath (Traefik types.go Manifest)', () => {
    const w = folder('w', { '.traefik.yml': 'type: middleware\nruntime: wasm\n', 'plugin.wasm': '' });
    assert.deepEqual(entryFile(w), { file: join(w, 'plugin.wasm'), wasm: true });
    const p = folder('p', {
      '.traefik.yml': 'type: middleware\nruntime: wasm\nwasmPath: out/guest.wasm\n',
      'out/guest.wasm': '',
      'index.ts': '',
    });
    assert.deepEqual(entryFile(p), { file: join(p, 'out', 'guest.wasm'), wasm: true });
    const m = folder('m', { '.traefik.yml': 'type: middleware\nruntime: wasm\n' });
    assert.match(
      (entryFile(m) as { error: string }).error,
      /its Wasm binary, .*\/m\/plugin\.wasm, does not exist/,
    );
    const t = folder('t', { '.traefik.yml': 'type: provider\nruntime: wasm\n', 'plugin.wasm': '' });
    assert.match(
      (entryFile(t) as { error: string }).error,
      /type "provider": only middleware plugins run here/,
    );
    // Ours: a path naming the binary itself.
    assert.deepEqual(entryFile(join(w, 'plugin.wasm')), { file: join(w, 'plugin.wasm'), wasm: true });
    // A manifest that does not parse matters only where no module is found.
    const y = folder('y', { '.traefik.yml': 'type: [', 'index.ts': '' });
    assert.deepEqual(entryFile(y), { file: join(y, 'index.ts') });
    const z = folder('z', { '.traefik.yml': 'type: [' });
    assert.match((entryFile(z) as { error: string }).error, /\.traefik\.yml: /);
  });

  it('reports a package.json main that does not exist, and a package.json that is not JSON', () => {
    const h = folder('h', { 'package.json': '{"main":"dist/x.js"}', 'index.ts': '' });
    assert.match((entryFile(h) as { error: string }).error, /its main, .*dist\/x\.js, does not exist/);
    const i = folder('i', { 'package.json': '{', 'index.ts': '' });
    assert.match((entryFile(i) as { error: string }).error, /package\.json: /);
  });
});
