import type { ProcessSupervisor } from './process-group.ts';
import { parseWrkTimeMs } from './wrk.ts';

/** What one h2load run reported (nghttp2 1.5x text output). */
export interface H2loadResult {
  readonly durationS: number;
  /** h2load's own figure: succeeded requests per second. */
  readonly rps: number;
  readonly requests: {
    readonly total: number;
    readonly started: number;
    /** Completed, whatever the status: what CPU per request divides by (as wrk's count). */
    readonly done: number;
    /** 2xx and 3xx. */
    readonly succeeded: number;
    /** errored requests plus those with a 4xx/5xx status. */
    readonly failed: number;
    /** Network-level failures (reset, RST_STREAM, GOAWAY), timeouts included. */
    readonly errored: number;
    readonly timeout: number;
  };
  readonly status: {
    readonly s2xx: number;
    readonly s3xx: number;
    readonly s4xx: number;
    readonly s5xx: number;
  };
  /** "time for request" (first byte sent → last byte received), per request. */
  readonly requestMs: {
    readonly min: number;
    readonly max: number;
    readonly mean: number;
    readonly sd: number;
  };
  /** "TLS Protocol", "Cipher", "Server Temp Key", "Application protocol" as h2load printed them. */
  readonly tls: Readonly<Record<string, string>>;
  /** Response body bytes received in all (the "traffic:" line's data), or null when absent. */
  readonly dataBytes: number | null;
}

function need(m: RegExpExecArray | null, what: string, out: string): RegExpExecArray {
  if (!m) throw new Error(`unrecognised h2load output (no ${what} line):\n${out}`);
  return m;
}

export function parseH2loadOutput(out: string): H2loadResult {
  const finished = need(/^finished in (\S+), ([\d.]+) req\/s/m.exec(out), '"finished in"', out);
  const req = need(
    /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(
      out,
    ),
    '"requests:"',
    out,
  );
  const status = need(
    /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(out),
    '"status codes:"',
    out,
  );
  const time = need(
    /^time for request:\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(out),
    '"time for request:"',
    out,
  );
  const tls: Record<string, string> = {};
  for (const key of ['TLS Protocol', 'Cipher', 'Server Temp Key', 'Application protocol']) {
    const m = new RegExp(`^${key}: (.+)$`, 'm').exec(out);
    if (m) tls[key] = m[1]!.trim();
  }
  const n = (m: RegExpExecArray, i: number) => Number(m[i]);
  const data = /^traffic: .*\((\d+)\) data/m.exec(out);
  return {
    durationS: parseWrkTimeMs(finished[1]!) / 1000,
    rps: Number(finished[2]),
    requests: {
      total: n(req, 1),
      started: n(req, 2),
      done: n(req, 3),
      succeeded: n(req, 4),
      failed: n(req, 5),
      errored: n(req, 6),
      timeout: n(req, 7),
    },
    status: { s2xx: n(status, 1), s3xx: n(status, 2), s4xx: n(status, 3), s5xx: n(status, 4) },
    requestMs: {
      min: parseWrkTimeMs(time[1]!),
      max: parseWrkTimeMs(time[2]!),
      mean: parseWrkTimeMs(time[3]!),
      sd: parseWrkTimeMs(time[4]!),
    },
    tls,
    dataBytes: data === null ? null : Number(data[1]),
  };
}

export interface H2loadRun {
  readonly cpu: string;
  readonly connections: number;
  /** Concurrent streams per connection (h2load -m). */
  readonly streams: number;
  readonly durationS: number;
  readonly url: string;
  /** More h2load options before the URL (the gRPC mode's fields and request body). */
  readonly extra?: readonly string[];
}

/**
 * Runs `taskset -c <cpu> h2load -t1 -c<connections> -m<streams> -D<duration>` and returns its
 * stdout. h2load over https offers ALPN h2 (and nothing else by default), so this is HTTP/2 over TLS;
 * over http it is HTTP/2 with prior knowledge (h2c).
 */
export async function runH2load(supervisor: ProcessSupervisor, run: H2loadRun): Promise<string> {
  const args = [
    '-c',
    String(run.cpu),
    'h2load',
    '-t1',
    `-c${run.connections}`,
    `-m${run.streams}`,
    `-D${run.durationS}`,
    ...(run.extra ?? []),
    run.url,
  ];
  const h2load = supervisor.spawn('h2load', 'taskset', args, { output: { kind: 'capture' } });
  const graceS = 15;
  let timedOut = false;
  const watchdog = setTimeout(
    () => {
      timedOut = true;
      h2load.signalGroup('SIGKILL');
    },
    (run.durationS + graceS) * 1000,
  );
  try {
    const exit = await h2load.exited;
    if (timedOut) {
      // h2load waits for every started stream after -D ends: a stream the proxy never answers hangs it.
      const tail = h2load.stdout.trimEnd().split('\n').slice(-3).join(' | ');
      throw new Error(
        `h2load still running ${graceS}s after its ${run.durationS}s (unanswered streams?): ${tail}`,
      );
    }
    if (exit.code !== 0) {
      throw new Error(
        `h2load failed (${exit.signal ?? `exit ${exit.code}`}): ${h2load.stderr.trim() || h2load.stdout}`,
      );
    }
    return h2load.stdout;
  } finally {
    clearTimeout(watchdog);
    await supervisor.stop(h2load, 1000);
  }
}
