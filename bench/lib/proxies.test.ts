import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allProxies, type BenchPaths, type RunContext, selectProxies } from './proxies.ts';

const paths: BenchPaths = {
  repoRoot: '/repo',
  peersDir: '/repo/bench/peers',
  tmpDir: '/tmp/tm-bench-x',
  nodePath: '/repo/node_modules/node/bin/node',
  profileDir: '/repo/bench/results/profiles',
};
const ctx: RunContext = { paths, runDir: '/tmp/tm-bench-x/nginx-r1-a', profileName: undefined };

describe('allProxies', () => {
  const all = allProxies([{ name: 'ours-mw', config: '/cfg/mw.yaml' }]);

  it('lists the peers, our two configurations, then the variants', () => {
    assert.deepEqual(
      all.map((p) => p.name),
      ['nginx', 'haproxy', 'caddy', 'ours', 'ours-10k', 'ours-mw'],
    );
    assert.deepEqual(
      all.filter((p) => p.ours).map((p) => p.name),
      ['ours', 'ours-10k', 'ours-mw'],
    );
  });

  it('starts nginx with its prefix and error log in the run dir', () => {
    const cmd = all[0]!.command(ctx);
    assert.equal(cmd.file, 'nginx');
    assert.deepEqual(cmd.args, [
      '-p',
      '/tmp/tm-bench-x/nginx-r1-a/',
      '-c',
      '/repo/bench/peers/proxy-nginx.conf',
      '-e',
      '/tmp/tm-bench-x/nginx-r1-a/error.log',
    ]);
  });

  it('limits caddy to one scheduler thread', () => {
    assert.equal(all[2]!.command(ctx).env?.['GOMAXPROCS'], '1');
  });

  it('starts our proxy with the runner’s node from the repository root', () => {
    const cmd = all[3]!.command(ctx);
    assert.equal(cmd.file, paths.nodePath);
    assert.equal(cmd.cwd, '/repo');
    assert.deepEqual(cmd.args, ['dist/main.js', '--config', 'bench/configs/bench.yaml']);
    assert.deepEqual(all[4]!.command(ctx).args.slice(-1), ['/tmp/tm-bench-x/ours-10k.yaml']);
    assert.deepEqual(all[5]!.command(ctx).args.slice(-1), ['/cfg/mw.yaml']);
  });

  it('adds --cpu-prof flags and the exit preload only to profiled runs', () => {
    const args = all[3]!.command({ ...ctx, profileName: 'ours-r1.cpuprofile' }).args;
    assert.ok(args.includes('--cpu-prof'));
    assert.ok(args.includes('--cpu-prof-dir=/repo/bench/results/profiles'));
    assert.ok(args.includes('--cpu-prof-name=ours-r1.cpuprofile'));
    assert.ok(args.some((a) => a.startsWith('--import=file:///repo/bench/lib/profile-exit.ts')));
    assert.deepEqual(args.slice(-3), ['dist/main.js', '--config', 'bench/configs/bench.yaml']);
  });
});

describe('selectProxies', () => {
  const all = allProxies([]);

  it('keeps the order --only gives', () => {
    assert.deepEqual(
      selectProxies(all, ['ours', 'nginx']).map((p) => p.name),
      ['ours', 'nginx'],
    );
  });

  it('names the known proxies when asked for an unknown one', () => {
    assert.throws(() => selectProxies(all, ['envoy']), /unknown proxy "envoy" \(known: nginx, haproxy/);
  });
});
