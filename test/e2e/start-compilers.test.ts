/**
 * The `traffic` command (bin/traffic.js) holds V8's optimizing compilers off while the proxy's
 * modules load and turns them on again before it reads a configuration
 * (src/core/start-compilers.ts; docs/performance.md, "Memory at rest"). Observed with V8's own
 * `--trace-opt` log on stdout: started that way, no function of Node's module loader is
 * optimized, while `node dist/main.js` (no pause) optimizes several of them; and requests are
 * optimized afterwards, so the compilers are on again.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Backend, simpleConfig, startBackend } from '../helpers/backends.ts';
import { buildIfStale } from '../helpers/build.ts';
import { type ProxyProcess, ROOT, startProxy } from '../helpers/proxy-process.ts';

const BIN = join(ROOT, 'bin', 'traffic.js');
const DIST_MAIN = join(ROOT, 'dist', 'main.js');

/**
 * Functions of Node's ESM loader that loading our ~400 modules makes hot. Path helpers
 * (`normalizeString`, `isPosixPathSeparator`) are left out: Node may optimize them while it
 * resolves the entry script itself, before any of our code runs.
 */
const LOADER = [
  'moduleResolve',
  'finalizeResolution',
  'getPackageScopeConfig',
  '#resolve',
  '#cachedDefaultResolve',
  'getOrCreateModuleJob',
  'defaultGetFormatWithoutErrors',
  '#resolveAndMaybeBlockOnLoaderThread',
  'throwIfInvalidParentURL',
  'shouldBeTreatedAsRelativeOrAbsolutePath',
  'afterResolve',
  '#getModuleCachedImports',
  'resolveSync',
];

/** Names of the functions V8 started an optimizing compilation for (`--trace-opt`). */
function optimized(stdout: string): string[] {
  const names: string[] = [];
  for (const m of stdout.matchAll(
    /\[compiling method \S+ <JSFunction ([^ >]+)[^\]]*\(target (?:MAGLEV|TURBOFAN)/g,
  )) {
    names.push(m[1]!);
  }
  return names;
}

/** `n` GET requests over `parallel` keep-alive connections; every answer must be 200. */
async function load(port: number, n: number, parallel = 4): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
        );
      });
      req.on('error', reject);
      req.end();
    });
  try {
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        for (let i = 0; i < n / parallel; i++) await one();
      }),
    );
  } finally {
    agent.destroy();
  }
}

describe('optimizing compilers held off while the modules load (built proxy)', () => {
  let backend: Backend;
  const proxies: ProxyProcess[] = [];

  before(async () => {
    await buildIfStale();
    backend = await startBackend((_req, res) => res.end('hello'));
  });

  after(async () => {
    for (const p of proxies) await p.stop();
    await backend?.close();
  });

  const start = async (main: string): Promise<ProxyProcess> => {
    const p = await startProxy({ config: simpleConfig([backend.url]), main, nodeArgs: ['--trace-opt'] });
    proxies.push(p);
    return p;
  };

  it('node dist/main.js optimizes the module loader while it loads (what the pause avoids)', async () => {
    const p = await start(DIST_MAIN);
    await load(p.port, 10);
    const hot = optimized(p.stdout()).filter((f) => LOADER.includes(f));
    assert.ok(
      hot.length > 0,
      `some loader function optimized; optimized: ${optimized(p.stdout()).join(', ')}`,
    );
  });

  it('the traffic command optimizes none of it, and optimizes request handling once requests come', async () => {
    const p = await start(BIN);
    await load(p.port, 10);
    assert.deepEqual(
      optimized(p.stdout()).filter((f) => LOADER.includes(f)),
      [],
      'no loader function is optimized',
    );
    // The compilers are on again: steady requests get functions optimized. Batches until V8
    // reports one (its log comes on stdout, after the compilation was queued).
    const before = optimized(p.stdout()).length;
    for (let batch = 0; batch < 20 && optimized(p.stdout()).length === before; batch++) {
      await load(p.port, 1000);
    }
    assert.ok(optimized(p.stdout()).length > before, 'requests got functions optimized');
    assert.deepEqual(
      optimized(p.stdout()).filter((f) => LOADER.includes(f)),
      [],
    );
  });
});
