/**
 * The package as users get it (issue 15 §5): `npm pack`, then a global install into a temporary
 * prefix and a project install run with `npx`, both on Node 24. Dependencies come from npm's cache
 * (`--prefer-offline`: `npm ci` filled it), so the test needs no network when the cache is warm.
 *
 * `npm pack --ignore-scripts` packs the dist/ that `npm test` built (or that buildIfStale builds
 * when this file runs alone): the `prepack` script would delete dist/ under the other tests.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startBackend } from '../helpers/backends.ts';
import { buildIfStale } from '../helpers/build.ts';
import { ROOT, startProxy } from '../helpers/proxy-process.ts';

const exec = promisify(execFile);

/** Node 24 (this process) first on PATH, as `npm run` does: the bin's `#!/usr/bin/env node` finds it. */
const ENV = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}` };
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

interface PackEntry {
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

async function sh(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = ENV) {
  // The timeout only keeps a stuck npm from hanging the suite; nothing is measured with it.
  return exec(cmd, args, { cwd, env, timeout: 180_000, maxBuffer: 16 * 2 ** 20 });
}

describe('the npm package', { timeout: 600_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tm-pack-'));
  let tgz = '';
  let files: string[] = [];

  before(async () => {
    await buildIfStale();
    const { stdout } = await sh(
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp, '--loglevel=error'],
      ROOT,
    );
    const [entry] = JSON.parse(stdout) as PackEntry[];
    assert.ok(entry !== undefined, stdout);
    tgz = join(tmp, entry.filename);
    files = entry.files.map((f) => f.path);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('is public, for Node 24, with both command names', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(pkg['private'], undefined);
    // Node 24.14.1 fixed CVE-2026-21713 (WebCrypto HMAC verify timing: the jwt middleware's HS*).
    assert.equal((pkg['engines'] as Record<string, string>)['node'], '>=24.14.1 <25');
    assert.deepEqual(pkg['bin'], { traffic: 'bin/traffic.js', 'traffic-management': 'bin/traffic.js' });
  });

  it('ships the build, the command, the licence, deploy/ and the docs; no sources, tests or benchmarks', () => {
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'bin/traffic.js',
      'dist/main.js',
      'dist/cli/parse-command.js',
      'config/example.yaml',
      'deploy/Dockerfile',
      'deploy/traffic.service',
      'deploy/traffic.yaml',
      'docs/configuration.md',
      'docs/operations.md',
      'types/plugin.d.ts',
    ]) {
      assert.ok(files.includes(f), `${f} is in the package`);
    }
    const unwanted = files.filter(
      (f) =>
        /^(src|test|bench|scripts|node_modules|\.ci)\//.test(f) ||
        (/\.test\.js$|\.ts$/.test(f) && !/^types\/[\w-]+\.d\.ts$/.test(f)) ||
        (f.startsWith('dist/') === false && f.endsWith('.js') && f !== 'bin/traffic.js'),
    );
    assert.deepEqual(unwanted, []);
  });

  it('installs globally, and `traffic-management` runs on Node 24 and proxies', async (t) => {
    const prefix = join(tmp, 'global');
    await sh('npm', ['install', '--global', '--prefix', prefix, ...NPM_FLAGS, tgz], tmp);
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
    for (const name of ['traffic-management', 'traffic']) {
      const { stdout } = await sh(join(prefix, 'bin', name), ['--version'], tmp);
      assert.match(stdout, new RegExp(version.replaceAll('.', '\\.')), name);
    }
    // The installed example configuration validates with the installed command.
    const installed = join(prefix, 'lib', 'node_modules', 'traffic-management');
    const validated = await sh(
      join(prefix, 'bin', 'traffic-management'),
      ['validate', '--config', join(installed, 'config', 'example.yaml')],
      // Its file provider names `config/example.yaml`, relative to the working directory.
      installed,
    );
    assert.match(validated.stdout, /configuration OK: 2 routers/);

    const backend = await startBackend((req, res) => res.end(`installed ${req.url}`));
    t.after(() => backend.close());
    const proxy = await startProxy({
      main: join(installed, 'bin', 'traffic.js'),
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be:
      loadBalancer: { servers: [{ url: "${backend.url}" }] }
`,
    });
    t.after(() => proxy.stop());
    const res = await fetch(`http://127.0.0.1:${proxy.port}/hello`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'installed /hello');
    // It ran the installed build, not this checkout's sources.
    assert.equal(backend.seen.length, 1);
  });

  it('runs with `npx traffic-management` in a project that depends on it', async () => {
    const app = join(tmp, 'app');
    rmSync(app, { recursive: true, force: true });
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'package.json'), '{ "name": "app", "version": "1.0.0", "private": true }\n');
    await sh('npm', ['install', ...NPM_FLAGS, tgz], app);
    const { stdout } = await sh('npx', ['--no-install', 'traffic-management', 'help'], app);
    assert.match(stdout, /^traffic: a reverse proxy/);
    assert.match(stdout, /traffic validate/);
  });

  it('refuses another major version of Node with a message that names Node 24', async (t) => {
    // The machine's own `node` (this one and CI's carry an older one; npm's Node 24 comes from
    // node_modules, which `npm test` puts first on PATH: leave those entries out).
    const PATH = (process.env['PATH'] ?? '')
      .split(delimiter)
      .filter((d) => !d.includes('node_modules') && d !== dirname(process.execPath))
      .join(delimiter);
    const env = { ...process.env, PATH };
    let other: string;
    try {
      other = (await exec('node', ['-p', 'process.version'], { env })).stdout.trim();
    } catch {
      return t.skip('no other node on PATH');
    }
    if (other.startsWith('v24.')) return t.skip(`the PATH's node is ${other}`);
    const err = await exec('node', [join(ROOT, 'bin', 'traffic.js'), '--version'], { env }).then(
      () => assert.fail(`it ran on ${other}`),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(err.code, 1);
    assert.match(err.stderr, /needs Node 24/);
  });
});
