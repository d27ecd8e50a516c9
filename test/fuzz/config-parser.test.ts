/**
 * Fuzzing the configuration parser with mutations of the real Traefik files in
 * test/corpus/traefik (config-mutate.ts), loaded as `traffic validate` loads them, in a worker
 * process (config-fuzz-worker.ts) so that a hang is caught. A broken file must give issues (each
 * with a message, and a position inside the file when it has one), never an exception, never a
 * hang.
 *
 *   FUZZ_CONFIG_CASES=50000 FUZZ_SEED=3 node --test test/fuzz/config-parser.test.ts
 *
 * Seeds that once found a bug stay in REGRESSIONS and run every time.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/proxy-process.ts';
import { runFuzzWorker } from './worker-run.ts';

const CASES = Number(process.env['FUZZ_CONFIG_CASES'] ?? 1000);
const SEED = Number(process.env['FUZZ_SEED'] ?? 1);
/** A case that takes this long is a hang (a normal one takes milliseconds). */
const HANG_MS = 30_000;
const WORKER = join(ROOT, 'test', 'fuzz', 'config-fuzz-worker.ts');

/**
 * Case seeds that found bugs; see the commit that added each. 2011500: a `<<` merge key with a
 * scalar value made the yaml library throw out of parseYaml (the proxy rejected the update as an
 * "internal error" without a position). 23002970: `docker: !!binary` became a Buffer, whose
 * enumerable prototype methods made the static loader's copy throw (DataCloneError).
 */
const REGRESSIONS: readonly number[] = [2011500, 23002970];

interface Report {
  readonly done: number;
  readonly withErrors: number;
  readonly failures: string[];
  /** The slowest case: `seed (file): ms for bytes`. */
  readonly slowest: { readonly ms: number; readonly what: string };
}

async function runWorker(seeds: readonly number[]): Promise<Report> {
  const r = await runFuzzWorker(WORKER, seeds, HANG_MS, (o) => `seed ${o['start']} (${o['file']})`);
  let slowest = { ms: -1, what: '' };
  for (const o of r.done) {
    if (Number(o['ms']) > slowest.ms)
      slowest = { ms: Number(o['ms']), what: `seed ${o['done']}: ${o['bytes']} bytes` };
  }
  return {
    done: r.done.length,
    withErrors: r.done.filter((o) => Number(o['errors']) > 0).length,
    failures: r.failures,
    slowest,
  };
}

describe(`fuzz: configuration parser on mutated real files (${CASES} cases from seed ${SEED})`, () => {
  if (REGRESSIONS.length > 0) {
    it('gives issues, not exceptions, for the seeds that once found bugs', async () => {
      const r = await runWorker(REGRESSIONS);
      assert.deepEqual(r.failures, []);
    });
  }

  it('gives issues, never an exception or a hang', async (t) => {
    const seeds = Array.from({ length: CASES }, (_, i) => SEED * 1_000_003 + i);
    // Two workers: the cases split in halves.
    const half = Math.ceil(seeds.length / 2);
    const reports = await Promise.all([runWorker(seeds.slice(0, half)), runWorker(seeds.slice(half))]);
    const failures = reports.flatMap((r) => r.failures);
    assert.deepEqual(failures, [], `${failures.length} failing case(s)`);
    const done = reports.reduce((a, r) => a + r.done, 0);
    assert.equal(done, CASES);
    t.diagnostic(
      `${done} mutated files: ${reports.reduce((a, r) => a + r.withErrors, 0)} with errors, the rest still valid`,
    );
    const slowest = reports.map((r) => r.slowest).sort((a, b) => b.ms - a.ms)[0]!;
    t.diagnostic(`slowest case: ${slowest.what}, ${slowest.ms} ms`);
  });
});
