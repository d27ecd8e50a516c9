import type { ProcessSupervisor } from './process-group.ts';

/** What one wrk run reported (wrk 4.x text output with --latency). */
export interface WrkResult {
  readonly requests: number;
  readonly durationS: number;
  readonly rps: number;
  readonly latencyMs: {
    readonly p50: number;
    readonly p75: number;
    readonly p90: number;
    readonly p99: number;
  };
  readonly errors: {
    /** wrk's "Non-2xx or 3xx responses" (status >= 400). */
    readonly non2xx: number;
    readonly connect: number;
    readonly read: number;
    readonly write: number;
    readonly timeout: number;
  };
}

const TIME_UNITS_MS: Readonly<Record<string, number>> = {
  us: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** wrk's time format ("510.00us", "1.01ms", "10.00s", "1.00m") in milliseconds. */
export function parseWrkTimeMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  const scale = m ? TIME_UNITS_MS[m[2]!] : undefined;
  if (!m || scale === undefined) throw new Error(`unrecognised wrk time "${text}"`);
  // Divide for µs: 409 * 0.001 is 0.40900000000000003, 409 / 1000 is 0.409.
  return m[2] === 'us' ? Number(m[1]) / 1000 : Number(m[1]) * scale;
}

function percentile(out: string, p: string): number {
  const m = new RegExp(`^\\s*${p}%\\s+(\\S+)\\s*$`, 'm').exec(out);
  if (!m) throw new Error(`wrk output has no ${p}% latency line (was --latency passed?)`);
  return parseWrkTimeMs(m[1]!);
}

export function parseWrkOutput(out: string): WrkResult {
  const total = /^\s*(\d+) requests in (\S+),/m.exec(out);
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  if (!total || !rps) throw new Error(`unrecognised wrk output:\n${out}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    requests: Number(total[1]),
    durationS: parseWrkTimeMs(total[2]!) / 1000,
    rps: Number(rps[1]),
    latencyMs: {
      p50: percentile(out, '50'),
      p75: percentile(out, '75'),
      p90: percentile(out, '90'),
      p99: percentile(out, '99'),
    },
    errors: {
      non2xx: non2xx ? Number(non2xx[1]) : 0,
      connect: socket ? Number(socket[1]) : 0,
      read: socket ? Number(socket[2]) : 0,
      write: socket ? Number(socket[3]) : 0,
      timeout: socket ? Number(socket[4]) : 0,
    },
  };
}

export function totalErrors(r: WrkResult): number {
  const e = r.errors;
  return e.non2xx + e.connect + e.read + e.write + e.timeout;
}

export interface WrkRun {
  readonly cpu: string;
  readonly connections: number;
  readonly durationS: number;
  readonly url: string;
  /** Request header lines (`Name: value`), one `-H` each. */
  readonly headers?: readonly string[];
}

/**
 * Runs `taskset -c <cpu> wrk -t1 ...` and returns its stdout. wrk stops itself after the
 * duration; the watchdog only exists so that a wedged wrk can never hang the bench.
 */
export async function runWrk(supervisor: ProcessSupervisor, run: WrkRun): Promise<string> {
  const args = [
    '-c',
    String(run.cpu),
    'wrk',
    '-t1',
    `-c${run.connections}`,
    `-d${run.durationS}s`,
    '--latency',
    ...(run.headers ?? []).flatMap((h) => ['-H', h]),
    run.url,
  ];
  const wrk = supervisor.spawn('wrk', 'taskset', args, { output: { kind: 'capture' } });
  const watchdog = setTimeout(() => wrk.signalGroup('SIGKILL'), (run.durationS + 15) * 1000);
  try {
    const exit = await wrk.exited;
    if (exit.code !== 0) {
      throw new Error(
        `wrk failed (${exit.signal ?? `exit ${exit.code}`}): ${wrk.stderr.trim() || wrk.stdout}`,
      );
    }
    return wrk.stdout;
  } finally {
    clearTimeout(watchdog);
    await supervisor.stop(wrk, 1000);
  }
}
