import type { SelfTimeRow } from './cpu-profile.ts';
import type { WrkResult } from './wrk.ts';

/** The `--profile` outcome of one run: the top self-time functions of its .cpuprofile. */
export interface ProfileSummary {
  readonly path: string;
  /** False when the proxy died without writing the profile (--cpu-prof needs a normal exit). */
  readonly written: boolean;
  readonly totalUs: number;
  readonly top: readonly SelfTimeRow[];
}

/** One measured run of one proxy, as printed and as saved in the results JSON. */
export interface RunOk {
  readonly ok: true;
  readonly name: string;
  readonly round: number;
  readonly startedAt: string;
  readonly wrk: WrkResult;
  readonly errorCount: number;
  /** utime + stime of the proxy's whole process tree during the measured wrk run. */
  readonly cpuTicks: number;
  readonly cpuUsPerRequest: number;
  /** Share of one CPU the proxy used during the run (1 = one core busy all the time). */
  readonly cpuBusy: number;
  readonly backendCpuUsPerRequest: number;
  /** RSS of the tree after readiness, before any load. */
  readonly idleRssKb: number;
  /** Largest RSS of the tree, sampled every 200 ms during the measured run. */
  readonly loadRssKb: number;
  readonly pids: readonly number[];
  readonly profile?: ProfileSummary;
}

export interface RunFailed {
  readonly ok: false;
  readonly name: string;
  readonly round: number;
  readonly startedAt: string;
  readonly error: string;
  readonly logTail: string;
}

export type RunRecord = RunOk | RunFailed;
