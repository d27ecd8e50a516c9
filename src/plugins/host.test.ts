import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger, type LogFields } from '../core/logger.ts';
import type { LoadedPlugin } from './catalog.ts';
import { PluginHost } from './host.ts';
import { declarationOf } from './locate.ts';

/** A plugin module with a hand-written Standard Schema (a temporary folder cannot import zod). */
const moduleText = (tag: string, ts = false) => `
globalThis.__tmImports = (globalThis.__tmImports ?? 0) + 1;
const schema = { '~standard': { version: 1, vendor: 'test', validate: (v${ts ? ': unknown' : ''}) => ({ value: v }) } };
export const plugin = { schema, tag: '${tag}', create: () => ({}) };
`;

function capture() {
  const lines: LogFields[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(JSON.parse(l)) });
  return { logger, lines };
}

const tagOf = (p: ReturnType<PluginHost['get']>) =>
  ((p as LoadedPlugin).plugin as unknown as { tag: string }).tag;
const imports = () => (globalThis as { __tmImports?: number }).__tmImports ?? 0;

describe('plugin host', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-plugin-host-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  /** Writes atomically, as editors do (a new inode each time). */
  const write = (name: string, text: string): string => {
    const f = join(dir, name);
    mkdirSync(join(f, '..'), { recursive: true });
    writeFileSync(`${f}.tmp`, text);
    renameSync(`${f}.tmp`, f);
    return f;
  };
  const host = (decls: Record<string, string>) => {
    const c = capture();
    const h = new PluginHost(
      Object.entries(decls).map(([name, path]) => declarationOf(name, { path }, dir, dir)),
      c.logger,
    );
    return { h, lines: c.lines };
  };

  it('imports TypeScript (type stripping) and JavaScript modules', async () => {
    write('ts/index.ts', moduleText('ts', true));
    write('js.mjs', moduleText('js'));
    const { h, lines } = host({ a: 'ts', b: 'js.mjs' });
    await h.refresh();
    assert.deepEqual(h.names, ['a', 'b']);
    assert.equal(tagOf(h.get('a')), 'ts');
    assert.equal(tagOf(h.get('b')), 'js');
    assert.equal((h.get('a') as LoadedPlugin).file, join(dir, 'ts', 'index.ts'));
    assert.equal(h.get('c'), undefined);
    assert.deepEqual(
      lines.map((l) => [l['msg'], l['plugin']]),
      [
        ['plugin loaded', 'a'],
        ['plugin loaded', 'b'],
      ],
    );
  });

  it('says why a module cannot be used, naming its file, and logs it once', async () => {
    write('none.mjs', 'export const other = 1;\n');
    write('dflt.mjs', 'export default { create() {} };\n');
    write('noschema.mjs', 'export const plugin = { schema: {}, create() {} };\n');
    write('broken.mjs', 'export const plugin = {;\n');
    const { h, lines } = host({
      none: 'none.mjs',
      dflt: 'dflt.mjs',
      noschema: 'noschema.mjs',
      broken: 'broken.mjs',
      gone: 'gone',
    });
    await h.refresh();
    await h.refresh();
    const err = (n: string) => (h.get(n) as { error: string }).error;
    assert.match(err('none'), /none\.mjs: exports no `plugin`/);
    assert.match(err('dflt'), /it has a default export: export it as `plugin`/);
    assert.match(err('noschema'), /`plugin.schema` must be a Standard Schema/);
    assert.match(err('broken'), /broken\.mjs: .*Unexpected token/);
    assert.equal(err('gone'), `no plugin module at ${join(dir, 'gone')} (no such file or folder)`);
    assert.deepEqual(h.unusable.map((p) => p.name).sort(), ['broken', 'dflt', 'gone', 'none', 'noschema']);
    assert.equal(lines.filter((l) => l['msg'] === 'plugin not loaded').length, 5);
  });

  it('adds where Traefik keeps local plugins when a moduleName names nothing', async () => {
    const h = new PluginHost(
      [declarationOf('m', { moduleName: 'example.com/m' }, dir, dir)],
      capture().logger,
    );
    await h.refresh();
    assert.match(
      (h.get('m') as { error: string }).error,
      /plugins-local\/src\/<moduleName> in the working directory/,
    );
  });

  it('imports a module again only when its file changed, under a new URL', async () => {
    write('r.mjs', moduleText('v1'));
    const { h, lines } = host({ r: 'r.mjs' });
    await h.refresh();
    const first = h.get('r');
    const n = imports();
    await h.refresh();
    assert.equal(h.get('r'), first, 'unchanged: the same module');
    assert.equal(imports(), n);
    write('r.mjs', moduleText('v2'));
    await h.refresh();
    assert.equal(tagOf(h.get('r')), 'v2');
    assert.notEqual((h.get('r') as LoadedPlugin).version, (first as LoadedPlugin).version);
    assert.equal(lines.at(-1)?.['msg'], 'plugin reloaded');
  });

  it('keeps the previous version when the changed module fails to load', async () => {
    write('k.mjs', moduleText('good'));
    const { h, lines } = host({ k: 'k.mjs' });
    await h.refresh();
    write('k.mjs', 'export const plugin = ;\n');
    await h.refresh();
    assert.equal(tagOf(h.get('k')), 'good');
    assert.equal(lines.at(-1)?.['msg'], 'plugin reload failed: its previous version stays');
    write('k.mjs', moduleText('fixed'));
    await h.refresh();
    assert.equal(tagOf(h.get('k')), 'fixed');
  });

  it('loads a plugin that was missing once its module appears', async () => {
    const { h } = host({ late: 'late.mjs' });
    await h.refresh();
    assert.ok('error' in h.get('late')!);
    write('late.mjs', moduleText('late'));
    await h.refresh();
    assert.equal(tagOf(h.get('late')), 'late');
    assert.deepEqual(h.unusable, []);
  });

  it('runs overlapping refreshes one after the other: the module is loaded (and logged) once', async () => {
    write('o.mjs', moduleText('o'));
    const { h, lines } = host({ o: 'o.mjs' });
    await Promise.all([h.refresh(), h.refresh(), h.refresh()]);
    assert.deepEqual(
      lines.map((l) => l['msg']),
      ['plugin loaded'],
    );
  });
});
