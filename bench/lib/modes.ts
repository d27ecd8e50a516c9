/** What `--mode` selects: the protocol between the load generator and the proxies, and the client. */
export const MODES = [
  'http',
  'https',
  'h2',
  'handshake',
  'ws',
  'compress',
  'grpc',
  'tcp-bulk',
  'tcp-conn',
  'udp',
  'overload',
  'latency',
  'workers',
] as const;
export type BenchMode = (typeof MODES)[number];

export interface ModeInfo {
  /** The load generator: wrk (HTTP/1.1 keep-alive), h2load (HTTP/2), our handshake, WebSocket, layer-4 or overload clients. */
  readonly client:
    | 'wrk'
    | 'h2load'
    | 'handshake-client'
    | 'ws-client'
    | 'l4-client'
    | 'overload-clients'
    | 'latency-client';
  readonly tls: boolean;
  /** What one unit of work is: CPU µs per request, or per handshake (connection + one request). */
  readonly unit: 'req' | 'hs' | 'msg' | 'MiB' | 'conn' | 'dgram';
  /** ALPN the client offers; the runner checks the proxy agreed (undefined: none offered). */
  readonly alpn: readonly string[] | undefined;
  /** Latency columns the client can give: wrk has a distribution, the others a mean and a max. */
  readonly latency: 'percentiles' | 'mean-max';
  readonly describe: string;
  /** Nothing pinned in this mode, whatever --spread says: each worker of a proxy may have a core. */
  readonly spread?: true;
}

export const MODE_INFO: Readonly<Record<BenchMode, ModeInfo>> = {
  http: {
    client: 'wrk',
    tls: false,
    unit: 'req',
    alpn: undefined,
    latency: 'percentiles',
    describe: 'HTTP/1.1 keep-alive, cleartext (wrk)',
  },
  https: {
    client: 'wrk',
    tls: true,
    unit: 'req',
    alpn: undefined,
    latency: 'percentiles',
    describe: 'HTTP/1.1 keep-alive over TLS (wrk)',
  },
  h2: {
    client: 'h2load',
    tls: true,
    unit: 'req',
    alpn: ['h2'],
    latency: 'mean-max',
    describe: 'HTTP/2 over TLS, ALPN h2 (h2load)',
  },
  handshake: {
    client: 'handshake-client',
    tls: true,
    unit: 'hs',
    alpn: ['http/1.1'],
    latency: 'mean-max',
    describe: 'a full TLS handshake and one request per connection (bench/lib/handshake-client.ts)',
  },
  ws: {
    client: 'ws-client',
    tls: false,
    unit: 'msg',
    alpn: undefined,
    latency: 'mean-max',
    describe: 'WebSocket echo of 64-byte messages, one round trip per message (bench/lib/ws-client.ts)',
  },
  compress: {
    client: 'wrk',
    tls: false,
    unit: 'req',
    alpn: undefined,
    latency: 'percentiles',
    describe: 'a 100 KB JSON response gzip-compressed at level 1 by the proxy (wrk, Accept-Encoding: gzip)',
  },
  grpc: {
    client: 'h2load',
    tls: false,
    unit: 'req',
    alpn: undefined,
    latency: 'mean-max',
    describe: 'gRPC unary over h2c (h2load with a gRPC body) to a Node h2c backend',
  },
  'tcp-bulk': {
    client: 'l4-client',
    tls: false,
    unit: 'MiB',
    alpn: undefined,
    latency: 'mean-max',
    describe: 'TCP: 1 GiB through one connection to a byte sink (bench/lib/l4-client.ts)',
  },
  'tcp-conn': {
    client: 'l4-client',
    tls: false,
    unit: 'conn',
    alpn: undefined,
    latency: 'mean-max',
    describe: 'TCP: a new connection per 1 KiB echo (bench/lib/l4-client.ts)',
  },
  udp: {
    client: 'l4-client',
    tls: false,
    unit: 'dgram',
    alpn: undefined,
    latency: 'mean-max',
    describe:
      'UDP: 64-byte datagrams and their echo, a closed loop per client socket (bench/lib/l4-client.ts)',
  },
  overload: {
    client: 'overload-clients',
    tls: false,
    unit: 'req',
    alpn: undefined,
    latency: 'percentiles',
    describe:
      'a fixed-rate probe unloaded, then under 2,000 slowloris connections and 200 slow POSTs (bench/lib/overload.ts)',
  },
  latency: {
    client: 'latency-client',
    tls: false,
    unit: 'req',
    alpn: undefined,
    latency: 'percentiles',
    describe:
      "HTTP/1.1 keep-alive at a constant rate, half of nginx's maximum, timed from when each request was due (bench/lib/latency-client.ts)",
  },
  workers: {
    client: 'wrk',
    tls: false,
    unit: 'req',
    alpn: undefined,
    latency: 'percentiles',
    describe:
      'HTTP/1.1 keep-alive, cleartext (wrk), every proxy with one and with two workers, nothing pinned',
    spread: true,
  },
};

/** Which CPUs (taskset lists) the proxy and its backend, and the client and the runner, may use. */
export interface CpuLayout {
  readonly proxy: string;
  readonly client: string;
}

/** The default: the client and the runner on CPU 0, the proxy and its backend on CPU 1. */
export const PINNED: CpuLayout = { proxy: '1', client: '0' };

/**
 * A mode's layout: pinned, or every CPU for everything with `--spread` or in a mode that spreads
 * (`--mode workers`: with N workers the kernel can give each its own core).
 */
export function cpuLayout(mode: BenchMode, spread: boolean, cpuCount: number): CpuLayout {
  if (!spread && MODE_INFO[mode].spread !== true) return PINNED;
  const all = cpuCount > 1 ? `0-${cpuCount - 1}` : '0';
  return { proxy: all, client: all };
}

/** TCP and UDP modes: their own backend, peers and readiness (no HTTP anywhere). */
export function isL4(mode: BenchMode): boolean {
  return MODE_INFO[mode].client === 'l4-client';
}

/** `--mode tls` is short for the three TLS modes, `--mode l4` for the TCP and UDP ones. */
const ALIASES: Readonly<Record<string, readonly BenchMode[]>> = {
  tls: ['https', 'h2', 'handshake'],
  l4: ['tcp-bulk', 'tcp-conn', 'udp'],
};

/** `--mode http,h2` → ['http', 'h2']: known names (or `tls`), no repeats, in the order given. */
export function parseModes(raw: string | undefined): BenchMode[] {
  if (raw === undefined) return ['http'];
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new Error(`--mode needs at least one of ${MODES.join(', ')}`);
  const out: BenchMode[] = [];
  for (const name of names) {
    const alias = ALIASES[name];
    const mode = MODES.find((m) => m === name);
    if (alias === undefined && mode === undefined) {
      throw new Error(`unknown --mode "${name}" (known: ${MODES.join(', ')}, tls, l4)`);
    }
    for (const m of alias ?? [mode!]) if (!out.includes(m)) out.push(m);
  }
  return out;
}
