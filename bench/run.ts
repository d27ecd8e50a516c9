// The benchmark suite: our proxy side by side with nginx, HAProxy and Caddy on one machine.
// `npm run bench -- --help` for options; docs/benchmarking.md for what is measured and how.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  clockTicksPerSecond,
  commandExists,
  machine,
  pinSelf,
  pinTree,
  toolVersions,
} from './lib/environment.ts';
import { formatGcTable, summarizeGc } from './lib/gc-trace.ts';
import { GRPC_BACKEND_PORT, grpcBackendCommand, probeGrpc } from './lib/grpc-mode.ts';
import {
  formatLatencyRun,
  formatLatencySummary,
  P99_MARGIN_MS,
  summarizeLatency,
} from './lib/latency-report.ts';
import { CLIENT_CPU, type MeasureContext, measureRun, PROXY_CPU, useCpuLayout } from './lib/measure.ts';
import { type BenchMode, type CpuLayout, cpuLayout, isL4, MODE_INFO } from './lib/modes.ts';
import { portFree, waitForHttp, waitForTcp } from './lib/net-wait.ts';
import { type BenchOptions, parseOptions, USAGE } from './lib/options.ts';
import { measureOverloadRun } from './lib/overload.ts';
import {
  formatOverloadRun,
  formatOverloadSummary,
  type OverloadRecord,
  summarizeOverload,
} from './lib/overload-report.ts';
import { type ManagedProcess, ProcessSupervisor } from './lib/process-group.ts';
import {
  allProxies,
  BACKEND_URL,
  type BenchPaths,
  backendCommand,
  COMPRESS_BODY_BYTES,
  COMPRESS_PATH,
  L4_BACKEND_PORTS,
  PROXY_HOST,
  type ProxySpec,
  proxyPort,
  selectProxies,
  WS_BACKEND_PORT,
} from './lib/proxies.ts';
import { formatProfile, formatRun, formatSummary } from './lib/report.ts';
import type { RunRecord } from './lib/run-record.ts';
import { median, summarize } from './lib/summary.ts';
import { type BenchCertificate, generateBenchCertificate } from './lib/tls-cert.ts';
import { formatWorkersTable, pairWorkers } from './lib/workers-report.ts';

const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const RESULTS_DIR = join(REPO_ROOT, 'bench/results');
const BACKEND_PORT = Number(new URL(BACKEND_URL).port);
const PAUSE_BETWEEN_RUNS_MS = 1000;

class Fatal extends Error {}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/** Round r starts one proxy later than round r-1, so no proxy always runs first or right after another. */
function rotate<T>(items: readonly T[], by: number): T[] {
  const k = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** The executables a mode's client needs (the handshake client is our own Node script). */
const CLIENT_TOOLS: Readonly<Record<BenchMode, readonly string[]>> = {
  http: ['wrk'],
  https: ['wrk', 'openssl'],
  h2: ['h2load', 'openssl'],
  handshake: ['openssl'],
  ws: [],
  compress: ['wrk'],
  grpc: ['h2load'],
  'tcp-bulk': [],
  'tcp-conn': [],
  udp: [],
  overload: [],
  // wrk measures nginx's maximum rate first, unless --rate gives it (checkMachine).
  latency: [],
  workers: ['wrk'],
};

function checkMachine(plans: readonly ModePlan[], options: BenchOptions): void {
  if (availableParallelism() < 2)
    throw new Fatal('the bench pins the client to CPU 0 and the proxy to CPU 1: it needs 2 CPUs');
  const needed = new Set([
    'taskset',
    'nginx',
    ...plans.flatMap((p) => [...CLIENT_TOOLS[p.mode], ...p.proxies.flatMap((s) => s.requires)]),
    ...(plans.some((p) => p.mode === 'latency') && options.rate === undefined ? ['wrk'] : []),
  ]);
  const missing = [...needed].filter((c) => !commandExists(c));
  if (missing.length > 0) {
    throw new Fatal(
      `missing on PATH: ${missing.join(', ')} ` +
        '(Debian: apt-get install -y nginx haproxy caddy wrk nghttp2-client openssl)',
    );
  }
}

/** `n` bytes of JSON: an array of records (ids, names, flags, numbers), padded with spaces. */
function benchJson(n: number): string {
  const items: string[] = [];
  let size = 2;
  for (let i = 0; ; i++) {
    const item = JSON.stringify({
      id: i,
      name: `item-${i}`,
      active: i % 3 !== 0,
      score: (i * 7919) % 1000,
      tags: ['alpha', 'beta', 'gamma'].slice(0, (i % 3) + 1),
    });
    if (size + item.length + 1 > n) break;
    items.push(item);
    size += item.length + 1;
  }
  return `[${items.join(',')}]`.padEnd(n, ' ');
}

async function startBackend(supervisor: ProcessSupervisor, paths: BenchPaths): Promise<ManagedProcess> {
  const runDir = await mkdtemp(join(paths.tmpDir, 'backend-'));
  // `--mode compress` fetches this: 100 KB of JSON as APIs send it (nginx serves html/ under its prefix).
  // nginx's workers run as `nobody` when the bench runs as root: the file must be theirs to read.
  chmodSync(runDir, 0o755);
  mkdirSync(join(runDir, 'html'), { mode: 0o755 });
  writeFileSync(join(runDir, 'html', COMPRESS_PATH.slice(1)), benchJson(COMPRESS_BODY_BYTES), {
    mode: 0o644,
  });
  const cmd = backendCommand({ paths, runDir, profileName: undefined });
  const backend = supervisor.spawn('backend', 'taskset', ['-c', String(PROXY_CPU), cmd.file, ...cmd.args], {
    output: { kind: 'file', path: join(runDir, 'proxy.log') },
  });
  try {
    await waitForHttp(`${BACKEND_URL}/`, 10_000, backend);
  } catch (err) {
    throw new Fatal(`backend nginx: ${err instanceof Error ? err.message : String(err)} (logs in ${runDir})`);
  }
  return backend;
}

/** `--mode ws`: the WebSocket echo server, pinned beside the proxies as the nginx backend is. */
async function startWsBackend(supervisor: ProcessSupervisor, paths: BenchPaths): Promise<ManagedProcess> {
  const runDir = await mkdtemp(join(paths.tmpDir, 'ws-backend-'));
  const script = join(paths.repoRoot, 'bench/lib/ws-echo-server.ts');
  const backend = supervisor.spawn(
    'ws-backend',
    'taskset',
    ['-c', String(PROXY_CPU), paths.nodePath, script, String(WS_BACKEND_PORT)],
    { output: { kind: 'file', path: join(runDir, 'proxy.log') } },
  );
  try {
    await waitForHttp(`http://127.0.0.1:${WS_BACKEND_PORT}/`, 10_000, backend);
  } catch (err) {
    throw new Fatal(`ws backend: ${err instanceof Error ? err.message : String(err)} (logs in ${runDir})`);
  }
  return backend;
}

/** `--mode grpc`: the Node h2c backend, pinned like the nginx one. */
async function startGrpcBackend(supervisor: ProcessSupervisor, paths: BenchPaths): Promise<ManagedProcess> {
  const runDir = await mkdtemp(join(paths.tmpDir, 'grpc-backend-'));
  const cmd = grpcBackendCommand(paths);
  const backend = supervisor.spawn(
    'grpc-backend',
    'taskset',
    ['-c', String(PROXY_CPU), cmd.file, ...cmd.args],
    {
      ...(cmd.cwd === undefined ? {} : { cwd: cmd.cwd }),
      output: { kind: 'file', path: join(runDir, 'proxy.log') },
    },
  );
  const url = `http://${PROXY_HOST}:${GRPC_BACKEND_PORT}/bench.Echo/Unary`;
  const deadline = Date.now() + 10_000;
  let last: string | undefined = 'not tried';
  while (Date.now() < deadline && backend.exitInfo === undefined) {
    last = await probeGrpc(url, 1000);
    if (last === undefined) return backend;
    await sleep(100);
  }
  throw new Fatal(`gRPC backend: not answering ${url} (${last}; logs in ${runDir})`);
}

/** The layer-4 modes: TCP echo, TCP byte sink, UDP echo (bench/lib/l4-backend.ts), pinned beside the proxies. */
async function startL4Backend(supervisor: ProcessSupervisor, paths: BenchPaths): Promise<ManagedProcess> {
  const runDir = await mkdtemp(join(paths.tmpDir, 'l4-backend-'));
  const script = join(paths.repoRoot, 'bench/lib/l4-backend.ts');
  const backend = supervisor.spawn(
    'l4-backend',
    'taskset',
    ['-c', String(PROXY_CPU), paths.nodePath, script, ...L4_BACKEND_PORTS.map(String)],
    { output: { kind: 'file', path: join(runDir, 'proxy.log') } },
  );
  try {
    await waitForTcp(PROXY_HOST, L4_BACKEND_PORTS[0], 10_000, backend);
  } catch (err) {
    throw new Fatal(`l4 backend: ${err instanceof Error ? err.message : String(err)} (logs in ${runDir})`);
  }
  return backend;
}

interface Results {
  readonly startedAt: string;
  readonly mode: BenchMode;
  readonly options: BenchOptions;
  readonly node: NodeJS.ProcessVersions;
  readonly nodePath: string;
  readonly machine: Record<string, unknown>;
  readonly tools: Record<string, string>;
  readonly clkTck: number;
  readonly cpus: { readonly proxyAndBackend: string; readonly wrk: string };
  readonly proxies: readonly string[];
  /** TLS modes: the one certificate every proxy served (ECDSA P-256, generated by openssl). */
  readonly certificate?: { readonly type: string; readonly fingerprint256: string };
}

/** One mode's proxies, chosen and checked before anything starts. */
interface ModePlan {
  readonly mode: BenchMode;
  readonly proxies: readonly ProxySpec[];
}

/**
 * Pins the next runs, the runner and the running backends to a mode's CPUs; nothing to do when
 * they already are (every mode but `workers`, unless --spread).
 */
function applyCpuLayout(layout: CpuLayout, backends: readonly (ManagedProcess | undefined)[]): void {
  if (layout.proxy === PROXY_CPU && layout.client === CLIENT_CPU) return;
  useCpuLayout(layout);
  pinSelf(layout.client);
  for (const backend of backends) {
    if (backend === undefined) continue;
    const stuck = pinTree(backend.pid, layout.proxy);
    if (stuck.length > 0)
      throw new Fatal(
        `taskset could not move the ${backend.name} (pids ${stuck.join(', ')}) to CPU ${layout.proxy}`,
      );
  }
}

function saveResults(header: Results, runs: readonly RunRecord[], interrupted: boolean): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  // The cleartext run keeps its historical name; the other modes add theirs.
  const suffix = header.mode === 'http' ? '' : `-${header.mode}`;
  const file = join(RESULTS_DIR, `${header.startedAt.replaceAll(':', '-')}${suffix}.json`);
  const summary = summarize(header.proxies, runs);
  const body = {
    ...header,
    finishedAt: new Date().toISOString(),
    interrupted,
    summary,
    ...(header.mode === 'workers' ? { workers: pairWorkers(summary) } : {}),
    runs,
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}

async function main(argv: readonly string[]): Promise<number> {
  // `npm run bench -- providers`: change → route latency and RSS per provider (bench/providers.ts).
  if (argv[0] === 'providers') return (await import('./providers.ts')).runProviderBench(argv.slice(1));
  let options: BenchOptions;
  let plans: ModePlan[];
  try {
    options = parseOptions(argv);
    const { variants, builds, only, nginxVariants } = options;
    plans = options.modes.map((mode) => {
      try {
        return { mode, proxies: selectProxies(allProxies(variants, mode, builds, nginxVariants), only) };
      } catch (err) {
        throw new Error(`--mode ${mode}: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  checkMachine(plans, options);
  // The first mode's CPUs; each mode then moves the runner and the backends to its own.
  // Counted once, before the runner pins itself: availableParallelism() is this process's
  // affinity, 1 once a pinned mode has run, which would put an unpinned mode on one CPU.
  const cpuCount = availableParallelism();
  const layoutOf = (mode: BenchMode) => cpuLayout(mode, options.spread, cpuCount);
  useCpuLayout(layoutOf(plans[0]!.mode));

  const supervisor = new ProcessSupervisor();
  const tmpDir = mkdtempSync(join(tmpdir(), 'tm-bench-'));
  // nginx workers drop root privileges and must still reach their run dirs.
  chmodSync(tmpDir, 0o755);
  // What a signal saves: the mode in progress and its finished runs.
  let current: { header: Results; runs: RunRecord[] } | undefined;
  process.on('exit', () => {
    supervisor.killAllSync();
    rmSync(tmpDir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      supervisor.killAllSync();
      const saved =
        current !== undefined && current.runs.length > 0
          ? `; ${current.runs.length} runs saved to ${saveResults(current.header, current.runs, true)}`
          : '';
      console.error(`\n${signal}: stopped every process the bench started${saved}`);
      process.exit(130);
    });
  }
  pinSelf(CLIENT_CPU);

  const paths: BenchPaths = {
    repoRoot: REPO_ROOT,
    peersDir: join(REPO_ROOT, 'bench/peers'),
    tmpDir,
    nodePath: process.execPath,
    profileDir: join(RESULTS_DIR, 'profiles'),
  };
  if (options.profile) mkdirSync(paths.profileDir, { recursive: true });

  const machineInfo = machine();
  const tools = toolVersions();
  const clkTck = clockTicksPerSecond();
  console.log(`node ${process.versions.node} (${process.execPath}) on ${machineInfo['cpuModel']}`);
  for (const [tool, version] of Object.entries(tools)) console.log(`${tool}: ${version}`);

  const ports = new Map<number, string>([[BACKEND_PORT, 'backend']]);
  // Two backends of one run on one port would make the second fail to bind: a bug of ours.
  const claim = (port: number, what: string): void => {
    const owner = ports.get(port);
    if (owner !== undefined && owner !== what)
      throw new Fatal(`port ${port}: both the ${owner} and the ${what}`);
    ports.set(port, what);
  };
  for (const { mode } of plans) claim(proxyPort(mode), 'proxy');
  if (plans.some((p) => p.mode === 'ws')) claim(WS_BACKEND_PORT, 'WebSocket backend');
  if (plans.some((p) => p.mode === 'grpc')) claim(GRPC_BACKEND_PORT, 'gRPC backend');
  if (plans.some((p) => isL4(p.mode))) for (const p of L4_BACKEND_PORTS) claim(p, 'layer-4 backend');
  for (const [port, what] of ports) {
    if (!(await portFree(PROXY_HOST, port))) {
      throw new Fatal(`${PROXY_HOST}:${port} (the ${what} port) is already in use by another process`);
    }
  }
  const certificate: BenchCertificate | undefined = plans.some((p) => MODE_INFO[p.mode].tls)
    ? generateBenchCertificate(tmpDir)
    : undefined;
  if (certificate) console.log(`certificate: ECDSA P-256, sha256 ${certificate.fingerprint256}`);
  for (const plan of plans) for (const p of plan.proxies) await p.prepare?.(paths);
  const backend = await startBackend(supervisor, paths);
  const wsBackend = plans.some((p) => p.mode === 'ws') ? await startWsBackend(supervisor, paths) : undefined;
  const grpcBackend = plans.some((p) => p.mode === 'grpc')
    ? await startGrpcBackend(supervisor, paths)
    : undefined;
  const l4Backend = plans.some((p) => isL4(p.mode)) ? await startL4Backend(supervisor, paths) : undefined;

  let allOk = true;
  for (const { mode, proxies } of plans) {
    applyCpuLayout(layoutOf(mode), [backend, wsBackend, grpcBackend, l4Backend]);
    const header: Results = {
      startedAt: new Date().toISOString(),
      mode,
      options,
      node: process.versions,
      nodePath: process.execPath,
      machine: { ...machineInfo, loadavg: machine()['loadavg'] },
      tools,
      clkTck,
      cpus: { proxyAndBackend: PROXY_CPU, wrk: CLIENT_CPU },
      proxies: proxies.map((p) => p.name),
      ...(MODE_INFO[mode].tls && certificate
        ? { certificate: { type: 'ECDSA P-256', fingerprint256: certificate.fingerprint256 } }
        : {}),
    };
    const runs: RunRecord[] = [];
    current = { header, runs };
    const ctx: MeasureContext = {
      supervisor,
      paths,
      options,
      clkTck,
      backend:
        mode === 'ws' && wsBackend !== undefined
          ? wsBackend
          : mode === 'grpc' && grpcBackend !== undefined
            ? grpcBackend
            : isL4(mode) && l4Backend !== undefined
              ? l4Backend
              : backend,
      mode,
      certificate: MODE_INFO[mode].tls ? certificate : undefined,
    };
    allOk = (await runMode(ctx, proxies, header, runs)) && allOk;
  }
  current = undefined;
  await supervisor.stop(backend);
  if (wsBackend !== undefined) await supervisor.stop(wsBackend);
  if (grpcBackend !== undefined) await supervisor.stop(grpcBackend);
  if (l4Backend !== undefined) await supervisor.stop(l4Backend);
  return allOk ? 0 : 1;
}

/** `--gc`: the GC table under a mode's summary (bench/lib/gc-trace.ts says what counts). */
function printGcTable(names: readonly string[], runs: readonly RunRecord[], rounds: number): void {
  console.log(
    `\n--gc: garbage collection in the measured window, medians over ${rounds} rounds (pauses: V8's, Go's ` +
      "stop-the-world phases; in GC: the serving thread's time in GC, per process)",
  );
  console.log(formatGcTable(summarizeGc(names, runs)));
}

/** Every round of one mode, its table and its results file; false when a run failed. */
async function runMode(
  ctx: MeasureContext,
  proxies: readonly ProxySpec[],
  header: Results,
  runs: RunRecord[],
): Promise<boolean> {
  if (ctx.mode === 'overload') return runOverloadMode(ctx, proxies, header);
  if (ctx.mode === 'latency') return runLatencyMode(ctx, proxies, header);
  const { rounds, durationS, warmupS, connections, streams } = ctx.options;
  const { mode, backend } = ctx;
  const load =
    mode === 'h2' || mode === 'grpc'
      ? `${connections} connections × ${streams} streams`
      : `${connections} connections`;
  console.log(
    `\n--mode ${mode}: ${MODE_INFO[mode].describe}\n` +
      `${header.proxies.join(', ')}: ${rounds} rounds × ${durationS}s (+${warmupS}s warm-up), ` +
      `${load}; proxy+backend on CPU ${PROXY_CPU}, client on CPU ${CLIENT_CPU}\n`,
  );
  for (let round = 1; round <= rounds; round++) {
    for (const spec of rotate(proxies, round - 1)) {
      if (backend.exitInfo !== undefined) throw new Fatal(`the backend (${backend.name}) exited; stopping`);
      const record = await measureRun(ctx, spec, round);
      runs.push(record);
      console.log(formatRun(record));
      if (!record.ok && record.logTail !== '') console.log(indent(record.logTail));
      if (record.ok && record.profile) console.log(indent(formatProfile(record.profile, REPO_ROOT)));
      await sleep(PAUSE_BETWEEN_RUNS_MS);
    }
  }
  const unit = MODE_INFO[mode].unit;
  const per =
    unit === 'hs'
      ? 'handshake'
      : unit === 'msg'
        ? 'message'
        : unit === 'MiB'
          ? 'MiB'
          : unit === 'conn'
            ? 'connection'
            : unit === 'dgram'
              ? 'datagram round trip'
              : 'request';
  console.log(
    `\n--mode ${mode}: medians over ${rounds} rounds (vs nginx / vs caddy: CPU per ${per}, higher is better)`,
  );
  const summary = summarize(header.proxies, runs);
  console.log(formatSummary(summary, mode));
  if (mode === 'workers') {
    console.log(
      `\n--mode workers: one worker (1) vs two (2), medians over ${rounds} rounds ` +
        '(cpu 2 vs 1: CPU per request of two workers against one, + costs more; req/s 2 vs 1: throughput ratio)',
    );
    console.log(formatWorkersTable(pairWorkers(summary)));
  }
  if (ctx.options.gc) printGcTable(header.proxies, runs, rounds);
  console.log(`\nsaved ${saveResults(header, runs, false)}`);
  return runs.every((r) => r.ok);
}

/** `--mode overload`: every round of every proxy, its own table and results file. */
async function runOverloadMode(
  ctx: MeasureContext,
  proxies: readonly ProxySpec[],
  header: Results,
): Promise<boolean> {
  const { rounds, durationS, warmupS } = ctx.options;
  console.log(
    `\n--mode overload: ${MODE_INFO.overload.describe}\n` +
      `${header.proxies.join(', ')}: ${rounds} rounds × (${warmupS}s warm-up + ${durationS}s unloaded + ` +
      `${durationS}s under attack); proxy+backend on CPU ${PROXY_CPU}, probe and attacker on CPU ${CLIENT_CPU}\n`,
  );
  const runs: OverloadRecord[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const spec of rotate(proxies, round - 1)) {
      if (ctx.backend.exitInfo !== undefined) throw new Fatal('the backend nginx exited; stopping');
      const record = await measureOverloadRun(ctx, spec, round);
      runs.push(record);
      console.log(formatOverloadRun(record));
      if (!record.ok && record.logTail !== '') console.log(indent(record.logTail));
      await sleep(PAUSE_BETWEEN_RUNS_MS);
    }
  }
  console.log(
    `\n--mode overload: medians over ${rounds} rounds (p99 of the probe unloaded and under attack, their ratio; RSS of the proxy)`,
  );
  const summary = summarizeOverload(header.proxies, runs);
  console.log(formatOverloadSummary(summary));
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${header.startedAt.replaceAll(':', '-')}-overload.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ ...header, finishedAt: new Date().toISOString(), summary, runs }, null, 2)}\n`,
  );
  console.log(`\nsaved ${file}`);
  return runs.every((r) => r.ok);
}

/**
 * `--mode latency` (issue 15 §3): nginx's maximum rate (wrk, as `--mode http`, median of the
 * rounds; or `--rate`), then every proxy in interleaved rounds under a constant load at half of
 * it (bench/lib/latency-client.ts), and the table comparing each p99 with nginx's.
 */
async function runLatencyMode(
  ctx: MeasureContext,
  proxies: readonly ProxySpec[],
  header: Results,
): Promise<boolean> {
  const { rounds, durationS, warmupS, connections, variants, builds, nginxVariants } = ctx.options;
  const maxRuns: RunRecord[] = [];
  let nginxMax = ctx.options.rate;
  if (nginxMax === undefined) {
    const nginx = allProxies(variants, 'http', builds, nginxVariants).find((p) => p.name === 'nginx')!;
    console.log(
      `
--mode latency: nginx's maximum rate first (wrk -t1 -c${connections}, as --mode http), ` +
        `${rounds} rounds × ${durationS}s (+${warmupS}s warm-up)
`,
    );
    const httpCtx: MeasureContext = { ...ctx, mode: 'http' };
    for (let round = 1; round <= rounds; round++) {
      if (ctx.backend.exitInfo !== undefined) throw new Fatal('the backend nginx exited; stopping');
      const record = await measureRun(httpCtx, nginx, round);
      maxRuns.push(record);
      console.log(formatRun(record));
      if (!record.ok && record.logTail !== '') console.log(indent(record.logTail));
      await sleep(PAUSE_BETWEEN_RUNS_MS);
    }
    nginxMax = median(maxRuns.flatMap((r) => (r.ok ? [r.load.perSecond] : []))) ?? undefined;
    if (nginxMax === undefined) throw new Fatal("--mode latency: no run measured nginx's maximum rate");
  }
  const rate = Math.floor(nginxMax / 2);
  const { rateScale } = ctx.options;
  for (const name of rateScale.keys()) {
    if (!proxies.some((p) => p.name === name))
      throw new Fatal(`--rate-scale ${name}: no such proxy in this run`);
  }
  /** A proxy's constant rate: the common one, times its --rate-scale factor. */
  const rateOf = (name: string) => Math.floor(rate * (rateScale.get(name) ?? 1));
  const scaled = [...rateScale].map(([name, f]) => `${name} at ${f}× (${rateOf(name)} req/s)`);
  console.log(
    `
--mode latency: ${MODE_INFO.latency.describe}
` +
      `nginx's maximum ${Math.round(nginxMax)} req/s (${ctx.options.rate === undefined ? 'median of the wrk runs' : '--rate'}) ` +
      `→ ${rate} req/s over ${connections} connections${scaled.length > 0 ? `; ${scaled.join(', ')}` : ''}
` +
      `${header.proxies.join(', ')}: ${rounds} rounds × ${durationS}s (+${warmupS}s warm-up); ` +
      `proxy+backend on CPU ${PROXY_CPU}, client on CPU ${CLIENT_CPU}
`,
  );
  const runs: RunRecord[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const spec of rotate(proxies, round - 1)) {
      if (ctx.backend.exitInfo !== undefined) throw new Fatal('the backend nginx exited; stopping');
      const record = await measureRun({ ...ctx, rate: rateOf(spec.name) }, spec, round);
      runs.push(record);
      console.log(formatLatencyRun(record, rateOf(spec.name)));
      if (!record.ok && record.logTail !== '') console.log(indent(record.logTail));
      if (record.ok && record.profile) console.log(indent(formatProfile(record.profile, REPO_ROOT)));
      await sleep(PAUSE_BETWEEN_RUNS_MS);
    }
  }
  const summary = summarizeLatency(header.proxies, runs);
  console.log(
    `
--mode latency: medians over ${rounds} rounds at ${rate} req/s (target: p99 ≤ nginx's p99 + ${P99_MARGIN_MS} ms; ` +
      'late p99: how late the client itself sent, ms)',
  );
  console.log(formatLatencySummary(summary, rateOf));
  if (ctx.options.gc) printGcTable(header.proxies, runs, rounds);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${header.startedAt.replaceAll(':', '-')}-latency.json`);
  const body = {
    ...header,
    finishedAt: new Date().toISOString(),
    nginxMaxRate: nginxMax,
    nginxMaxFrom: ctx.options.rate === undefined ? 'wrk' : '--rate',
    rate,
    rates: Object.fromEntries(proxies.map((p) => [p.name, rateOf(p.name)])),
    summary,
    nginxMaxRuns: maxRuns,
    runs,
  };
  writeFileSync(
    file,
    `${JSON.stringify(body, null, 2)}
`,
  );
  console.log(`
saved ${file}`);
  return [...maxRuns, ...runs].every((r) => r.ok);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Fatal ? `bench: ${err.message}` : err);
    process.exit(1);
  },
);
