/** Resident memory of a process, read from /proc, for bounded-memory e2e assertions. */
import { readFileSync } from 'node:fs';

/** VmRSS of `pid` in bytes. */
export function readRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

export interface RssSampler {
  /** Stops sampling; returns the highest RSS seen (bytes). */
  stop(): number;
  readonly samples: readonly number[];
}

/** Samples RSS of `pid` every `everyMs` until stopped (a process that exited ends the sampling). */
export function sampleRss(pid: number, everyMs = 50): RssSampler {
  const samples: number[] = [readRss(pid)];
  const timer = setInterval(() => {
    try {
      samples.push(readRss(pid));
    } catch {
      clearInterval(timer);
    }
  }, everyMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      try {
        samples.push(readRss(pid));
      } catch {}
      return Math.max(...samples);
    },
  };
}
