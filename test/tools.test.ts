/**
 * The programs the tests run, on a machine that lacks them: the pre-test check names them with
 * the one `apt-get install` line, .ci/run installs every one of them, and a suite whose program
 * is missing fails at once with that line instead of skipping or hanging. "Missing" is made by
 * running with a PATH that hides the programs (a folder of links to node and a few basics).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from './helpers/proxy-process.ts';
import { findOnPath, MissingToolError, runProcess, TOOLS, toolPath } from './helpers/tools.ts';

function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return runProcess(process.execPath, args, { cwd: ROOT, env });
}

describe('the programs the tests run', () => {
  let bare: string;
  let env: NodeJS.ProcessEnv;

  before(() => {
    // A PATH with node and the shell basics only: none of the listed programs is on it.
    bare = mkdtempSync(join(tmpdir(), 'bare-path-'));
    symlinkSync(process.execPath, join(bare, 'node'));
    for (const basic of ['sh', 'env']) {
      const p = findOnPath(basic);
      if (p !== undefined) symlinkSync(p, join(bare, basic));
    }
    // Without CI (nothing installs) and without the runner's own variables (a nested `node --test`
    // would otherwise refuse to run files).
    env = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) => k !== 'CI' && k !== 'TRAFFIC_INSTALL_TEST_TOOLS' && !k.startsWith('NODE_TEST'),
      ),
    );
    env['PATH'] = bare;
  });
  after(() => rmSync(bare, { recursive: true, force: true }));

  it('are all installed by .ci/run', () => {
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    const list =
      /packages=\(([^)]*)\)/
        .exec(ci)?.[1]
        ?.split(/\s+/)
        .filter((p) => p !== '') ?? [];
    const missing = [...new Set(TOOLS.map((t) => t.package))].filter((p) => !list.includes(p));
    assert.deepEqual(missing, [], '.ci/run does not install these packages of scripts/test-tools.json');
  });

  it('are looked up on PATH, and a missing one names the package that brings it', () => {
    assert.equal(findOnPath('node', bare), join(bare, 'node'));
    assert.equal(findOnPath('curl', bare), undefined);
    const saved = process.env['PATH'];
    process.env['PATH'] = bare;
    try {
      assert.throws(
        () => toolPath('h2load'),
        (e: Error) =>
          e instanceof MissingToolError &&
          e.message.startsWith(
            'h2load is not installed (not found on PATH): apt-get install -y --no-install-recommends nghttp2-client',
          ),
      );
    } finally {
      process.env['PATH'] = saved;
    }
  });

  it('are reported before the tests run, with one install line, without failing the run', async () => {
    const r = await run(['scripts/check-test-tools.js'], env);
    assert.equal(r.code, 0, r.out);
    assert.match(
      r.out,
      new RegExp(`^test tools: ${TOOLS.length} program\\(s\\) the tests run are not installed`, 'm'),
    );
    const packages = [...new Set(TOOLS.map((t) => t.package))].join(' ');
    assert.ok(r.out.includes(`apt-get install -y --no-install-recommends ${packages}`), r.out);
    assert.match(r.out, /TRAFFIC_INSTALL_TEST_TOOLS=1/);
  });

  it('says why it does not install them without root and apt-get, even when asked to', async () => {
    const r = await run(['scripts/check-test-tools.js'], { ...env, TRAFFIC_INSTALL_TEST_TOOLS: '1' });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /not installing: that needs root and apt-get/);
  });

  it('make a suite that needs a missing one fail at once with the install command (ACME with pebble)', async () => {
    const r = await run(['--test', '--test-timeout=60000', 'test/e2e/acme-dns-providers.test.ts'], env);
    assert.notEqual(r.code, 0, r.out);
    assert.match(
      r.out,
      /pebble, pebble-challtestsrv, openssl are not installed \(not found on PATH\): apt-get install -y --no-install-recommends pebble openssl/,
    );
  });
});
