// `--mode overload`: each proxy under slow clients (issue 15 §2). Per run: the proxy starts pinned
// to the proxy CPU; a probe (bench/lib/overload-probe.ts) measures its latency unloaded; then an
// attacker (bench/lib/overload-attacker.ts: 2,000 slowloris connections and 200 slow POSTs, one
// byte per connection per second, reopened when cut) opens every connection and the probe
// measures again under attack; the attacker stops and the proxy's file descriptors must come
// back. RSS is sampled throughout. Both clients run pinned to the client CPU, each its own process.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLIENT_CPU, type MeasureContext, PROXY_CPU } from './measure.ts';
import { waitForHttp, waitPortFree } from './net-wait.ts';
import type { AttackReport, OverloadRecord, ProbeReport } from './overload-report.ts';
import { sampleTree } from './proc-tree.ts';
import type { ManagedProcess } from './process-group.ts';
import { PROXY_HOST, PROXY_PORT, type ProxySpec } from './proxies.ts';

export const SLOWLORIS = 2000;
export const SLOW_POSTS = 200;
const TRICKLE_MS = 1000;
/** The probe: a fixed rate well below any proxy's capacity, so latency is not queueing. */
const PROBE_RATE = 400;
const PROBE_CONNECTIONS = 4;
const URL = `http://${PROXY_HOST}:${PROXY_PORT}/`;

function fdsOf(pids: readonly number[]): number {
  let n = 0;
  for (const pid of pids) {
    try {
      n += readdirSync(`/proc/${pid}/fd`).length;
    } catch {}
  }
  return n;
}

function tail(path: string, lines: number): string {
  if (!existsSync(path)) return '';
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

function lastJson<T>(out: string, what: string): T {
  const line = out.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${what}: unrecognised output:\n${out}`);
  }
}

async function runProbe(ctx: MeasureContext, seconds: number): Promise<ProbeReport> {
  const p = ctx.supervisor.spawn(
    'overload-probe',
    'taskset',
    [
      '-c',
      String(CLIENT_CPU),
      ctx.paths.nodePath,
      join(ctx.paths.repoRoot, 'bench/lib/overload-probe.ts'),
      URL,
      String(seconds),
      String(PROBE_RATE),
      String(PROBE_CONNECTIONS),
    ],
    { output: { kind: 'capture' } },
  );
  const watchdog = setTimeout(() => p.signalGroup('SIGKILL'), (seconds + 30) * 1000);
  try {
    const exit = await p.exited;
    if (exit.code !== 0) throw new Error(`probe failed (${exit.signal ?? exit.code}): ${p.stderr.trim()}`);
    return lastJson<ProbeReport>(p.stdout, 'probe');
  } finally {
    clearTimeout(watchdog);
    await ctx.supervisor.stop(p, 1000);
  }
}

/** Starts the attacker and resolves once every connection is open (its `ready` line). */
async function startAttacker(ctx: MeasureContext): Promise<{ proc: ManagedProcess; open: number }> {
  const proc = ctx.supervisor.spawn(
    'overload-attacker',
    'taskset',
    [
      '-c',
      String(CLIENT_CPU),
      ctx.paths.nodePath,
      join(ctx.paths.repoRoot, 'bench/lib/overload-attacker.ts'),
      String(PROXY_PORT),
      String(SLOWLORIS),
      String(SLOW_POSTS),
      String(TRICKLE_MS),
    ],
    { output: { kind: 'capture' } },
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /^ready (.*)$/m.exec(proc.stdout);
    if (m !== null) return { proc, open: (JSON.parse(m[1]!) as { open: number }).open };
    if (proc.exitInfo !== undefined) throw new Error(`attacker exited: ${proc.stderr.trim()}`);
    if (Date.now() > deadline) throw new Error('attacker: connections not open after 60 s');
    await sleep(50);
  }
}

async function stopAttacker(ctx: MeasureContext, proc: ManagedProcess): Promise<AttackReport> {
  proc.signalGroup('SIGTERM');
  await Promise.race([proc.exited, sleep(10_000)]);
  await ctx.supervisor.stop(proc, 1000);
  return lastJson<AttackReport>(proc.stdout, 'attacker');
}

async function measure(
  ctx: MeasureContext,
  spec: ProxySpec,
  proxy: ManagedProcess,
  round: number,
  startedAt: string,
) {
  await waitForHttp(spec.readinessUrl, spec.readyTimeoutMs, proxy);
  const idle = sampleTree(proxy.pid);
  const { durationS, warmupS } = ctx.options;
  if (warmupS > 0) await runProbe(ctx, warmupS);
  const fdsBefore = fdsOf(sampleTree(proxy.pid).pids);
  let peakKb = 0;
  const sample = () => {
    peakKb = Math.max(peakKb, sampleTree(proxy.pid).rssKb);
  };
  const unloaded = await runProbe(ctx, durationS);
  const rssUnloadedKb = sampleTree(proxy.pid).rssKb;
  const { proc, open } = await startAttacker(ctx);
  const sampler = setInterval(sample, 200);
  let attacked: ProbeReport;
  let fdsAttack: number;
  try {
    attacked = await runProbe(ctx, durationS);
    fdsAttack = fdsOf(sampleTree(proxy.pid).pids);
    sample();
  } finally {
    clearInterval(sampler);
  }
  const attack = await stopAttacker(ctx, proc);
  // Every attacking connection is gone from the client side: the proxy must close its side too.
  let fdsAfter = fdsOf(sampleTree(proxy.pid).pids);
  for (let i = 0; i < 150 && fdsAfter > fdsBefore + 10; i++) {
    await sleep(100);
    fdsAfter = fdsOf(sampleTree(proxy.pid).pids);
  }
  if (proxy.exitInfo !== undefined) throw new Error(`${spec.name} exited during the run`);
  return {
    ok: true as const,
    name: spec.name,
    round,
    startedAt,
    unloaded,
    attacked,
    attack,
    attackOpen: open,
    rssIdleKb: idle.rssKb,
    rssUnloadedKb,
    rssAttackKb: peakKb,
    rssAfterKb: sampleTree(proxy.pid).rssKb,
    fdsBefore,
    fdsAttack,
    fdsAfter,
  };
}

/** One overload run of one proxy; a failure becomes a record with the proxy's log tail. */
export async function measureOverloadRun(
  ctx: MeasureContext,
  spec: ProxySpec,
  round: number,
): Promise<OverloadRecord> {
  const startedAt = new Date().toISOString();
  const runDir = await mkdtemp(join(ctx.paths.tmpDir, `${spec.name}-overload-r${round}-`));
  let proxy: ManagedProcess | undefined;
  let result: OverloadRecord;
  try {
    await waitPortFree(PROXY_HOST, PROXY_PORT, 10_000);
    const cmd = spec.command({ paths: ctx.paths, runDir, profileName: undefined });
    proxy = ctx.supervisor.spawn(spec.name, 'taskset', ['-c', String(PROXY_CPU), cmd.file, ...cmd.args], {
      ...(cmd.cwd === undefined ? {} : { cwd: cmd.cwd }),
      ...(cmd.env === undefined ? {} : { env: cmd.env }),
      output: { kind: 'file', path: join(runDir, 'proxy.log') },
    });
    result = await measure(ctx, spec, proxy, round, startedAt);
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    result = { ok: false, name: spec.name, round, startedAt, error, logTail: '' };
  }
  if (proxy) await ctx.supervisor.stop(proxy, 5000);
  if (!result.ok) return { ...result, logTail: tail(join(runDir, 'proxy.log'), 20) };
  return result;
}
