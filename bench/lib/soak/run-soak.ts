/**
 * The soak: the real proxy (a child process) under mixed traffic for a while, its configuration
 * rewritten every `reloadEveryS`, one backend of a route stopped and restarted every
 * `flapEveryS`, and its memory, heap, descriptors and connections sampled every `sampleEveryS`.
 * The report is the slope of each series after warm-up; at the end the traffic stops and the
 * descriptor count must come back to where it was before the traffic started.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer } from 'ws';
import { type KillableBackend, startKillableBackend } from '../../../test/helpers/killable-backend.ts';
import { type ProxyProcess, startProxy } from '../../../test/helpers/proxy-process.ts';
import { type FullGc, lastFullGc, watchFullGcs } from './gc-trace.ts';
import { type MetricFigures, readMemory, readProc, scrape } from './process-probe.ts';
import { type SeriesSummary, summarize } from './slope.ts';
import { MixedTraffic, type TrafficOptions, type TrafficStats } from './traffic.ts';

export interface SoakOptions {
  readonly durationS: number;
  /** Samples before this are left out of the slopes (pools, JIT and heap settling). */
  readonly warmupS: number;
  readonly sampleEveryS: number;
  readonly reloadEveryS: number;
  /** The flapping server is down for half of each period. */
  readonly flapEveryS: number;
  /** The proxy's entry module (dist/main.js for the soak, src/main.ts in tests). */
  readonly main?: string;
  /** How long idle upstream connections are kept (short in tests, so the end state is reached fast). */
  readonly idleConnTimeout?: string;
  readonly traffic?: Partial<Omit<TrafficOptions, 'base'>>;
  /** Progress lines (a sample, a reload), or nothing. */
  readonly log?: (line: string) => void;
  /** NODE_OPTIONS and such for the proxy. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Run the proxy with `--trace-gc` and sample the heap left after the last full (mark-compact)
   * collection: the live set, without the garbage that makes "heap used" a sawtooth. The best
   * leak signal a short run has. RSS is read at each full collection too, for the RSS less the
   * free pages V8 keeps for its heap (see seriesOf).
   */
  readonly traceGc?: boolean;
  /**
   * `--max-old-space-size` for the proxy: a small old generation makes V8 collect fully every few
   * seconds instead of growing its heap (a short run then sees the live set, not V8's laziness).
   */
  readonly maxOldSpaceMb?: number;
  /**
   * `--max-semi-space-size` for the proxy: under HTTP/2 load V8 grows its young generation to 64 MB
   * per semi-space over minutes (docs/architecture.md, known limits), an RSS climb that is no
   * leak. 16 is what deploy/ runs with.
   */
  readonly maxSemiSpaceMb?: number;
  /**
   * Heap snapshots of the proxy at these seconds into the traffic, written to `snapshotDir` under
   * Node's names (`Heap.<date>.<time>.<pid>.0.<n>.heapsnapshot`; `--heapsnapshot-signal`), for
   * `node bench/heap-diff.ts`. Each pauses the proxy for about a second and leaves its native
   * memory with the allocator: RSS read after the first says little.
   */
  readonly heapSnapshotsAtS?: readonly number[];
  readonly snapshotDir?: string;
}

export interface Sample {
  /** Seconds since the traffic started. */
  readonly t: number;
  readonly rss: number;
  readonly fds: number;
  readonly sockets: number;
  readonly metrics: MetricFigures;
  /** Heap after the latest mark-compact so far (bytes), with traceGc; else 0. */
  readonly liveHeap: number;
}

/** A full collection (with traceGc): seconds since the traffic started, heap left after it. */
export interface GcSample {
  readonly t: number;
  readonly bytes: number;
  /** What V8 holds for its heap after it (bytes); absent in runs saved before it was recorded. */
  readonly committed?: number;
  /** The process's RSS as the collection's trace line arrived (bytes); absent likewise. */
  readonly rss?: number;
  /** Its anonymous and file-backed parts (`RssAnon`, `RssFile` + `RssShmem`); absent likewise. */
  readonly anon?: number;
  readonly file?: number;
}

export interface SoakResult {
  readonly options: SoakOptions;
  readonly samples: readonly Sample[];
  /** Every full collection during the traffic (with traceGc): the series read at full GCs. */
  readonly fullGcs: readonly GcSample[];
  readonly series: readonly SeriesSummary[];
  readonly traffic: TrafficStats;
  readonly reloads: number;
  readonly reloadsApplied: number;
  readonly flaps: number;
  /** The proxy's active health check on the flapping server: `server down` and `server up` lines. */
  readonly healthChanges: { readonly down: number; readonly up: number };
  /** Requests (not probes) the flapping server answered while it was up. */
  readonly flappyServed: number;
  /** Descriptors before the traffic, and once everything closed after it. */
  readonly idle: { readonly before: ProcIdle; readonly after: ProcIdle };
  /** `request failed` log lines, by error code (every 5xx the proxy produced is one of these). */
  readonly failuresLogged: Record<string, number>;
  /** Log lines at level error other than request failures (should be none). */
  readonly otherErrors: readonly string[];
  readonly proxyExit: number | null;
}

export interface ProcIdle {
  readonly fds: number;
  readonly rss: number;
  /** Client connections and WebSocket tunnels the proxy counts (its metrics). */
  readonly connections: number;
  readonly tunnels: number;
}

/** Descriptors a health probe in flight may hold at the moment of a reading. */
export const IDLE_FD_SLACK = 2;

function parseDuration(d: string): number {
  const m = /^(\d+)(ms|s|m)$/.exec(d);
  if (m === null) throw new Error(`duration ${d}: use ms, s or m`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}

const DEFAULT_TRAFFIC: Omit<TrafficOptions, 'base'> = {
  keepAliveClients: 4,
  newConnectionClients: 2,
  h2Streams: 4,
  webSockets: 4,
  flapClients: 2,
  pauseMs: 5,
  h2SessionMs: 30_000,
  wsLifeMs: 20_000,
};

/** The echo backend: HTTP answers with a small body, WebSocket messages come back. */
async function startEchoBackend(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`echo ${req.url}`);
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function staticConfig(idleConnTimeout: string): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
metrics:
  prometheus: { entryPoint: traefik, addRoutersLabels: true }
log:
  level: INFO
serversTransport:
  forwardingTimeouts: { idleConnTimeout: ${idleConnTimeout} }
providers:
  file:
    directory: dynamic
    watch: true
`;
}

/**
 * Generation `g` of the dynamic configuration: every reload changes a middleware (rebuilt), moves
 * the new-connection route to the other of two services (its pool retired, the other's made),
 * and adds or removes a router.
 */
export function dynamicConfig(g: number, echo: string, stable: string, flappy: string): string {
  const nc = g % 2 === 0 ? 'nc-a' : 'nc-b';
  const extra = g % 3 === 0 ? `    extra-${g}: { rule: "PathPrefix(\`/extra/${g}\`)", service: main }\n` : '';
  return `http:
  routers:
    ka: { rule: "PathPrefix(\`/ka\`)", service: main, middlewares: [stamp] }
    nc: { rule: "PathPrefix(\`/nc\`)", service: ${nc} }
    h2: { rule: "PathPrefix(\`/h2\`)", service: main, middlewares: [stamp] }
    ws: { rule: "PathPrefix(\`/ws\`)", service: main }
    flap: { rule: "PathPrefix(\`/flap\`)", service: flap }
${extra}  middlewares:
    stamp:
      headers:
        customResponseHeaders: { X-Soak-Generation: "${g}" }
  services:
    main:
      loadBalancer: { servers: [{ url: "${echo}" }] }
    nc-a:
      loadBalancer: { servers: [{ url: "${echo}" }] }
    nc-b:
      loadBalancer: { servers: [{ url: "${echo}" }] }
    flap:
      loadBalancer:
        servers: [{ url: "${stable}" }, { url: "${flappy}" }]
        healthCheck: { path: /health, interval: 1s, timeout: 500ms }
`;
}

/**
 * The summaries of every sampled series, from `fromS` on. The series read at full collections
 * (with traceGc) are fitted over every one of them rather than over the samples: V8 collects
 * fully every few seconds with a small old generation, which gives a short run many more points
 * than its samples.
 *
 * RSS itself swings with the young generation, not with leaks: whatever shrinks it (a
 * memory-reducing collection: until ReloadSettler, src/core/settle-heap.ts, the proxy ran one
 * after reloads every 20–60 s under traffic), V8 grows it back to its semi-space limit over the
 * next tens of seconds, and what V8 holds for its heap (the 2-minute soak: ~17 MB, then up to
 * ~49 MB) drops and climbs again with it. On a short run that makes RSS's trend noise of the
 * size of that swing, read at fixed-pace samples or at full collections alike. "RSS less free
 * V8 heap" takes it out: at each full collection, RSS minus what V8 holds beyond the live set,
 * i.e. what the process holds outside V8's heap plus the live set (less, for up to ~10 s after
 * the young generation grows, the pages V8 took and has not touched yet). A leak off the heap
 * grows it as it grows RSS; one on the heap is the live heap's to show.
 */
export function seriesOf(
  samples: readonly Sample[],
  fromS: number,
  gcs: readonly GcSample[] = [],
): SeriesSummary[] {
  const t = samples.map((s) => s.t);
  const of = (name: string, unit: string, f: (s: Sample) => number): SeriesSummary =>
    summarize(name, unit, t, samples.map(f), fromS);
  const atGcs = (name: string, f: (g: GcSample) => number): SeriesSummary =>
    summarize(
      name,
      'bytes',
      gcs.map((g) => g.t),
      gcs.map(f),
      fromS,
    );
  const withRss = gcs.length > 0 && gcs.every((g) => g.rss !== undefined && g.committed !== undefined);
  const withSplit = withRss && gcs.every((g) => g.anon !== undefined && g.file !== undefined);
  return [
    of('RSS', 'bytes', (s) => s.rss),
    ...(withRss
      ? [atGcs('RSS less free V8 heap', (g) => (g.rss ?? 0) - ((g.committed ?? 0) - g.bytes))]
      : []),
    of('V8 heap used', 'bytes', (s) => s.metrics.heapUsed),
    ...(gcs.length > 0 ? [atGcs('heap after full GC', (g) => g.bytes)] : []),
    // The live set's two parts: code, which V8 keeps compiling for hours as cold paths (a
    // reload's, a health check's, a flap's) cross its tiering thresholds, bounded by the program;
    // and the objects, where a leak would show (docs/operations.md, "What the live set's growth is").
    ...(samples.some((s) => s.metrics.codeHeap > 0)
      ? [
          of('V8 code and bytecode', 'bytes', (s) => s.metrics.codeHeap),
          ...(gcs.length > 0
            ? [summarize('heap after full GC less code', 'bytes', ...codeLess(samples), fromS)]
            : []),
        ]
      : []),
    ...(withRss ? [atGcs('heap committed after full GC', (g) => g.committed ?? 0)] : []),
    // Off V8's heap, the two ways RSS can grow: anonymous pages (malloc's arenas, buffers, the
    // JIT's zones; a native leak shows here) and the pages of mapped files (node's own binary,
    // paged in as code paths run for the first time; bounded by its size).
    ...(withSplit
      ? [
          atGcs('anonymous RSS less free V8 heap', (g) => (g.anon ?? 0) - ((g.committed ?? 0) - g.bytes)),
          atGcs('file-backed RSS', (g) => g.file ?? 0),
        ]
      : []),
    ...(samples.some((s) => s.metrics.external > 0)
      ? [of('V8 external memory', 'bytes', (s) => s.metrics.external)]
      : []),
    of('file descriptors', 'fds', (s) => s.fds),
    of('client connections', 'connections', (s) => s.metrics.openConnections),
    of('upstream connections', 'connections', (s) => s.metrics.upstreamConnections),
    of('WebSocket tunnels', 'tunnels', (s) => s.metrics.tunnels),
  ];
}

/**
 * The live set less the code spaces, at the samples taken after a first full collection: the
 * latest full collection's heap less the code in use at the sample (code changes over minutes,
 * so the few seconds between the two readings do not matter).
 */
function codeLess(samples: readonly Sample[]): [number[], number[]] {
  const t: number[] = [];
  const v: number[] = [];
  for (const s of samples) {
    if (s.liveHeap <= 0) continue;
    t.push(s.t);
    v.push(s.liveHeap - s.metrics.codeHeap);
  }
  return [t, v];
}

/** Polls /proc until the descriptor count is at most `target` (the end of a soak is not an event). */
async function settleFds(
  pid: number,
  target: number,
  timeoutMs: number,
  metricsUrl: string,
): Promise<ProcIdle> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const p = readProc(pid);
    if (p.fds <= target || performance.now() > deadline) {
      const m = await scrape(metricsUrl);
      return { fds: p.fds, rss: p.rss, connections: m.openConnections, tunnels: m.tunnels };
    }
    await sleep(250);
  }
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => {});
  const echo = await startEchoBackend();
  const stable: KillableBackend = await startKillableBackend('stable');
  const flappy: KillableBackend = await startKillableBackend('flappy');
  let proxy: ProxyProcess | undefined;
  try {
    let generation = 1;
    // --trace-gc stamps lines with the isolate's clock; the spawn is its origin, to within the
    // few milliseconds node takes to start its isolate (nothing next to a slope over minutes).
    const spawnedAt = performance.now();
    const snapshotsAt = [...(o.heapSnapshotsAtS ?? [])].sort((a, b) => a - b);
    proxy = await startProxy({
      config: staticConfig(o.idleConnTimeout ?? '90s'),
      files: { [join('dynamic', 'soak.yaml')]: dynamicConfig(generation, echo.url, stable.url, flappy.url) },
      ...(o.main !== undefined ? { main: o.main } : {}),
      ...(o.env !== undefined ? { env: o.env } : {}),
      nodeArgs: [
        ...(o.traceGc === true ? ['--trace-gc'] : []),
        ...(o.maxOldSpaceMb !== undefined ? [`--max-old-space-size=${o.maxOldSpaceMb}`] : []),
        ...(o.maxSemiSpaceMb !== undefined ? [`--max-semi-space-size=${o.maxSemiSpaceMb}`] : []),
        ...(snapshotsAt.length > 0
          ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${o.snapshotDir ?? '.'}`]
          : []),
      ],
    });
    const p = proxy;
    const pid = p.child.pid!;
    // RSS read as each full collection is reported, beside what V8 then holds for its heap.
    // (The proxy's start-up collections, before this, are no part of the run.)
    const fullGcLog: (FullGc & { rss: number; anon: number; file: number })[] = [];
    if (o.traceGc === true) {
      watchFullGcs(p.child.stdout!, (g) => {
        try {
          fullGcLog.push({ ...g, ...readMemory(pid) });
        } catch {
          // the proxy has exited (its last lines read after the end)
        }
      });
    }
    const base = `http://127.0.0.1:${p.ports['web']}`;
    const metricsUrl = `http://127.0.0.1:${p.ports['traefik']}/metrics`;
    // The idle baseline: configuration applied, health checks running, metrics served once, no
    // client and no pooled upstream connection yet.
    await scrape(metricsUrl);
    const before = await settleFds(pid, 0, 0, metricsUrl);

    const traffic = new MixedTraffic({ base, ...DEFAULT_TRAFFIC, ...o.traffic });
    const samples: Sample[] = [];
    const started = performance.now();
    const elapsed = (): number => (performance.now() - started) / 1000;
    traffic.start();

    let reloads = 0;
    let flaps = 0;
    let nextSample = 0;
    let nextReload = o.reloadEveryS;
    let nextFlap = o.flapEveryS / 2;
    while (elapsed() < o.durationS) {
      const now = elapsed();
      if (now >= nextSample) {
        nextSample += o.sampleEveryS;
        const proc = readProc(pid);
        const metrics = await scrape(metricsUrl);
        const liveHeap = lastFullGc(p.stdout());
        const s: Sample = { t: now, rss: proc.rss, fds: proc.fds, sockets: proc.sockets, metrics, liveHeap };
        samples.push(s);
        log(
          `t=${now.toFixed(0)}s rss=${(s.rss / 2 ** 20).toFixed(1)}MiB heap=${(metrics.heapUsed / 2 ** 20).toFixed(1)}MiB ` +
            `fds=${s.fds} conns=${metrics.openConnections} upstream=${metrics.upstreamConnections} tunnels=${metrics.tunnels}`,
        );
      }
      if (now >= nextReload) {
        nextReload += o.reloadEveryS;
        generation++;
        reloads++;
        p.writeFile(
          join('dynamic', 'soak.yaml'),
          dynamicConfig(generation, echo.url, stable.url, flappy.url),
        );
      }
      if (snapshotsAt.length > 0 && now >= snapshotsAt[0]!) {
        snapshotsAt.shift();
        process.kill(pid, 'SIGUSR2');
        log(`t=${now.toFixed(0)}s heap snapshot requested (${o.snapshotDir ?? '.'})`);
      }
      if (now >= nextFlap) {
        nextFlap += o.flapEveryS / 2;
        if (flappy.listening) await flappy.stop();
        else await flappy.restart();
        flaps++;
      }
      const next = Math.min(nextSample, nextReload, nextFlap, snapshotsAt[0] ?? Infinity, o.durationS);
      await sleep(Math.max(0.01, next - elapsed()) * 1000);
    }
    const stats = await traffic.stop();
    if (!flappy.listening) await flappy.restart();
    // Idle: client connections closed, upstream pools emptied by idleConnTimeout. A health probe
    // in flight may hold a descriptor or two at any moment, before as after.
    const after = await settleFds(
      pid,
      before.fds + IDLE_FD_SLACK,
      parseDuration(o.idleConnTimeout ?? '90s') + 30_000,
      metricsUrl,
    );

    const trafficOrigin = started - spawnedAt;
    const gcs: GcSample[] = fullGcLog
      .map((g) => ({
        t: (g.ms - trafficOrigin) / 1000,
        bytes: g.bytes,
        committed: g.committed,
        rss: g.rss,
        anon: g.anon,
        file: g.file,
      }))
      .filter((g) => g.t >= 0 && g.t <= o.durationS);
    const series = seriesOf(samples, o.warmupS, gcs);
    const failuresLogged: Record<string, number> = {};
    const otherErrors: string[] = [];
    let reloadsApplied = 0;
    const healthChanges = { down: 0, up: 0 };
    for (const l of p.logs) {
      if (l.msg === 'request failed') {
        const code = String(l.code);
        failuresLogged[code] = (failuresLogged[code] ?? 0) + 1;
      } else if (l.msg === 'configuration applied') {
        reloadsApplied++;
      } else if (l.msg === 'server down' || l.msg === 'server up') {
        healthChanges[l.msg === 'server down' ? 'down' : 'up']++;
      } else if (l.level === 'error' || l.level === 'raw') {
        if (otherErrors.length < 20) otherErrors.push(JSON.stringify(l));
      }
    }
    // The first "configuration applied" is the start, not a reload.
    reloadsApplied = Math.max(0, reloadsApplied - 1);
    const proxyExit = await p.stop();
    proxy = undefined;
    return {
      options: o,
      samples,
      fullGcs: gcs,
      series,
      traffic: stats,
      reloads,
      reloadsApplied,
      flaps,
      healthChanges,
      flappyServed: flappy.traffic.value,
      idle: { before, after },
      failuresLogged,
      otherErrors,
      proxyExit,
    };
  } finally {
    await proxy?.stop('SIGKILL');
    await Promise.all([echo.close(), stable.close(), flappy.close()]);
  }
}
