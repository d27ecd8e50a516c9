import { parseArgs } from 'node:util';
import { type BenchMode, parseModes } from './modes.ts';

/** A named extra run of our proxy with another config file (`--variant name=path.yaml`). */
export interface Variant {
  readonly name: string;
  readonly config: string;
}

/** Our proxy as built in another checkout (`--build name=dir`): `dir/bin/traffic.js` (its dist/), same configs. */
export interface Build {
  readonly name: string;
  readonly dir: string;
}

export interface BenchOptions {
  /** Run one after another, each with its own rounds, table and results file. */
  readonly modes: readonly BenchMode[];
  readonly rounds: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly connections: number;
  /** Concurrent streams per HTTP/2 connection (h2load -m), --mode h2 and grpc. */
  readonly streams: number;
  /** Proxy names to run, in the order given; undefined means every known proxy. */
  readonly only: readonly string[] | undefined;
  readonly profile: boolean;
  /** Trace garbage collection (ours: --trace-gc; Caddy: gctrace) and print the GC table. */
  readonly gc: boolean;
  readonly variants: readonly Variant[];
  readonly builds: readonly Build[];
  /** Extra nginx runs with another config file (`--nginx-variant name=path.conf`). */
  readonly nginxVariants: readonly Variant[];
  /** Header fields every request of the load (and the readiness probe) carries, `Name: value`. */
  readonly headers: readonly string[];
  /** `--mode latency`: nginx's maximum rate (req/s) instead of measuring it; the load runs at half. */
  readonly rate: number | undefined;
  /**
   * `--mode latency`: proxies that run at a multiple of the common rate (`--rate-scale n=F`), e.g.
   * two workers at twice one worker's rate: the same load per worker (docs/benchmarking.md#workers).
   */
  readonly rateScale: ReadonlyMap<string, number>;
  /** No pinning: proxy, backend and client may each run on every CPU (workers, one per core). */
  readonly spread: boolean;
  readonly help: boolean;
}

export const USAGE = `usage: npm run bench -- [options]
  --mode M[,M]      http (default): HTTP/1.1 keep-alive, cleartext (wrk)
                    https: HTTP/1.1 keep-alive over TLS (wrk)
                    h2: HTTP/2 over TLS (h2load)
                    handshake: a full TLS handshake + one request per connection
                    ws: WebSocket echo of 64-byte messages
                    compress: a 100 KB JSON gzipped at level 1 by each proxy
                    grpc: gRPC unary over h2c (h2load) to a Node h2c backend
                    tcp-bulk: 1 GiB through one TCP connection (CPU per MiB)
                    tcp-conn: a new TCP connection per 1 KiB echo (CPU per connection)
                    udp: 64-byte datagrams and their echo (CPU per round trip)
                    tls: short for https,h2,handshake
                    l4: short for tcp-bulk,tcp-conn,udp (vs HAProxy and nginx stream)
                    overload: p99 of a fixed-rate probe, unloaded and under 2,000
                    slowloris + 200 slow POSTs; RSS before, during, after
                    latency: p50/p99/p99.9 at a constant rate, half of nginx's
                    maximum (measured first with wrk), vs nginx's p99
                    workers: as http, every proxy with one and two workers
                    (nginx-2, haproxy-2, caddy-2, ours-2), nothing pinned;
                    a second table compares each proxy's 2 with its 1
  --rounds N        interleaved rounds (default 3)
  --duration S      seconds of load per run (default 10)
  --warmup S        seconds of unmeasured load before each run (default 2)
  --connections N   client connections (default 50; concurrent handshakes in handshake mode)
  --streams N       concurrent streams per connection in h2 and grpc modes (h2load -m, default 10)
  --only a,b        proxies to run, e.g. nginx,ours (default: all)
  --variant n=file  also run our proxy as <n> with config <file> (repeatable)
  --build n=dir     also run our proxy as built in checkout <dir> (its bin/traffic.js, after
                    npm run build there) as <n>, with this mode's config: before/after runs;
                    with --variant v too, also as <n>-v with v's config; in workers mode
                    also as <n>-2 with two workers
  --nginx-variant n=file
                    also run nginx as <n> with config <file> (repeatable)
  --header 'N: v'   send this header field with every request (repeatable), e.g.
                    an Authorization for the auth middlewares' runs
  --rate N          latency mode: take nginx's maximum rate as N req/s instead of
                    measuring it (the load then runs at N/2)
  --rate-scale n=F  latency mode: run proxy <n> at F times the common rate (repeatable),
                    e.g. two workers at twice one worker's rate: the same load per worker
  --spread          pin nothing: proxy, backend and client may run on every CPU (for
                    workers: with N workers each can have a core; the default pins the
                    proxy and backend to CPU 1 and the client to CPU 0; --mode workers
                    never pins)
  --gc              trace garbage collection (ours: node --trace-gc, Caddy: GODEBUG=gctrace=1)
                    and print the GC table: pauses p50/p99/max and the share of time in GC
  --profile         run our proxy with --cpu-prof and print the top self-time functions
  --help`;

const NAME = /^[a-z0-9][a-z0-9._-]*$/;

function positiveInt(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${raw}"`);
  return n;
}

function nonNegativeInt(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got "${raw}"`);
  return n;
}

function parseVariant(raw: string, flag = '--variant', example = 'config.yaml'): Variant {
  const eq = raw.indexOf('=');
  const name = raw.slice(0, eq);
  const config = raw.slice(eq + 1);
  if (eq < 1 || config === '' || !NAME.test(name)) {
    throw new Error(`${flag} must look like name=path/to/${example}, got "${raw}"`);
  }
  return { name, config };
}

/** `Name: value`, as wrk's and h2load's -H take it; no CR or LF (they would split the request). */
function parseHeader(raw: string): string {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n]*$/.test(raw)) {
    throw new Error(`--header must look like "Name: value", got "${raw}"`);
  }
  return raw;
}

/** Parses the runner's command line; throws an Error whose message is fit for the user. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      streams: { type: 'string' },
      mode: { type: 'string' },
      only: { type: 'string' },
      variant: { type: 'string', multiple: true },
      build: { type: 'string', multiple: true },
      'nginx-variant': { type: 'string', multiple: true },
      header: { type: 'string', multiple: true },
      rate: { type: 'string' },
      'rate-scale': { type: 'string', multiple: true },
      profile: { type: 'boolean', default: false },
      gc: { type: 'boolean', default: false },
      spread: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  const only =
    values.only === undefined
      ? undefined
      : values.only
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
  if (only?.length === 0) throw new Error('--only needs at least one proxy name');
  const builds = (values.build ?? []).map((raw) => {
    const v = parseVariant(raw);
    return { name: v.name, dir: v.config };
  });
  const variants = (values.variant ?? []).map((v) => parseVariant(v));
  const nginxVariants = (values['nginx-variant'] ?? []).map((v) =>
    parseVariant(v, '--nginx-variant', 'nginx.conf'),
  );
  const modes = parseModes(values.mode);
  const rate = values.rate === undefined ? undefined : positiveInt('--rate', values.rate, 0);
  if (rate !== undefined && !modes.includes('latency')) throw new Error('--rate is for --mode latency only');
  if (rate !== undefined && rate < 2)
    throw new Error('--rate must be at least 2 (the load runs at half of it)');
  const rateScale = new Map<string, number>();
  for (const raw of values['rate-scale'] ?? []) {
    const { name, config: factor } = parseVariant(raw, '--rate-scale', 'factor');
    const f = Number(factor);
    if (!Number.isFinite(f) || f <= 0 || factor.trim() === '') {
      throw new Error(`--rate-scale must look like name=factor with a factor above 0, got "${raw}"`);
    }
    if (rateScale.has(name)) throw new Error(`--rate-scale: ${name} given twice`);
    rateScale.set(name, f);
  }
  if (rateScale.size > 0 && !modes.includes('latency')) {
    throw new Error('--rate-scale is for --mode latency only');
  }
  return {
    modes,
    rounds: positiveInt('--rounds', values.rounds, 3),
    durationS: positiveInt('--duration', values.duration, 10),
    warmupS: nonNegativeInt('--warmup', values.warmup, 2),
    connections: positiveInt('--connections', values.connections, 50),
    streams: positiveInt('--streams', values.streams, 10),
    only,
    profile: values.profile,
    gc: values.gc,
    variants,
    builds,
    nginxVariants,
    headers: (values.header ?? []).map(parseHeader),
    rate,
    rateScale,
    spread: values.spread,
    help: values.help,
  };
}
