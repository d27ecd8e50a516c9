/**
 * deploy/ as shipped (docs/operations.md): the systemd unit passes `systemd-analyze verify` without
 * a warning and keeps its hardening (`systemd-analyze security` exposure at most 2.0; 1.6 today),
 * and the static configuration of the image and the unit validates with `traffic validate`.
 * The Dockerfile is not built here: no base image can be pulled on CI (docs/operations.md#docker).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/proxy-process.ts';
import { runCli } from '../helpers/run-cli.ts';

const exec = promisify(execFile);
const UNIT = join(ROOT, 'deploy', 'traffic.service');
/** Exposure ×10, as `--threshold` takes it. */
const MAX_EXPOSURE = 20;

async function systemdAnalyze(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('systemd-analyze', args, { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { code: number | string; stdout: string; stderr: string };
    if (err.code === 'ENOENT') {
      throw new Error('systemd-analyze is not installed: apt-get install -y --no-install-recommends systemd');
    }
    return { code: Number(err.code), stdout: err.stdout, stderr: err.stderr };
  }
}

describe('deploy/', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'tm-deploy-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('has a systemd unit that systemd-analyze verifies without a warning', async () => {
    // verify checks that ExecStart's program exists: point it at this Node 24 (the unit expects
    // /usr/bin/node, which a machine may not have), and change nothing else.
    const text = readFileSync(UNIT, 'utf8');
    assert.match(text, /^ExecStart=\/usr\/bin\/node /m);
    const unit = join(tmp, 'traffic.service');
    writeFileSync(unit, text.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `));
    const r = await systemdAnalyze(['verify', unit]);
    assert.deepEqual({ code: r.code, out: `${r.stdout}${r.stderr}`.trim() }, { code: 0, out: '' });
  });

  it('keeps the unit hardened: exposure at most 2.0 in systemd-analyze security', async () => {
    const unit = join(tmp, 'traffic.service');
    copyFileSync(UNIT, unit);
    const r = await systemdAnalyze(['security', '--offline=yes', `--threshold=${MAX_EXPOSURE}`, unit]);
    const score = /Overall exposure level for traffic\.service: ([\d.]+)/.exec(r.stdout);
    assert.ok(score !== null, r.stdout + r.stderr);
    assert.equal(r.code, 0, `exposure ${score[1]} is above ${MAX_EXPOSURE / 10}`);
    // The settings the docs promise, each of which the score alone could hide.
    const text = readFileSync(UNIT, 'utf8');
    for (const line of [
      'DynamicUser=yes',
      'NoNewPrivileges=yes',
      'AmbientCapabilities=CAP_NET_BIND_SERVICE',
      'CapabilityBoundingSet=CAP_NET_BIND_SERVICE',
      'ProtectSystem=strict',
    ]) {
      assert.ok(text.split('\n').includes(line), line);
    }
  });

  it('ships a static configuration that validates, with the file provider on its directory', async () => {
    const dynamic = join(tmp, 'dynamic');
    mkdirSync(dynamic);
    writeFileSync(
      join(dynamic, 'app.yaml'),
      'http:\n  routers:\n    app: { rule: "Host(`app.example`)", service: app }\n' +
        '  services:\n    app: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }\n',
    );
    const r = await runCli(
      ['validate', '--config', join(ROOT, 'deploy', 'traffic.yaml'), `--providers.file.directory=${dynamic}`],
      { cwd: tmp },
    );
    assert.deepEqual({ code: r.code, stderr: r.stderr }, { code: 0, stderr: '' });
    assert.match(r.stdout, /^configuration OK: 1 routers, 1 services/);
  });

  it('has a multi-stage Dockerfile whose runtime stage runs as `node` and creates the configured directories', () => {
    const text = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
    const stages = text.split(/^FROM /m).slice(1);
    assert.ok(stages.length >= 2, 'multi-stage');
    const runtime = stages[stages.length - 1]!;
    assert.match(runtime, /^USER node$/m);
    assert.doesNotMatch(runtime, /^COPY (src|test|bench) /m);
    // The configured directories exist in the image (a missing provider directory is an error).
    assert.match(runtime, /\/etc\/traffic\/dynamic/);
    assert.match(runtime, /^VOLUME \["\/var\/lib\/traffic"\]$/m);
  });
});
