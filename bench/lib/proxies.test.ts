import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  allProxies,
  type BenchPaths,
  proxyPort,
  proxyUrl,
  type RunContext,
  selectProxies,
} from './proxies.ts';

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

  it("lists the peers, Node's floor, our two configurations, then the variants", () => {
    assert.deepEqual(
      all.map((p) => p.name),
      ['nginx', 'haproxy', 'caddy', 'node-net', 'ours', 'ours-10k', 'ours-mw'],
    );
    assert.deepEqual(
      all.filter((p) => p.ours).map((p) => p.name),
      ['ours', 'ours-10k', 'ours-mw'],
    );
  });

  it("runs Node's floor beside ours at full load and at a fixed rate, not in the other modes", () => {
    const names = (mode: Parameters<typeof allProxies>[1]) => allProxies([], mode).map((p) => p.name);
    assert.ok(names('latency').includes('node-net'));
    for (const mode of ['https', 'h2', 'ws'] as const) assert.ok(!names(mode).includes('node-net'), mode);
  });

  it('runs another checkout as <build>, and with each variant as <build>-<variant>', () => {
    const withBuild = allProxies([{ name: 'mw', config: '/cfg/mw.yaml' }], 'http', [
      { name: 'before', dir: '/old' },
    ]);
    const names = withBuild.map((p) => p.name);
    assert.deepEqual(names.slice(-2), ['before', 'before-mw']);
    const cmd = withBuild.find((p) => p.name === 'before-mw')!.command(ctx);
    assert.ok(cmd.args.includes('/old/bin/traffic.js'), cmd.args.join(' '));
    assert.ok(cmd.args.includes('/cfg/mw.yaml'), cmd.args.join(' '));
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
    const cmd = all[4]!.command(ctx);
    assert.equal(cmd.file, paths.nodePath);
    assert.equal(cmd.cwd, '/repo');
    assert.deepEqual(cmd.args, ['bin/traffic.js', '--config', 'bench/configs/bench.yaml']);
    assert.equal(cmd.env?.['TRAFFIC_PROVIDERS_FILE_FILENAME'], 'bench/configs/bench.yaml');
    assert.deepEqual(all[5]!.command(ctx).args.slice(-1), ['/tmp/tm-bench-x/ours-10k.yaml']);
    assert.deepEqual(all[6]!.command(ctx).args.slice(-1), ['/cfg/mw.yaml']);
  });

  it('adds --cpu-prof flags and the exit preload only to profiled runs', () => {
    const args = all[4]!.command({ ...ctx, profileName: 'ours-r1.cpuprofile' }).args;
    assert.ok(args.includes('--cpu-prof'));
    assert.ok(args.includes('--cpu-prof-dir=/repo/bench/results/profiles'));
    assert.ok(args.includes('--cpu-prof-name=ours-r1.cpuprofile'));
    assert.ok(args.some((a) => a.startsWith('--import=file:///repo/bench/lib/profile-exit.ts')));
    assert.deepEqual(args.slice(-3), ['bin/traffic.js', '--config', 'bench/configs/bench.yaml']);
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

describe('allProxies in the TLS modes', () => {
  const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  const tmpDir = mkdtempSync(join(tmpdir(), 'tm-bench-proxies-'));
  after(() => rmSync(tmpDir, { recursive: true, force: true }));
  const real: BenchPaths = { ...paths, repoRoot, peersDir: join(repoRoot, 'bench/peers'), tmpDir };
  const variantFile = join(tmpDir, 'mw.yaml');
  writeFileSync(variantFile, `tls: { certificates: [{ certFile: "\${BENCH_TLS_CERT}" }] }\n`);
  const all = allProxies([{ name: 'ours-mw', config: variantFile }], 'https');
  const cert = join(tmpDir, 'tls/cert.pem');
  const key = join(tmpDir, 'tls/key.pem');

  it('lists the peers, our TLS configuration and the variants, but not the 10k-router one', () => {
    assert.deepEqual(
      all.map((p) => p.name),
      ['nginx', 'haproxy', 'caddy', 'ours', 'ours-mw'],
    );
    assert.ok(all.every((p) => p.readinessUrl === 'https://127.0.0.1:8443/'));
    assert.equal(proxyUrl('h2'), 'https://127.0.0.1:8443/');
    assert.equal(proxyPort('handshake'), 8443);
    assert.equal(proxyPort('http'), 8080);
  });

  it('renders every config with the bench certificate’s paths and nothing left to fill', async () => {
    for (const p of all) await p.prepare?.(real);
    const read = (f: string) => readFileSync(join(tmpDir, f), 'utf8');
    for (const f of ['nginx-tls.conf', 'haproxy-tls.cfg', 'Caddyfile-tls', 'ours-tls.yaml']) {
      assert.doesNotMatch(read(f), /\$\{[A-Z_]+\}/, f);
    }
    assert.match(
      read('nginx-tls.conf'),
      new RegExp(`ssl_certificate ${cert};\\s+ssl_certificate_key ${key};`),
    );
    assert.match(
      read('haproxy-tls.cfg'),
      new RegExp(`crt ${join(tmpDir, 'tls/cert\\+key.pem')} alpn h2,http/1.1`),
    );
    assert.match(read('Caddyfile-tls'), new RegExp(`tls ${cert} ${key}`));
    assert.match(read('ours-tls.yaml'), new RegExp(`certFile: "${cert}", keyFile: "${key}"`));
    assert.match(read('variant-ours-mw-mw.yaml'), new RegExp(`certFile: "${cert}"`));
  });

  it('starts each proxy on its rendered config', () => {
    const tctx: RunContext = { paths: real, runDir: join(tmpDir, 'run'), profileName: undefined };
    const args = (name: string) => selectProxies(all, [name])[0]!.command(tctx).args;
    assert.ok(args('nginx').includes(join(tmpDir, 'nginx-tls.conf')));
    assert.ok(args('haproxy').includes(join(tmpDir, 'haproxy-tls.cfg')));
    assert.ok(args('caddy').includes(join(tmpDir, 'Caddyfile-tls')));
    assert.deepEqual(args('ours').slice(-2), ['--config', join(tmpDir, 'ours-tls.yaml')]);
    assert.deepEqual(args('ours-mw').slice(-1), [join(tmpDir, 'variant-ours-mw-mw.yaml')]);
  });
});

describe('allProxies in the gRPC mode', () => {
  const all = allProxies([{ name: 'ours-x', config: 'x.yaml' }], 'grpc');
  const ctx: RunContext = { paths, runDir: '/tmp/run', profileName: undefined };

  it('lists the peers, ours and the variants, each checked ready by a gRPC call', () => {
    assert.deepEqual(
      all.map((p) => p.name),
      ['nginx', 'haproxy', 'caddy', 'ours', 'ours-x'],
    );
    assert.ok(all.every((p) => p.readiness === 'grpc'));
    assert.ok(all.every((p) => p.readinessUrl === 'http://127.0.0.1:8080/bench.Echo/Unary'));
    assert.equal(proxyUrl('grpc'), 'http://127.0.0.1:8080/bench.Echo/Unary');
    assert.equal(proxyPort('grpc'), 8080);
  });

  it('starts each peer on its gRPC configuration', () => {
    const args = (name: string) => selectProxies(all, [name])[0]!.command(ctx).args.join(' ');
    assert.match(args('nginx'), /proxy-nginx-grpc\.conf/);
    assert.match(args('haproxy'), /haproxy-grpc\.cfg/);
    assert.match(args('caddy'), /Caddyfile-grpc/);
    assert.match(args('ours'), /--config bench\/configs\/bench-grpc\.yaml$/);
    const env = selectProxies(all, ['ours'])[0]!.command(ctx).env;
    assert.equal(env?.['TRAFFIC_PROVIDERS_FILE_FILENAME'], 'bench/configs/bench-grpc.yaml');
  });
});

describe('allProxies in the workers mode', () => {
  const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  const tmpDir = mkdtempSync(join(tmpdir(), 'tm-bench-workers-'));
  after(() => rmSync(tmpDir, { recursive: true, force: true }));
  const real: BenchPaths = { ...paths, repoRoot, peersDir: join(repoRoot, 'bench/peers'), tmpDir };
  const all = allProxies([{ name: 'v', config: '/cfg/v.yaml' }], 'workers', [
    { name: 'before', dir: '/old' },
  ]);
  const wctx: RunContext = { paths: real, runDir: join(tmpDir, 'run'), profileName: undefined };
  const cmd = (name: string) => selectProxies(all, [name])[0]!.command(wctx);

  it('lists every proxy with one and with two workers, then the variants and the builds', () => {
    assert.deepEqual(
      all.map((p) => p.name),
      [
        'nginx',
        'nginx-2',
        'haproxy',
        'haproxy-2',
        'caddy',
        'caddy-2',
        'ours',
        'ours-2',
        'v',
        'before',
        'before-2',
        'before-v',
      ],
    );
    assert.ok(all.every((p) => p.readinessUrl === 'http://127.0.0.1:8080/'));
    assert.equal(proxyUrl('workers'), 'http://127.0.0.1:8080/');
    assert.equal(proxyPort('workers'), 8080);
  });

  it('renders nginx-2 and haproxy-2 from the one-worker configs with only the worker count changed', async () => {
    for (const p of all) await p.prepare?.(real);
    const peer = (f: string) => readFileSync(join(real.peersDir, f), 'utf8');
    const copy = (f: string) => readFileSync(join(tmpDir, f), 'utf8');
    assert.equal(
      copy('nginx-2.conf'),
      peer('proxy-nginx.conf').replace('\nworker_processes 1;\n', '\nworker_processes 2;\n'),
    );
    assert.match(copy('nginx-2.conf'), /^worker_processes 2;$/m);
    assert.equal(copy('haproxy-2.cfg'), peer('haproxy.cfg').replace('\n  nbthread 1\n', '\n  nbthread 2\n'));
    assert.match(copy('haproxy-2.cfg'), /^ {2}nbthread 2$/m);
    assert.ok(cmd('nginx').args.includes(join(real.peersDir, 'proxy-nginx.conf')));
    assert.ok(cmd('nginx-2').args.includes(join(tmpDir, 'nginx-2.conf')));
    assert.deepEqual(cmd('haproxy').args, ['-db', '-f', join(real.peersDir, 'haproxy.cfg')]);
    assert.deepEqual(cmd('haproxy-2').args, ['-db', '-f', join(tmpDir, 'haproxy-2.cfg')]);
  });

  it('refuses to render a copy when the worker line is not in the config', async () => {
    const peersDir = join(tmpDir, 'peers');
    mkdirSync(peersDir);
    writeFileSync(join(peersDir, 'proxy-nginx.conf'), 'worker_processes auto;\n');
    const nginx2 = all.find((p) => p.name === 'nginx-2')!;
    await assert.rejects(nginx2.prepare!({ ...real, peersDir }), /proxy-nginx\.conf: no line/);
  });

  it('gives caddy one or two scheduler threads and ours one or two workers', () => {
    assert.equal(cmd('caddy').env?.['GOMAXPROCS'], '1');
    assert.equal(cmd('caddy-2').env?.['GOMAXPROCS'], '2');
    assert.deepEqual(cmd('ours').args, ['bin/traffic.js', '--config', 'bench/configs/bench-workers-1.yaml']);
    assert.deepEqual(cmd('ours-2').args.slice(-1), ['bench/configs/bench-workers-2.yaml']);
    assert.deepEqual(cmd('before').args, [
      '/old/bin/traffic.js',
      '--config',
      'bench/configs/bench-workers-1.yaml',
    ]);
    assert.deepEqual(cmd('before-2').args.slice(-2), ['--config', 'bench/configs/bench-workers-2.yaml']);
    assert.deepEqual(cmd('before-v').args, ['/old/bin/traffic.js', '--config', '/cfg/v.yaml']);
    assert.equal(cmd('before-v').env?.['TRAFFIC_PROVIDERS_FILE_FILENAME'], '/cfg/v.yaml');
    for (const n of [1, 2]) {
      const yaml = readFileSync(join(repoRoot, `bench/configs/bench-workers-${n}.yaml`), 'utf8');
      assert.match(yaml, new RegExp(`^workers: ${n}$`, 'm'));
    }
  });

  it('adds no <build>-2 in the other modes', () => {
    const names = allProxies([], 'http', [{ name: 'before', dir: '/old' }]).map((p) => p.name);
    assert.ok(!names.includes('before-2'), names.join(', '));
  });
});
