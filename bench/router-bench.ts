/**
 * Router benchmark: 10,000 routers, the shape of a large Traefik setup:
 *   9,000  Host(`svcN.example.com`) && PathPrefix(`/api`)
 *     500  Host(`*.tenantN.example.net`)
 *     500  host-less: PathPrefix(`/staticN/`) or Header(`X-Tenant`, `tN`) && PathPrefix(`/shared`)
 * (The host-less Header rules are longer than the host rules, so by Traefik's default priority
 * they outrank them: every request must consider them. That is deliberate; it is the hard case.)
 *
 * Then 5 rounds of 1,000,000 matches over 4,096 pre-built requests (70% exact-host hits,
 * 10% wildcard hits, 10% host-less hits, 5% known host with a path no rule takes, 5% unknown
 * host). Prints build time, retained heap, ns/match per round and per request class.
 *
 *   ./node_modules/.bin/node bench/router-bench.ts [matchesPerRound]
 *
 * A benchmark, not a test: run it on a quiet machine, read the median. The request objects cycle
 * through ~4 MB, so they are colder in cache than a just-parsed request head would be.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HeaderList } from '../src/core/headers.ts';
import type { RequestHead } from '../src/core/request.ts';
import { HttpRouter, type RouteEntry } from '../src/router/index.ts';
import { seededRandom as prng } from '../test/helpers/seeded-random.ts';

const MATCHES = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = 5;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function routes(): RouteEntry<number>[] {
  const out: RouteEntry<number>[] = [];
  for (let n = 0; n < 9000; n++) {
    out.push({
      name: `svc${n}@file`,
      rule: `Host(\`svc${n}.example.com\`) && PathPrefix(\`/api\`)`,
      entryPoints: n % 10 === 0 ? ['websecure', 'web'] : ['websecure'],
      value: n,
    });
  }
  for (let n = 0; n < 500; n++) {
    out.push({
      name: `tenant${n}@file`,
      rule: `Host(\`*.tenant${n}.example.net\`)`,
      entryPoints: ['websecure'],
      value: 10_000 + n,
    });
  }
  for (let n = 0; n < 500; n++) {
    out.push({
      name: `shared${n}@file`,
      rule:
        n % 2 === 0
          ? `PathPrefix(\`/static${n}/\`)`
          : `Header(\`X-Tenant\`, \`t${n}\`) && PathPrefix(\`/shared\`)`,
      entryPoints: [],
      value: 20_000 + n,
    });
  }
  return out;
}

function head(host: string, path: string, headers: [string, string][] = []): RequestHead {
  return {
    method: 'GET',
    path,
    query: '',
    host,
    hostPort: '',
    headers: HeaderList.from([['Host', host], ['User-Agent', 'bench/1.0'], ['Accept', '*/*'], ...headers]),
    clientIp: '10.0.0.1',
    scheme: 'https',
    entryPoint: 'websecure',
    omitForwardedFor: false,
  };
}

const KINDS = ['exact-hit', 'wildcard-hit', 'hostless-hit', 'known-host-no-route', 'unknown-host'] as const;
type Kind = (typeof KINDS)[number];

function requests(): { kind: Kind; req: RequestHead }[] {
  const rnd = prng(42);
  const pick = (n: number): number => Math.floor(rnd() * n);
  const out: { kind: Kind; req: RequestHead }[] = [];
  for (let i = 0; i < 4096; i++) {
    const x = rnd();
    if (x < 0.7) {
      out.push({ kind: 'exact-hit', req: head(`svc${pick(9000)}.example.com`, `/api/v1/items/${i}`) });
    } else if (x < 0.8) {
      out.push({ kind: 'wildcard-hit', req: head(`app${i}.tenant${pick(500)}.example.net`, '/') });
    } else if (x < 0.9) {
      const n = pick(500);
      const req =
        n % 2 === 0
          ? head('cdn.example.org', `/static${n}/app.js`)
          : head('cdn.example.org', '/shared/x', [['X-Tenant', `t${n}`]]);
      out.push({ kind: 'hostless-hit', req });
    } else if (x < 0.95) {
      out.push({ kind: 'known-host-no-route', req: head(`svc${pick(9000)}.example.com`, '/health') });
    } else {
      out.push({ kind: 'unknown-host', req: head(`nope${i}.example.org`, '/') });
    }
  }
  return out;
}

const entries = routes();
gc();
const heapBefore = process.memoryUsage().heapUsed;
let t0 = process.hrtime.bigint();
const { router, errors } = HttpRouter.build(entries);
const coldBuildMs = Number(process.hrtime.bigint() - t0) / 1e6;
gc();
const retainedMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
if (errors.length > 0) throw new Error(`unexpected rule errors: ${JSON.stringify(errors.slice(0, 3))}`);
t0 = process.hrtime.bigint();
HttpRouter.build(entries);
const warmBuildMs = Number(process.hrtime.bigint() - t0) / 1e6;

const reqs = requests();
// The mix must be what it claims to be.
for (const { kind, req } of reqs) {
  const hit = router.match('websecure', req) !== undefined;
  if (hit !== kind.endsWith('hit')) throw new Error(`${kind}: ${req.host}${req.path}`);
}

function run(n: number, list: readonly { req: RequestHead }[]): number {
  let sink = 0;
  const m = list.length;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += router.match('websecure', list[i % m]!.req) ?? 0;
  const ns = Number(process.hrtime.bigint() - start) / n;
  if (sink === -1) console.log('unreachable');
  return ns;
}

// Warm-up: V8 re-optimizes `match` several times as the call sites see new closures.
for (let w = 0; w < 3; w++) run(MATCHES, reqs);
const rounds: number[] = [];
for (let r = 0; r < ROUNDS; r++) rounds.push(run(MATCHES, reqs));
const sorted = [...rounds].sort((a, b) => a - b);

console.log(`routers: ${entries.length.toLocaleString('en')}`);
console.log(
  `build: ${coldBuildMs.toFixed(0)} ms cold (first, JIT warming), ${warmBuildMs.toFixed(0)} ms warm`,
);
console.log(`router retains: ${retainedMb.toFixed(1)} MB of heap`);
console.log(
  `match, mix: ${rounds.map((x) => x.toFixed(0)).join(' / ')} ns/match over ${ROUNDS} rounds of ` +
    `${MATCHES.toLocaleString('en')}; median ${sorted[ROUNDS >> 1]!.toFixed(0)} ns`,
);
for (const kind of KINDS) {
  const list = reqs.filter((r) => r.kind === kind);
  const share = Math.round((list.length / reqs.length) * 100);
  const ns = Math.min(run(MATCHES / 5, list), run(MATCHES / 5, list));
  console.log(
    `  ${kind.padEnd(20)} ${String(share).padStart(3)}% of mix  ${ns.toFixed(0).padStart(5)} ns/match`,
  );
}
