/**
 * How long one question to the configuration process takes (src/config-process/client.ts), from
 * `ask` to the child's exit: the static configuration, and a file-provider update of one router.
 * Each build named is asked in turn every round (alternating who goes first), from the same
 * process, so that the machine's noise hits them alike; prints medians and, for two builds, the
 * median of the per-round differences.
 *
 *   npm run build   # then, e.g. a copy of an older dist/ beside it
 *   ./node_modules/.bin/node bench/config-ask.ts 20 tmp/dist-before dist
 *
 * A benchmark, not a test: run it on a quiet machine. The first round warms the children's code
 * cache (config-process/child.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type Client = typeof import('../src/config-process/client.ts');
type Sources = typeof import('../src/providers/file/read-sources.ts');

const [roundsArg, ...dists] = process.argv.slice(2);
const rounds = Number(roundsArg);
if (!(rounds > 0) || dists.length === 0) {
  process.stderr.write('usage: node bench/config-ask.ts ROUNDS DIST...\n');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'config-ask-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const dynFile = join(dir, 'dyn.yaml');
const staticFile = join(dir, 'traffic.yaml');
writeFileSync(
  staticFile,
  `entryPoints:\n  web:\n    address: "127.0.0.1:0"\nproviders:\n  file:\n    filename: ${dynFile}\n`,
);
writeFileSync(
  dynFile,
  'http:\n  routers:\n    r: { rule: "PathPrefix(`/`)", service: s }\n  services:\n    s: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }\n',
);

const KINDS = ['static', 'file'] as const;
interface Variant {
  readonly name: string;
  readonly client: Client;
  readonly sources: Sources;
  readonly times: Record<(typeof KINDS)[number], number[]>;
}
const variants: Variant[] = [];
for (const d of dists) {
  const base = pathToFileURL(`${resolve(d)}/`);
  variants.push({
    name: d,
    client: (await import(new URL('config-process/client.js', base).href)) as Client,
    sources: (await import(new URL('providers/file/read-sources.js', base).href)) as Sources,
    times: { static: [], file: [] },
  });
}

// The child checks rules with its own compilers: these only say "check them".
const check = (): undefined => undefined;
for (let r = 0; r < rounds; r++) {
  for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
    let t0 = performance.now();
    await v.client.loadStaticInChild({ file: staticFile, argv: [], env: {} });
    v.times.static.push(performance.now() - t0);
    const read = v.sources.readSources({ filename: dynFile });
    t0 = performance.now();
    const u = await v.client.validateFilesInChild(read, {
      checkRule: check,
      checkBreakerExpression: check,
      entryPoints: ['web'],
    });
    v.times.file.push(performance.now() - t0);
    if (u.config === undefined) throw new Error(`${v.name}: no configuration`);
  }
}

const median = (a: readonly number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (x: number): string => x.toFixed(0);
for (const v of variants) {
  for (const k of KINDS) {
    const t = v.times[k];
    console.log(
      `${v.name} ${k}: median ${ms(median(t))} ms, min ${ms(Math.min(...t))}, max ${ms(Math.max(...t))} [${t.map(ms).join(' ')}]`,
    );
  }
}
const [a, b] = variants;
if (variants.length === 2 && a !== undefined && b !== undefined) {
  for (const k of KINDS) {
    const d = a.times[k].map((x, i) => x - b.times[k][i]!);
    const faster = d.filter((x) => x > 0).length;
    console.log(
      `${k}: ${a.name} − ${b.name} per round: median ${ms(median(d))} ms (${b.name} faster in ${faster} of ${d.length})`,
    );
  }
}
