/**
 * The serving process's code reaches neither `zod` nor `yaml` by a static import: configurations
 * are parsed and validated in the configuration process (client.ts), and what the proxy needs of
 * their definitions lives in zod-free modules (docs/performance.md, "Memory at rest"). The e2e
 * test (test/e2e/lazy-modules.test.ts) checks what a running proxy loads for one configuration;
 * this checks every module a configuration may load, TLS, the admin API and every middleware
 * included. Providers other than the file provider validate in the serving process on purpose.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every folder of the serving process, whole; plus these files. */
const SERVING_DIRS = [
  'admin',
  'balancer',
  'core',
  'health',
  'http1',
  'http2',
  'listeners',
  'middleware',
  'observability',
  'overload',
  'plugins',
  'proxy',
  'resilience',
  'router',
  'runtime',
  'tls',
  'upstream',
  'workers',
];
const SERVING_FILES = [
  'main.ts',
  'config-process/client.ts',
  'providers/file/file-provider.ts',
  'providers/file/options.ts',
  'providers/file/read-sources.ts',
];
/** Modules that exist to load zod elsewhere: the lazy fallback of schema-defaults.ts. */
const ALLOWED = new Set(['core/zod-locales.ts', 'core/zod-english.ts']);

// `import type` and `export type` are erased; `import { type A }` is kept as an import
// (verbatimModuleSyntax), so it counts.
const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

function imports(file: string): string[] {
  const out: string[] = [];
  for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    if (m[2] !== undefined) continue;
    out.push(m[3]!);
  }
  return out;
}

function servingFiles(): string[] {
  const files = SERVING_FILES.map((f) => join(SRC, f));
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (
        e.name.endsWith('.ts') &&
        !e.name.endsWith('.test.ts') &&
        !e.name.endsWith('.d.ts') &&
        !e.name.startsWith('test-')
      )
        files.push(p);
    }
  };
  for (const d of SERVING_DIRS) walk(join(SRC, d));
  return files.filter((f) => !ALLOWED.has(relative(SRC, f)));
}

describe('the serving process without zod and yaml', () => {
  it('reaches neither by a static import', () => {
    const via = new Map<string, string>(); // module → the module that imported it first
    const queue = servingFiles();
    for (const f of queue) via.set(f, '');
    const found: string[] = [];
    while (queue.length > 0) {
      const f = queue.shift()!;
      for (const s of imports(f)) {
        if (/^(zod|yaml)(\/|$)/.test(s)) {
          const chain = [s, relative(SRC, f)];
          for (let p = via.get(f); p !== undefined && p !== ''; p = via.get(p)) chain.push(relative(SRC, p));
          found.push(chain.join(' <- '));
          continue;
        }
        if (!s.startsWith('.')) continue;
        const target = resolve(dirname(f), s);
        if (!existsSync(target) || via.has(target)) continue;
        via.set(target, f);
        queue.push(target);
      }
    }
    assert.ok(via.size > 300, `the walk saw ${via.size} modules`);
    assert.deepEqual(found, []);
  });
});
