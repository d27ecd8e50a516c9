/**
 * The chaos suite's harness (edge-rules §4): requests sent into a fault, each judged by what the
 * client saw and what the proxy logged; a probe that keeps a healthy route busy meanwhile; and the
 * proxy's idle footprint (descriptors, resident memory) before and after.
 *
 * The rule every scenario checks: a request the proxy accepted ends either as a normal response,
 * or as a classified error (502, 503 or 504 with a `request failed` log line naming its path and
 * error code), or, once a response head was out, as a visibly broken response that was logged the
 * same way. Nothing else: no other status, no connection dropped before an answer.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { readProc } from '../../bench/lib/soak/process-probe.ts';
import { type LoadRun, type LoadStats, startLoad, summary } from './load.ts';
import type { LogLine, ProxyProcess } from './proxy-process.ts';

export interface FaultResult {
  readonly path: string;
  /** The response status, or null when none arrived. */
  readonly status: number | null;
  /** complete: a whole response; broken: the body was cut short; error: no response at all. */
  readonly outcome: 'complete' | 'broken' | 'error';
  readonly detail: string;
  readonly bodyBytes: number;
}

export interface FaultRequestOptions {
  readonly method?: string;
  readonly body?: string;
  /** A request with no outcome after this long counts as an error (default 15 s). */
  readonly timeoutMs?: number;
}

/** One request on a connection of its own (no keep-alive between requests of a scenario). */
export function faultRequest(port: number, path: string, o: FaultRequestOptions = {}): Promise<FaultResult> {
  return new Promise((resolve) => {
    let settled = false;
    let status: number | null = null;
    let bytes = 0;
    const done = (outcome: FaultResult['outcome'], detail: string): void => {
      if (settled) return;
      settled = true;
      resolve({ path, status, outcome, detail, bodyBytes: bytes });
    };
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', agent: false }, (res) => {
      status = res.statusCode ?? 0;
      const cl = res.headers['content-length'];
      res.on('data', (d: Buffer) => {
        bytes += d.length;
      });
      res.on('aborted', () => done('broken', 'response aborted'));
      res.on('error', (e) => done('broken', e.message));
      res.on('end', () => {
        if (cl !== undefined && Number(cl) !== bytes) done('broken', `${bytes} of ${cl} bytes`);
        else done('complete', '');
      });
    });
    req.setTimeout(o.timeoutMs ?? 15_000, () => {
      req.destroy(new Error('timed out'));
    });
    req.on('error', (e: NodeJS.ErrnoException) =>
      done(status === null ? 'error' : 'broken', e.code ?? e.message),
    );
    req.end(o.body);
  });
}

/** Sends a request to each path, `concurrency` at a time. */
export async function fireFaults(
  port: number,
  paths: readonly string[],
  concurrency: number,
  o: FaultRequestOptions = {},
): Promise<FaultResult[]> {
  const results: FaultResult[] = new Array(paths.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const i = next++;
      results[i] = await faultRequest(port, paths[i]!, o);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  return results;
}

export const CLASSIFIED_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

function failedLine(proxy: ProxyProcess, path: string): LogLine | undefined {
  return proxy.logs.find((l) => l.msg === 'request failed' && l.path === path);
}

/**
 * Checks the rule above for every result. `expect` narrows it: the statuses and error codes this
 * scenario may produce (anything classified when absent). Returns the outcomes by kind.
 */
export async function assertClassified(
  proxy: ProxyProcess,
  results: readonly FaultResult[],
  expect: {
    readonly statuses?: readonly number[];
    readonly codes?: readonly string[];
    readonly okAllowed?: boolean;
  } = {},
): Promise<Record<string, number>> {
  const tally: Record<string, number> = {};
  for (const r of results) {
    const ok = r.outcome === 'complete' && r.status !== null && r.status >= 200 && r.status < 300;
    if (ok) {
      assert.ok(expect.okAllowed ?? true, `${r.path}: ${r.status} where a failure was expected`);
      tally['ok'] = (tally['ok'] ?? 0) + 1;
      continue;
    }
    assert.notEqual(r.outcome, 'error', `${r.path}: the connection ended without any response (${r.detail})`);
    if (r.outcome === 'complete') {
      assert.ok(
        CLASSIFIED_STATUSES.has(r.status!),
        `${r.path}: status ${r.status} is not a classified error`,
      );
      if (expect.statuses !== undefined)
        assert.ok(
          expect.statuses.includes(r.status!),
          `${r.path}: ${r.status}, expected ${expect.statuses.join('/')}`,
        );
    }
    // The log line is written before the response leaves; a short wait covers stderr's delivery.
    const line =
      failedLine(proxy, r.path) ??
      (await proxy
        .waitForLog((l) => l.msg === 'request failed' && l.path === r.path, 5000)
        .catch(() => undefined));
    assert.ok(line !== undefined, `${r.path}: ${r.outcome} ${r.status} without a "request failed" log line`);
    if (r.outcome === 'complete') assert.equal(line.status, r.status, `${r.path}: logged status`);
    if (expect.codes !== undefined)
      assert.ok(
        expect.codes.includes(String(line.code)),
        `${r.path}: code ${line.code}, expected ${expect.codes.join('/')}`,
      );
    const key = `${r.outcome === 'broken' ? 'broken' : r.status} ${line.code}`;
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return tally;
}

/** Keep-alive load on a route that must stay healthy through a fault: every request 2xx. */
export class HealthyProbe {
  readonly #run: LoadRun;

  constructor(url: string, concurrency = 2) {
    this.#run = startLoad({
      url,
      concurrency,
      maxRequests: Number.POSITIVE_INFINITY,
      maxDurationMs: 120_000,
    });
  }

  /** Stops the load (for cleanup after a failure); resolves with the counts. */
  stop(): Promise<LoadStats> {
    return this.#run.stop();
  }

  /** Stops the load and asserts nothing failed; returns the counts. */
  async stopAndAssert(what: string): Promise<LoadStats> {
    const stats = await this.#run.stop();
    assert.ok(stats.ok > 0, `${what}: the healthy route served nothing`);
    assert.equal(
      stats.non2xx + stats.errors + stats.timeouts,
      0,
      `${what}: ${JSON.stringify(summary(stats))}`,
    );
    return stats;
  }
}

export interface Footprint {
  readonly fds: number;
  readonly rss: number;
}

export function footprint(pid: number): Footprint {
  const p = readProc(pid);
  return { fds: p.fds, rss: p.rss };
}

/**
 * How far "back to idle" may be from the baseline. Descriptors: a health probe or a metrics
 * scrape in flight at the moment of a reading holds one or two. Memory: RSS is what the kernel
 * counts, and V8 gives freed pages back lazily and keeps its young generation as large as the
 * last load made it; a fault scenario of a few hundred requests must not leave more than this
 * behind once the proxy is idle (a leak of a few kilobytes per request would).
 */
export const IDLE_TOLERANCE = { fds: 2, rssBytes: 24 * 2 ** 20 } as const;

/**
 * Waits (polling /proc: an idle process sends no event) until the proxy's descriptors and memory
 * are back within IDLE_TOLERANCE of `baseline`; fails with the figures when they are not within
 * `timeoutMs` (pooled upstream connections close after the transport's idleConnTimeout).
 * `checkRss` false: descriptors only (long fuzz runs grow V8's young generation to its high-water
 * mark, which it keeps committed: RSS plateaus there, docs/operations.md#soak).
 */
export async function assertBackToIdle(
  pid: number,
  baseline: Footprint,
  what: string,
  timeoutMs = 10_000,
  checkRss = true,
): Promise<Footprint> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const now = footprint(pid);
    const fdsOk = now.fds <= baseline.fds + IDLE_TOLERANCE.fds;
    const rssOk = !checkRss || now.rss <= baseline.rss + IDLE_TOLERANCE.rssBytes;
    if (fdsOk && rssOk) return now;
    if (performance.now() > deadline) {
      assert.fail(
        `${what}: not back to idle after ${timeoutMs} ms: fds ${now.fds} (idle ${baseline.fds}, ` +
          `tolerance ${IDLE_TOLERANCE.fds}), RSS ${(now.rss / 2 ** 20).toFixed(1)} MiB (idle ` +
          `${(baseline.rss / 2 ** 20).toFixed(1)} MiB, tolerance ${IDLE_TOLERANCE.rssBytes / 2 ** 20} MiB)`,
      );
    }
    await sleep(200);
  }
}

/** `fds 31 → 31, RSS 92.1 → 95.3 MiB`: for the test's diagnostics. */
export function idleChange(before: Footprint, after: Footprint): string {
  const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
  return `idle fds ${before.fds} → ${after.fds}, RSS ${mib(before.rss)} → ${mib(after.rss)} MiB`;
}

/** Unique request paths for a scenario: `/<route>/<scenario>-<i>`. */
export function paths(route: string, scenario: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `/${route}/${scenario}-${i}`);
}
