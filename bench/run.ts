// The benchmark suite: our proxy side by side with nginx, HAProxy and Caddy on one machine.
// `npm run bench -- --help` for options; docs/benchmarking.md for what is measured and how.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { clockTicksPerSecond, commandExists, machine, pinSelf, toolVersions } from './lib/environment.ts';
import { CLIENT_CPU, type MeasureContext, measureRun, PROXY_CPU } from './lib/measure.ts';
import { portFree, waitForHttp } from './lib/net-wait.ts';
import { type BenchOptions, parseOptions, USAGE } from './lib/options.ts';
import { type ManagedProcess, ProcessSupervisor } from './lib/process-group.ts';
import {
  allProxies,
  BACKEND_URL,
  type BenchPaths,
  backendCommand,
  PROXY_HOST,
  PROXY_PORT,
  type ProxySpec,
  selectProxies,
} from './lib/proxies.ts';
import { formatProfile, formatRun, formatSummary } from './lib/report.ts';
import type { RunRecord } from './lib/run-record.ts';
import { summarize } from './lib/summary.ts';

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

function checkMachine(proxies: readonly ProxySpec[]): void {
  if (availableParallelism() < 2)
    throw new Fatal('the bench pins wrk to CPU 0 and the proxy to CPU 1: it needs 2 CPUs');
  const needed = new Set(['taskset', 'wrk', 'nginx', ...proxies.flatMap((p) => p.requires)]);
  const missing = [...needed].filter((c) => !commandExists(c));
  if (missing.length > 0) {
    throw new Fatal(
      `missing on PATH: ${missing.join(', ')} (Debian: apt-get install -y nginx haproxy caddy wrk)`,
    );
  }
}

async function startBackend(supervisor: ProcessSupervisor, paths: BenchPaths): Promise<ManagedProcess> {
  const runDir = await mkdtemp(join(paths.tmpDir, 'backend-'));
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

interface Results {
  readonly startedAt: string;
  readonly options: BenchOptions;
  readonly node: NodeJS.ProcessVersions;
  readonly nodePath: string;
  readonly machine: Record<string, unknown>;
  readonly tools: Record<string, string>;
  readonly clkTck: number;
  readonly cpus: { readonly proxyAndBackend: number; readonly wrk: number };
  readonly proxies: readonly string[];
}

function saveResults(header: Results, runs: readonly RunRecord[], interrupted: boolean): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${header.startedAt.replaceAll(':', '-')}.json`);
  const body = {
    ...header,
    finishedAt: new Date().toISOString(),
    interrupted,
    summary: summarize(header.proxies, runs),
    runs,
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}

async function main(argv: readonly string[]): Promise<number> {
  let options: BenchOptions;
  let proxies: ProxySpec[];
  try {
    options = parseOptions(argv);
    proxies = selectProxies(allProxies(options.variants), options.only);
  } catch (err) {
    console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  checkMachine(proxies);

  const supervisor = new ProcessSupervisor();
  const tmpDir = mkdtempSync(join(tmpdir(), 'tm-bench-'));
  // nginx workers drop root privileges and must still reach their run dirs.
  chmodSync(tmpDir, 0o755);
  const runs: RunRecord[] = [];
  const header: Results = {
    startedAt: new Date().toISOString(),
    options,
    node: process.versions,
    nodePath: process.execPath,
    machine: machine(),
    tools: toolVersions(),
    clkTck: clockTicksPerSecond(),
    cpus: { proxyAndBackend: PROXY_CPU, wrk: CLIENT_CPU },
    proxies: proxies.map((p) => p.name),
  };
  process.on('exit', () => {
    supervisor.killAllSync();
    rmSync(tmpDir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      supervisor.killAllSync();
      const saved =
        runs.length > 0 ? `; ${runs.length} runs saved to ${saveResults(header, runs, true)}` : '';
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

  const { rounds, durationS, warmupS, connections } = options;
  console.log(`node ${process.versions.node} (${process.execPath}) on ${header.machine['cpuModel']}`);
  for (const [tool, version] of Object.entries(header.tools)) console.log(`${tool}: ${version}`);
  console.log(
    `${proxies.map((p) => p.name).join(', ')}: ${rounds} rounds × ${durationS}s (+${warmupS}s warm-up), ` +
      `${connections} connections; proxy+backend on CPU ${PROXY_CPU}, wrk on CPU ${CLIENT_CPU}\n`,
  );

  for (const [port, what] of [
    [PROXY_PORT, 'proxy'],
    [BACKEND_PORT, 'backend'],
  ] as const) {
    if (!(await portFree(PROXY_HOST, port))) {
      throw new Fatal(`${PROXY_HOST}:${port} (the ${what} port) is already in use by another process`);
    }
  }
  for (const p of proxies) await p.prepare?.(paths);
  const backend = await startBackend(supervisor, paths);
  const ctx: MeasureContext = {
    supervisor,
    paths,
    options,
    clkTck: header.clkTck,
    backend,
  };

  for (let round = 1; round <= rounds; round++) {
    for (const spec of rotate(proxies, round - 1)) {
      if (backend.exitInfo !== undefined) throw new Fatal('the backend nginx exited; stopping');
      const record = await measureRun(ctx, spec, round);
      runs.push(record);
      console.log(formatRun(record));
      if (!record.ok && record.logTail !== '') console.log(indent(record.logTail));
      if (record.ok && record.profile) console.log(indent(formatProfile(record.profile, REPO_ROOT)));
      await sleep(PAUSE_BETWEEN_RUNS_MS);
    }
  }
  await supervisor.stop(backend);

  console.log(`\nmedians over ${rounds} rounds (vs nginx / vs caddy: CPU per request, higher is better)`);
  console.log(formatSummary(summarize(header.proxies, runs)));
  console.log(`\nsaved ${saveResults(header, runs, false)}`);
  return runs.every((r) => r.ok) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Fatal ? `bench: ${err.message}` : err);
    process.exit(1);
  },
);
