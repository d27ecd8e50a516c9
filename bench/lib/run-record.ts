import type { SelfTimeRow } from './cpu-profile.ts';
import type { GcStats } from './gc-trace.ts';
import type { H2loadResult } from './h2load.ts';
import type { HandshakeClientReport } from './handshakes.ts';
import type { LatencyReport } from './latency-report.ts';
import type { BenchMode } from './modes.ts';
import type { ScriptClientReport } from './script-client.ts';
import type { TlsFacts } from './tls-probe.ts';
import type { WrkResult } from './wrk.ts';

/** The `--profile` outcome of one run: the top self-time functions of its .cpuprofile. */
export interface ProfileSummary {
  readonly path: string;
  /** False when the proxy died without writing the profile (--cpu-prof needs a normal exit). */
  readonly written: boolean;
  readonly totalUs: number;
  readonly top: readonly SelfTimeRow[];
}

/** The load generator's parsed output, as it printed it. */
export type ClientOutput =
  | { readonly tool: 'wrk'; readonly result: WrkResult }
  | { readonly tool: 'h2load'; readonly result: H2loadResult }
  | { readonly tool: 'handshake-client'; readonly result: HandshakeClientReport }
  | { readonly tool: 'ws-client'; readonly result: ScriptClientReport }
  | { readonly tool: 'l4-client'; readonly result: ScriptClientReport }
  | { readonly tool: 'latency-client'; readonly result: LatencyReport };

/** The same few numbers whatever the client; null where the client does not give them. */
export interface LoadStats {
  /** Requests completed (wrk, h2load), or connections with a full handshake and a 2xx (handshake mode). */
  readonly completed: number;
  readonly durationS: number;
  /** completed / durationS. */
  readonly perSecond: number;
  readonly latencyMs: {
    readonly p50: number | null;
    readonly p99: number | null;
    readonly mean: number | null;
    readonly max: number | null;
  };
  /** Failures by kind, as the client names them. */
  readonly errors: Readonly<Record<string, number>>;
}

/** One measured run of one proxy, as printed and as saved in the results JSON. */
export interface RunOk {
  readonly ok: true;
  readonly name: string;
  readonly mode: BenchMode;
  readonly round: number;
  readonly startedAt: string;
  readonly load: LoadStats;
  readonly client: ClientOutput;
  readonly errorCount: number;
  /** utime + stime of the proxy's whole process tree during the measured client run. */
  readonly cpuTicks: number;
  /** CPU per completed unit: per request, or per handshake (with its one request) in handshake mode. */
  readonly cpuUsPerRequest: number;
  /** Share of one CPU the proxy used during the run (1 = one core busy all the time). */
  readonly cpuBusy: number;
  readonly backendCpuUsPerRequest: number;
  /** RSS of the tree after readiness, before any load. */
  readonly idleRssKb: number;
  /** Largest RSS of the tree, sampled every 200 ms during the measured run. */
  readonly loadRssKb: number;
  readonly pids: readonly number[];
  /** TLS modes: what a probe handshake negotiated after readiness. */
  readonly tls?: TlsFacts;
  readonly profile?: ProfileSummary;
  /** `--gc`: collections inside the measured window (absent for a proxy without GC). */
  readonly gc?: GcStats;
}

export interface RunFailed {
  readonly ok: false;
  readonly name: string;
  readonly mode: BenchMode;
  readonly round: number;
  readonly startedAt: string;
  readonly error: string;
  readonly logTail: string;
}

export type RunRecord = RunOk | RunFailed;
