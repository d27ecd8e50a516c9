/**
 * basicAuth's cost per request once a client's credentials passed (the credential cache hit),
 * in-process, beside a middleware that does nothing: what `npm run bench`'s ours-basic − ours
 * measures end to end, without the noise of sockets and a shared machine.
 *
 *   ./node_modules/.bin/node bench/basic-auth-bench.ts [callsPerRound]
 *
 * The user is bench/peers/bench.htpasswd's (bcrypt cost 10): the first call runs bcrypt on the
 * worker thread (its time is printed too); the rounds then measure hits. A benchmark, not a test.
 */
import { readFileSync } from 'node:fs';
import type { BasicAuthMiddleware } from '../src/middleware/auth/basic-auth.ts';
import type { RequestControl } from '../src/middleware/middleware.ts';
import { build, makeRequest, testContext } from '../src/middleware/test-request.ts';

const CALLS = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = 5;
const hash = readFileSync(new URL('peers/bench.htpasswd', import.meta.url), 'utf8').trim();
const m = build('basicAuth', { users: [hash] }, testContext()).inner as BasicAuthMiddleware;
const fields: [string, string][] = [
  ['Host', '127.0.0.1:8080'],
  ['Authorization', 'Basic YmVuY2g6YmVuY2g='],
  ['User-Agent', 'wrk'],
];
const reqs = Array.from({ length: 1024 }, () => makeRequest('http://127.0.0.1:8080/', { headers: fields }));
const ctl: RequestControl = { resume() {}, onEnd() {}, transformBody() {} };

const t0 = performance.now();
await new Promise<void>((resolve) => {
  const r = m.onRequest(reqs[0]!, { resume: () => resolve(), onEnd() {}, transformBody() {} });
  if (typeof r !== 'symbol') resolve();
});
console.log(`first request (bcrypt cost 10 on the worker thread): ${(performance.now() - t0).toFixed(1)} ms`);

const noop = (_r: unknown, _c: RequestControl) => undefined;
for (let round = 1; round <= ROUNDS; round++) {
  let t = performance.now();
  let passed = 0;
  for (let i = 0; i < CALLS; i++) if (m.onRequest(reqs[i & 1023]!, ctl) === undefined) passed++;
  const hit = ((performance.now() - t) / CALLS) * 1e6;
  t = performance.now();
  for (let i = 0; i < CALLS; i++) if (noop(reqs[i & 1023]!, ctl) === undefined) passed++;
  const base = ((performance.now() - t) / CALLS) * 1e6;
  console.log(
    `round ${round}: cache hit ${hit.toFixed(0)} ns/request, no-op ${base.toFixed(0)} ns (${passed} passed)`,
  );
}
m.state.close();
