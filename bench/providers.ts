// `npm run bench -- providers`: how long a change in an engine takes to become a served route,
// and the proxy's resident memory with many routes from one provider. docs/benchmarking.md.
//
// For each engine (etcd, dockerd, a Kubernetes API server on loopback): the built proxy
// (dist/main.js) with only that provider and providersThrottleDuration 0 (the throttle is a
// setting, not the pipeline's speed); 100 changes, one after the other: a route for /c<i> is
// written into the engine (a key, a container started through the Engine API, an IngressRoute),
// and the time until GET /c<i> through the proxy answers 200 (polled every 2 ms) is recorded.
// RSS is read 3 s after the last change, with `--routes` routes (default 1,000: written before
// the proxy starts, the 100 changes among them) for etcd and Kubernetes, and with the 100
// started containers for Docker.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Backend, startBackend } from '../test/helpers/backends.ts';
import { type Dockerd, IMAGE, startDockerd } from '../test/helpers/dockerd.ts';
import { type Etcd, startEtcd } from '../test/helpers/etcd.ts';
import { startFakeKube } from '../test/helpers/fake-kube.ts';
import { endpointSliceFor, ingressRouteFor, serviceFor } from '../test/helpers/kube-objects.ts';
import { freePort } from '../test/helpers/pebble.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const MAIN = join(ROOT, 'dist', 'main.js');

interface Engine {
  readonly name: string;
  /** The static configuration's providers section. */
  readonly providers: string;
  /** Makes the engine hold a route for /<path> to the backend. */
  put(path: string): Promise<void>;
  /** Prepares what `put` will need without timing it (containers created, not started). */
  prepare?(paths: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

interface Proxy {
  readonly port: number;
  readonly pid: number;
  applied(minRouters: number): Promise<void>;
  stop(): Promise<void>;
}

async function startProxyProcess(providers: string): Promise<Proxy> {
  const port = await freePort();
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'bench-providers-'));
  const config = join(dir, 'traffic.yaml');
  writeFileSync(
    config,
    `entryPoints:\n  web:\n    address: "127.0.0.1:${port}"\nlog: { level: INFO }\nproviders:\n  providersThrottleDuration: 0s\n${providers}`,
  );
  const child = spawn(process.execPath, [MAIN, 'run', '--config', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const waiters: { min: number; resolve: () => void }[] = [];
  let buf = '';
  let routers = 0;
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let nl = buf.indexOf('\n');
    while (nl !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      nl = buf.indexOf('\n');
      try {
        const l = JSON.parse(line) as { msg?: string; routers?: number };
        if (l.msg === 'configuration applied') {
          routers = l.routers ?? 0;
          for (let i = waiters.length - 1; i >= 0; i--) {
            if (routers >= waiters[i]!.min) waiters.splice(i, 1)[0]!.resolve();
          }
        }
      } catch {
        // not a log line
      }
    }
  });
  return {
    port,
    pid: child.pid ?? 0,
    applied: (min) =>
      routers >= min ? Promise.resolve() : new Promise<void>((r) => waiters.push({ min, resolve: r })),
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function status(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function servedAt(port: number, path: string, deadlineMs: number): Promise<number> {
  const until = performance.now() + deadlineMs;
  for (;;) {
    if ((await status(port, path)) === 200) return performance.now();
    if (performance.now() > until) throw new Error(`${path} not served within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** VmRSS (now) or VmHWM (the peak since the process started) of `pid`, in MB. */
function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) / 1024;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function etcdEngine(backend: Backend): Promise<Engine> {
  const etcd: Etcd = await startEtcd();
  return {
    name: 'etcd',
    providers: `  etcd:\n    endpoints: ["${etcd.endpoint}"]\n`,
    put: async (path) => {
      // One transaction per route would be two keys; the service is shared and written once.
      await etcd.put(`traefik/http/routers/${path}/service`, 'app');
      await etcd.put(`traefik/http/routers/${path}/rule`, `Path(\`/${path}\`)`);
    },
    prepare: async () => {
      await etcd.put('traefik/http/services/app/loadbalancer/servers/0/url', backend.url);
    },
    close: () => etcd.close(),
  };
}

async function dockerEngine(backend: Backend): Promise<Engine> {
  const d: Dockerd = await startDockerd();
  const socket = d.endpoint.slice('unix://'.length);
  const startContainer = (name: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        { socketPath: socket, method: 'POST', path: `/containers/${name}/start` },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 204 ? resolve() : reject(new Error(`start ${name}: ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  return {
    name: 'docker',
    providers: `  docker:\n    endpoint: "${d.endpoint}"\n`,
    prepare: async (paths) => {
      for (const p of paths) {
        await d.docker(
          'create',
          '--name',
          p,
          '--network',
          'host',
          '--stop-timeout',
          '1',
          '--label',
          `traefik.http.routers.${p}.rule=Path(\`/${p}\`)`,
          '--label',
          `traefik.http.services.${p}.loadbalancer.server.url=${backend.url}`,
          IMAGE,
          'sleep',
          '3600',
        );
      }
    },
    put: (path) => startContainer(path),
    close: () => d.close(),
  };
}

async function kubeEngine(backend: Backend): Promise<Engine> {
  const kube = await startFakeKube();
  return {
    name: 'kubernetes (API server on loopback)',
    providers: `  kubernetesCRD:\n    endpoint: "${kube.url}"\n`,
    prepare: async () => {
      kube.apply(serviceFor('default', 'app'));
      kube.apply(endpointSliceFor('default', 'app', ['127.0.0.1'], backend.port));
    },
    put: async (path) => {
      kube.apply(ingressRouteFor('default', path, `Path(\`/${path}\`)`, 'app'));
    },
    close: () => kube.close(),
  };
}

async function measure(
  make: (b: Backend) => Promise<Engine>,
  changes: number,
  routes: number,
): Promise<string> {
  const backend = await startBackend((_req, res) => res.end('ok'));
  const engine = await make(backend);
  const names = Array.from({ length: changes }, (_, i) => `c${i}`);
  const bulk = Array.from({ length: Math.max(0, routes - changes) }, (_, i) => `bulk${i}`);
  try {
    await engine.prepare?.(engine.name === 'docker' ? names : []);
    // The routes that are there before the proxy starts (what a cluster has); Docker's are the
    // started containers themselves (a thousand running containers do not fit this machine).
    if (engine.name !== 'docker') for (const b of bulk) await engine.put(b);
    const proxy = await startProxyProcess(engine.providers);
    try {
      await proxy.applied(engine.name === 'docker' ? 0 : bulk.length);
      const times: number[] = [];
      for (const n of names) {
        const t0 = performance.now();
        await engine.put(n);
        times.push((await servedAt(proxy.port, `/${n}`, 30_000)) - t0);
      }
      times.sort((a, b) => a - b);
      await new Promise((r) => setTimeout(r, 3000));
      const total = engine.name === 'docker' ? `${changes} containers` : `${bulk.length + changes} routes`;
      const rss = `, RSS with ${total} ${rssMb(proxy.pid).toFixed(0)} MB (peak ${rssMb(proxy.pid, 'VmHWM').toFixed(0)} MB)`;
      return `${engine.name.padEnd(36)} change → served over ${changes} changes: p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms${rss}`;
    } finally {
      await proxy.stop();
    }
  } finally {
    await engine.close();
    await backend.close();
  }
}

export async function runProviderBench(argv: readonly string[]): Promise<number> {
  const arg = (name: string, fallback: number): number => {
    const i = argv.indexOf(name);
    return i === -1 ? fallback : Number(argv[i + 1]);
  };
  const changes = arg('--changes', 100);
  const routes = arg('--routes', 1000);
  const only = argv.includes('--engine') ? argv[argv.indexOf('--engine') + 1] : undefined;
  const engines: [string, (b: Backend) => Promise<Engine>][] = [
    ['etcd', etcdEngine],
    ['docker', dockerEngine],
    ['kubernetes', kubeEngine],
  ];
  console.log(`providers: ${changes} changes each, providersThrottleDuration 0, proxy ${MAIN}`);
  for (const [name, make] of engines) {
    if (only !== undefined && only !== name) continue;
    console.log(await measure(make, changes, routes));
  }
  return 0;
}
