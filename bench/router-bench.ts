/**
 * Router benchmark: 10,000 routers (9,000 exact-host + PathPrefix, 500 wildcard hosts, 500
 * host-less PathPrefix/Header rules), 1,000,000 matches over a varied request mix.
 *
 *   ./node_modules/.bin/node bench/router-bench.ts [matches]
 *
 * Prints build time and ns/match per request class and overall. A benchmark, not a test.
 */
import { HeaderList } from '../src/core/headers.ts';
import type { RequestHead } from '../src/core/request.ts';
import { HttpRouter, type RouteEntry } from '../src/router/index.ts';

const MATCHES = Number(process.argv[2] ?? 1_000_000);

/** Seeded PRNG (mulberry32), so every run sees the same requests. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
  };
}

type Kind = 'exact-hit' | 'wildcard-hit' | 'hostless-hit' | 'exact-host-wrong-path' | 'unknown-host-miss';

function requests(): { kind: Kind; req: RequestHead }[] {
  const rnd = prng(42);
  const pick = (n: number): number => Math.floor(rnd() * n);
  const out: { kind: Kind; req: RequestHead }[] = [];
  for (let i = 0; i < 4096; i++) {
    const x = rnd();
    if (x < 0.7)
      out.push({ kind: 'exact-hit', req: head(`svc${pick(9000)}.example.com`, `/api/v1/items/${i}`) });
    else if (x < 0.8)
      out.push({ kind: 'wildcard-hit', req: head(`app${i}.tenant${pick(500)}.example.net`, '/') });
    else if (x < 0.9) {
      const n = pick(500);
      out.push({
        kind: 'hostless-hit',
        req:
          n % 2 === 0
            ? head('cdn.example.org', `/static${n}/app.js`)
            : head('cdn.example.org', '/shared/x', [['X-Tenant', `t${n}`]]),
      });
    } else if (x < 0.95) {
      out.push({ kind: 'exact-host-wrong-path', req: head(`svc${pick(9000)}.example.com`, '/health') });
    } else out.push({ kind: 'unknown-host-miss', req: head(`nope${i}.example.org`, '/') });
  }
  return out;
}

const entries = routes();
const t0 = process.hrtime.bigint();
const { router, errors } = HttpRouter.build(entries);
const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
if (errors.length > 0) throw new Error(`unexpected rule errors: ${JSON.stringify(errors.slice(0, 3))}`);

const reqs = requests();
const mask = reqs.length - 1;

// Sanity: the mix matches what it claims.
for (const { kind, req } of reqs) {
  const v = router.match('websecure', req);
  const hit = v !== undefined;
  if (hit !== kind.endsWith('hit')) throw new Error(`${kind} ${req.host}${req.path} → ${v}`);
}

function run(n: number, list: { req: RequestHead }[]): number {
  let sink = 0;
  const m = list.length;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const v = router.match('websecure', list[i % m]!.req);
    if (v !== undefined) sink += v;
  }
  const ns = Number(process.hrtime.bigint() - start) / n;
  if (sink === -1) console.log('');
  return ns;
}

run(200_000, reqs); // warm-up
const overall = run(MATCHES, reqs);
void mask;

const memMb = process.memoryUsage().heapUsed / 1024 / 1024;
console.log(
  `routers: ${entries.length}  build: ${buildMs.toFixed(1)} ms  heap after build: ${memMb.toFixed(0)} MB`,
);
console.log(`overall mix (${MATCHES.toLocaleString('en')} matches): ${overall.toFixed(0)} ns/match`);
const kinds: Kind[] = [
  'exact-hit',
  'wildcard-hit',
  'hostless-hit',
  'exact-host-wrong-path',
  'unknown-host-miss',
];
for (const kind of kinds) {
  const list = reqs.filter((r) => r.kind === kind);
  const share = ((list.length / reqs.length) * 100).toFixed(0);
  console.log(
    `  ${kind.padEnd(22)} ${String(share).padStart(3)}% of mix  ${run(200_000, list).toFixed(0).padStart(6)} ns/match`,
  );
}
