/**
 * deploy/ as shipped (docs/operations.md): the systemd unit passes `systemd-analyze verify` without
 * a warning and keeps its hardening (`systemd-analyze security` exposure at most 2.0; 1.6 today),
 * and the static configuration of the image and the unit validates with `traffic validate`.
 * The Dockerfile is not built here (no base image can be pulled on CI; docs/operations.md#docker
 * says how it was checked by hand), but its build stage's files are compiled as it copies them and
 * its runtime stage's files run `traffic validate`: a folder the build needs and the Dockerfile
 * misses (types/ once) fails here.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/proxy-process.ts';
import { runCli } from '../helpers/run-cli.ts';

const exec = promisify(execFile);

/** The Dockerfile's stages by name (`FROM … AS name`), each with its instructions. */
function stages(): Map<string, string> {
  const text = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
  const out = new Map<string, string>();
  for (const part of text.split(/^FROM /m).slice(1)) {
    const name = /^\S+ AS (\S+)/.exec(part)?.[1];
    if (name !== undefined) out.set(name, part);
  }
  return out;
}

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
    // A TRAFFIC_ variable: a flag given with the file would be ignored, as Traefik ignores it.
    const r = await runCli(['validate', '--config', join(ROOT, 'deploy', 'traffic.yaml')], {
      cwd: tmp,
      env: { TRAFFIC_PROVIDERS_FILE_DIRECTORY: dynamic },
    });
    assert.deepEqual({ code: r.code, stderr: r.stderr }, { code: 0, stderr: '' });
    assert.match(r.stdout, /^configuration OK: 1 routers, 1 services/);
  });

  it('has a multi-stage Dockerfile whose runtime stage runs as `node` and creates the configured directories', () => {
    const all = stages();
    const runtime = all.get('runtime');
    assert.ok(runtime !== undefined && all.size >= 2, 'multi-stage, with a `runtime` stage');
    assert.match(runtime, /^USER node$/m);
    assert.doesNotMatch(runtime, /^COPY (src|test|bench) /m);
    // The configured directories exist in the image (a missing provider directory is an error).
    assert.match(runtime, /\/etc\/traffic\/dynamic/);
    assert.match(runtime, /^VOLUME \["\/var\/lib\/traffic"\]$/m);
  });

  it('compiles from exactly what the build stage copies, and runs what the runtime stage copies', async () => {
    // No image can be built on CI (no registry), but what goes into one can: the build stage's
    // COPY lines into a folder (node_modules standing in for its `npm ci`), its tsc run there,
    // then the runtime stage's files, and the command they make validates deploy/traffic.yaml.
    // A source folder the build needs and the Dockerfile does not copy fails here.
    const copies = (stage: string, dir: string): void => {
      for (const m of stages()
        .get(stage)!
        .matchAll(/^COPY (?!--from)(.+)$/gm)) {
        const args = m[1]!.trim().split(/\s+/);
        const to = args.pop()!;
        // Outside the working directory (the default configuration): not part of the program.
        if (to.startsWith('/')) continue;
        const dest = join(dir, to);
        for (const src of args) {
          const from = join(ROOT, src);
          // A folder's contents go into the destination; a file goes into it when it is a folder.
          const intoDir = args.length > 1 || to.endsWith('/') || to === '.';
          const target = statSync(from).isDirectory() || !intoDir ? dest : join(dest, src.split('/').pop()!);
          cpSync(from, target, { recursive: true });
        }
      }
    };
    const build = join(tmp, 'image-build');
    mkdirSync(build);
    copies('build', build);
    symlinkSync(join(ROOT, 'node_modules'), join(build, 'node_modules'));
    const tsc = await exec(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      { cwd: build, timeout: 300_000 },
    ).catch((e: { stdout: string }) => assert.fail(`tsc on the build stage's files:\n${e.stdout}`));
    assert.equal(tsc.stdout, '');

    const run = join(tmp, 'image-runtime');
    mkdirSync(run);
    copies('runtime', run);
    cpSync(join(build, 'dist'), join(run, 'dist'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(run, 'node_modules'));
    const dynamic = join(tmp, 'image-dynamic');
    mkdirSync(dynamic);
    const r = await runCli(['validate', '--config', join(ROOT, 'deploy', 'traffic.yaml')], {
      script: join(run, 'bin', 'traffic.js'),
      cwd: tmp,
      env: { TRAFFIC_PROVIDERS_FILE_DIRECTORY: dynamic },
    });
    assert.deepEqual({ code: r.code, stderr: r.stderr }, { code: 0, stderr: '' });
    assert.match(r.stdout, /^configuration OK/);
    // It ran the copied build, not this checkout's.
    assert.ok(statSync(join(run, 'dist', 'main.js')).isFile());
  });
});
