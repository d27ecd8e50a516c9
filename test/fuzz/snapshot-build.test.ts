/**
 * Fuzzing the runtime build with random dynamic configurations (snapshot-gen.ts): routers,
 * services of every kind and middlewares naming each other at random (missing objects, cycles,
 * service middlewares on services and on child references, `@internal` and other providers'
 * names). Each is loaded as the file provider loads it, built object by object as a reload builds
 * it (twice, the second over the first's state), and a few requests are walked through the
 * routes it built: the middlewares' request phase and the service tree down to a load balancer,
 * through every service-middleware step; a mirror's copy and an error page walk their own steps
 * (flagged on the mirror, ending, with no middleware that acts around the tries, nor on a page's
 * body). Nothing may throw, hang, or walk for ever; a router is
 * never both built and disabled. In a worker process (snapshot-fuzz-worker.ts), so that a hang
 * is caught.
 *
 *   FUZZ_SNAPSHOT_CASES=50000 FUZZ_SEED=3 node --test test/fuzz/snapshot-build.test.ts
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/proxy-process.ts';
import { runFuzzWorker } from './worker-run.ts';

const CASES = Number(process.env['FUZZ_SNAPSHOT_CASES'] ?? 2000);
const SEED = Number(process.env['FUZZ_SEED'] ?? 1);
/** A case that takes this long is a hang (a normal one takes milliseconds). */
const HANG_MS = 30_000;
const WORKER = join(ROOT, 'test', 'fuzz', 'snapshot-fuzz-worker.ts');

describe(`fuzz: the runtime build of random configurations (${CASES} cases from seed ${SEED})`, () => {
  it('builds, routes and resolves without an exception, a hang or a walk that does not end', async (t) => {
    const seeds = Array.from({ length: CASES }, (_, i) => SEED * 1_000_003 + i);
    const half = Math.ceil(seeds.length / 2);
    const reports = await Promise.all(
      [seeds.slice(0, half), seeds.slice(half)].map((s) =>
        runFuzzWorker(WORKER, s, HANG_MS, (o) => `seed ${o['start']}`),
      ),
    );
    const failures = reports.flatMap((r) => r.failures);
    assert.deepEqual(failures, [], `${failures.length} failing case(s)`);
    const done = reports.flatMap((r) => r.done);
    assert.equal(done.length, CASES);
    const count = (f: (o: Record<string, unknown>) => boolean) => done.filter(f).length;
    // What the cases reached: a generator whose configurations all failed to load would test nothing.
    const routed = count((o) => Number(o['routes']) > 0);
    const stepped = count((o) => Number(o['steps']) > 0);
    const mirrored = count((o) => Number(o['mirrorSteps']) > 0);
    const paged = count((o) => Number(o['pageSteps']) > 0);
    assert.ok(routed > CASES / 2, `only ${routed} of ${CASES} configurations routed a request`);
    assert.ok(stepped > 0, 'no request went through service middlewares');
    assert.ok(mirrored > 0, "no mirror's copy went through service middlewares");
    assert.ok(paged > 0, 'no error page went through service middlewares');
    t.diagnostic(
      `${CASES} configurations: ${count((o) => Number(o['errors']) > 0)} with errors, ${routed} routed a request, ${stepped} through service middlewares, ${mirrored} with a mirror's copy through them, ${paged} with an error page through them`,
    );
  });
});
