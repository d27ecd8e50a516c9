import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { PROFILE_TOP, parseCpuProfile, topSelfTime } from './cpu-profile.ts';
import { type GcWindow, gcStats, parseGcLog, processStartS, uptimeS } from './gc-trace.ts';
import { grpcH2loadArgs, missingReplies, waitForGrpc } from './grpc-mode.ts';
import { parseH2loadOutput, runH2load } from './h2load.ts';
import { parseHandshakeReport, runHandshakeClient } from './handshakes.ts';
import { parseLatencyReport } from './latency-report.ts';
import { errorTotal, loadStats } from './load-stats.ts';
import { type BenchMode, type CpuLayout, MODE_INFO, PINNED } from './modes.ts';
import { waitPortFree, waitReady } from './net-wait.ts';
import type { BenchOptions } from './options.ts';
import { sampleTree } from './proc-tree.ts';
import type { ManagedProcess, ProcessSupervisor } from './process-group.ts';
import {
  type BenchPaths,
  PROXY_HOST,
  type ProxyCommand,
  type ProxySpec,
  proxyPort,
  proxyUrl,
} from './proxies.ts';
import type { ClientOutput, ProfileSummary, RunOk, RunRecord } from './run-record.ts';
import { parseScriptReport, runScriptClient } from './script-client.ts';
import { type BenchCertificate, TLS_SERVERNAME } from './tls-cert.ts';
import { probeTls, type TlsFacts, tlsMismatch } from './tls-probe.ts';
import { parseWrkOutput, runWrk } from './wrk.ts';

/** The CPUs (a taskset list) of the proxy and its backend; of the client: see cpuLayout. */
export let PROXY_CPU = PINNED.proxy;
/** What `--mode tcp-bulk` carries through one connection: 1 GiB. */
const BULK_BYTES = 1 << 30;
export let CLIENT_CPU = PINNED.client;

/**
 * Sets the CPUs the next runs pin to (the runner re-pins itself and running backends). Unpinned
 * (`--spread`, `--mode workers`) is for workers, which a pinned run time-slices on one core: with
 * N workers the kernel can give each its own core, as a production machine with a core per
 * worker does (docs/benchmarking.md#workers).
 */
export function useCpuLayout(layout: CpuLayout): void {
  PROXY_CPU = layout.proxy;
  CLIENT_CPU = layout.client;
}
const RSS_SAMPLE_MS = 200;

export interface MeasureContext {
  readonly supervisor: ProcessSupervisor;
  readonly paths: BenchPaths;
  readonly options: BenchOptions;
  /** Clock ticks per second of /proc/<pid>/stat times (getconf CLK_TCK). */
  readonly clkTck: number;
  readonly backend: ManagedProcess;
  readonly mode: BenchMode;
  /** The certificate every proxy serves in a TLS mode; undefined in cleartext mode. */
  readonly certificate: BenchCertificate | undefined;
  /** `--mode latency`: the constant rate of the load, requests/s (half of nginx's maximum). */
  readonly rate?: number;
}

function tail(path: string, lines: number): string {
  if (!existsSync(path)) return '';
  const all = readFileSync(path, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** The last lines of every log the run wrote (stdout/stderr, and nginx's own error.log). */
function logTail(runDir: string): string {
  return ['proxy.log', 'error.log']
    .map((f) => [f, tail(join(runDir, f), 20)] as const)
    .filter(([, text]) => text !== '')
    .map(([f, text]) => `--- ${f} (last lines)\n${text}`)
    .join('\n');
}

function readProfile(ctx: MeasureContext, name: string): ProfileSummary {
  const path = join(ctx.paths.profileDir, name);
  if (!existsSync(path)) return { path, written: false, totalUs: 0, top: [] };
  const summary = topSelfTime(parseCpuProfile(readFileSync(path, 'utf8')), PROFILE_TOP);
  return { path, written: true, totalUs: summary.totalUs, top: summary.rows };
}

/** One client run against the proxy (the client pinned to CLIENT_CPU), parsed. */
async function load(ctx: MeasureContext, durationS: number, measured = false): Promise<ClientOutput> {
  const url = proxyUrl(ctx.mode);
  const { connections, streams } = ctx.options;
  switch (MODE_INFO[ctx.mode].client) {
    case 'wrk': {
      const headers = [...(ctx.mode === 'compress' ? ['Accept-Encoding: gzip'] : []), ...ctx.options.headers];
      const out = await runWrk(ctx.supervisor, { cpu: CLIENT_CPU, connections, durationS, url, headers });
      return { tool: 'wrk', result: parseWrkOutput(out) };
    }
    case 'h2load': {
      const extra = ctx.mode === 'grpc' ? grpcH2loadArgs(ctx.paths.tmpDir) : [];
      const out = await runH2load(ctx.supervisor, {
        cpu: CLIENT_CPU,
        connections,
        streams,
        durationS,
        url,
        extra,
      });
      return { tool: 'h2load', result: parseH2loadOutput(out) };
    }
    case 'handshake-client': {
      const out = await runHandshakeClient(ctx.supervisor, {
        cpu: CLIENT_CPU,
        nodePath: ctx.paths.nodePath,
        repoRoot: ctx.paths.repoRoot,
        host: PROXY_HOST,
        port: proxyPort(ctx.mode),
        servername: TLS_SERVERNAME,
        concurrency: connections,
        durationS,
      });
      return { tool: 'handshake-client', result: parseHandshakeReport(out) };
    }
    case 'l4-client': {
      // tcp-bulk: the measured run carries 1 GiB (bounded in time); the warm-up a tenth of it.
      const args =
        ctx.mode === 'tcp-bulk'
          ? [String(measured ? BULK_BYTES : BULK_BYTES / 8), String(Math.max(60, durationS * 6))]
          : [String(connections), String(durationS)];
      const out = await runScriptClient(ctx.supervisor, {
        cpu: CLIENT_CPU,
        nodePath: ctx.paths.nodePath,
        repoRoot: ctx.paths.repoRoot,
        script: 'bench/lib/l4-client.ts',
        args: [ctx.mode, PROXY_HOST, String(proxyPort(ctx.mode)), ...args],
        durationS: ctx.mode === 'tcp-bulk' ? Math.max(60, durationS * 6) : durationS,
      });
      return { tool: 'l4-client', result: parseScriptReport(out) };
    }
    case 'ws-client': {
      const out = await runScriptClient(ctx.supervisor, {
        cpu: CLIENT_CPU,
        nodePath: ctx.paths.nodePath,
        repoRoot: ctx.paths.repoRoot,
        script: 'bench/lib/ws-client.ts',
        args: [url.replace(/^http/, 'ws'), String(connections), String(durationS), '64'],
        durationS,
      });
      return { tool: 'ws-client', result: parseScriptReport(out) };
    }
    case 'latency-client': {
      if (ctx.rate === undefined) throw new Error('--mode latency: no rate to run at');
      const out = await runScriptClient(ctx.supervisor, {
        cpu: CLIENT_CPU,
        nodePath: ctx.paths.nodePath,
        repoRoot: ctx.paths.repoRoot,
        script: 'bench/lib/latency-client.ts',
        args: [
          PROXY_HOST,
          String(proxyPort(ctx.mode)),
          String(ctx.rate),
          String(connections),
          String(durationS),
          ...ctx.options.headers,
        ],
        durationS,
      });
      return { tool: 'latency-client', result: parseLatencyReport(out) };
    }
    case 'overload-clients':
      // Its own runner (bench/lib/overload.ts): two clients and phases, not one load run.
      throw new Error('--mode overload is measured by bench/lib/overload.ts');
  }
}

/** TLS modes: one handshake as the mode's client makes it; a wrong certificate or ALPN fails the run. */
async function checkTls(ctx: MeasureContext): Promise<TlsFacts | undefined> {
  const info = MODE_INFO[ctx.mode];
  if (!info.tls || ctx.certificate === undefined) return undefined;
  const facts = await probeTls({
    host: PROXY_HOST,
    port: proxyPort(ctx.mode),
    // h2load sends no SNI for an IP address; the handshake client sends `localhost`.
    servername: info.client === 'handshake-client' ? TLS_SERVERNAME : undefined,
    alpn: info.alpn,
    timeoutMs: 5000,
  });
  const problem = tlsMismatch(facts, ctx.certificate.fingerprint256, info.alpn);
  if (problem !== undefined) throw new Error(problem);
  return facts;
}

/**
 * `--gc`: our proxy (and its workers, which inherit Node's flags) with `--trace-gc`, Caddy with
 * `GODEBUG=gctrace=1`; the others have no GC (bench/lib/gc-trace.ts).
 */
function withGcTrace(spec: ProxySpec, cmd: ProxyCommand): ProxyCommand {
  if (spec.ours) return { ...cmd, args: ['--trace-gc', ...cmd.args] };
  if (cmd.file === 'caddy') return { ...cmd, env: { ...cmd.env, GODEBUG: 'gctrace=1' } };
  return cmd;
}

async function loadAndMeasure(
  ctx: MeasureContext,
  spec: ProxySpec,
  proxy: ManagedProcess,
  round: number,
  startedAt: string,
  gcWindow: { value?: GcWindow },
): Promise<RunOk> {
  if (spec.readiness === 'grpc') await waitForGrpc(spec.readinessUrl, spec.readyTimeoutMs, proxy);
  else await waitReady(spec.readinessUrl, spec.readyTimeoutMs, proxy, ctx.options.headers);
  const tls = await checkTls(ctx);
  const idle = sampleTree(proxy.pid);
  if (ctx.options.warmupS > 0) await load(ctx, ctx.options.warmupS);

  let loadRssKb = 0;
  const sampler = setInterval(() => {
    loadRssKb = Math.max(loadRssKb, sampleTree(proxy.pid).rssKb);
  }, RSS_SAMPLE_MS);
  const before = sampleTree(proxy.pid);
  const backendBefore = sampleTree(ctx.backend.pid);
  const fromS = uptimeS();
  let output: ClientOutput;
  try {
    output = await load(ctx, ctx.options.durationS, true);
  } finally {
    clearInterval(sampler);
  }
  const toS = uptimeS();
  const after = sampleTree(proxy.pid);
  if (ctx.options.gc) {
    // While the processes live: their start times place each GC line in or out of the window.
    const startS: Record<string, number> = {};
    for (const pid of after.pids) {
      const s = processStartS(pid, ctx.clkTck);
      if (s !== undefined) startS[String(pid)] = s;
    }
    gcWindow.value = { fromS, toS, startS, mainPid: proxy.pid };
  }
  const backendAfter = sampleTree(ctx.backend.pid);
  loadRssKb = Math.max(loadRssKb, after.rssKb);

  if (proxy.exitInfo !== undefined) throw new Error(`${spec.name} exited during the run`);
  let stats = loadStats(output);
  if (ctx.mode === 'grpc' && output.tool === 'h2load') {
    // A gRPC error is a 200 without the message: count those as errors, h2load does not.
    const missing = missingReplies(stats.completed, output.result.dataBytes);
    if (missing !== null) stats = { ...stats, errors: { ...stats.errors, grpcNoReply: missing } };
  }
  if (stats.completed === 0) {
    throw new Error(`${output.tool} completed nothing: ${JSON.stringify(output.result)}`);
  }
  const ticks = after.cpuTicks - before.cpuTicks;
  const usPerTick = 1e6 / ctx.clkTck;
  return {
    ok: true,
    name: spec.name,
    mode: ctx.mode,
    round,
    startedAt,
    load: stats,
    client: output,
    errorCount: errorTotal(stats),
    cpuTicks: ticks,
    cpuUsPerRequest: (ticks * usPerTick) / stats.completed,
    cpuBusy: (ticks * usPerTick) / (stats.durationS * 1e6),
    backendCpuUsPerRequest: ((backendAfter.cpuTicks - backendBefore.cpuTicks) * usPerTick) / stats.completed,
    idleRssKb: idle.rssKb,
    loadRssKb,
    pids: after.pids,
    ...(tls === undefined ? {} : { tls }),
  };
}

/**
 * One run: start the proxy pinned to PROXY_CPU, wait until it answers (TLS modes: check the
 * certificate and ALPN it negotiates), sample idle RSS, warm up, measure one client run, stop the proxy's process group. Never throws for a proxy's failure: that
 * becomes a RunFailed with the proxy's log tail.
 */
export async function measureRun(ctx: MeasureContext, spec: ProxySpec, round: number): Promise<RunRecord> {
  const startedAt = new Date().toISOString();
  const runDir = await mkdtemp(join(ctx.paths.tmpDir, `${spec.name}-r${round}-`));
  const profileName =
    ctx.options.profile && spec.ours ? `${spec.name}-r${round}-${Date.now()}.cpuprofile` : undefined;
  let proxy: ManagedProcess | undefined;
  let result: RunRecord;
  const gcWindow: { value?: GcWindow } = {};
  try {
    await waitPortFree(PROXY_HOST, proxyPort(ctx.mode), 10_000);
    const plain = spec.command({ paths: ctx.paths, runDir, profileName });
    const cmd = ctx.options.gc ? withGcTrace(spec, plain) : plain;
    proxy = ctx.supervisor.spawn(spec.name, 'taskset', ['-c', String(PROXY_CPU), cmd.file, ...cmd.args], {
      ...(cmd.cwd === undefined ? {} : { cwd: cmd.cwd }),
      ...(cmd.env === undefined ? {} : { env: cmd.env }),
      output: { kind: 'file', path: join(runDir, 'proxy.log') },
    });
    result = await loadAndMeasure(ctx, spec, proxy, round, startedAt, gcWindow);
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    result = { ok: false, name: spec.name, mode: ctx.mode, round, startedAt, error, logTail: '' };
  }
  // A profiled Node writes its (large) profile while exiting: give it time before SIGKILL.
  if (proxy) await ctx.supervisor.stop(proxy, profileName === undefined ? 5000 : 15_000);
  if (!result.ok) return { ...result, logTail: logTail(runDir) };
  if (gcWindow.value !== undefined) {
    // Read once the proxy has exited: V8 prints through stdio, which buffers when it is a file.
    const events = parseGcLog(readFileSync(join(runDir, 'proxy.log'), 'utf8'));
    const stats = gcStats(events, gcWindow.value);
    // No GC line at all in the log: a proxy without a collector (nginx, HAProxy), no GC numbers.
    if (events.length > 0) result = { ...result, gc: stats };
  }
  if (profileName === undefined) return result;
  return { ...result, profile: readProfile(ctx, profileName) };
}
