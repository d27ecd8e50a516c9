/**
 * How evenly SO_REUSEPORT spreads load over data-plane workers (docs/performance.md):
 *
 *   npm run build && node bench/workers-spread.ts [workers=2] [connections=50] [seconds=10] [runs=3]
 *
 * Each run starts the built proxy (`dist/main.js`) with `workers: N` on ephemeral ports in front
 * of a local node:http backend, drives it with `wrk -t1 -cC -dS`, reads the per-worker request
 * counts from /metrics (`traffic_worker_requests_total`) and prints each worker's share and the
 * largest deviation from an even split. A new proxy per run: the kernel's hash depends on the
 * client ports, which differ from run to run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const [workers = 2, connections = 50, seconds = 10, runs = 3] = process.argv.slice(2).map(Number);

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** `traffic_worker_<family>{worker="N"}` per worker, in slot order. */
function perWorker(text: string, family: string): number[] {
  const out = new Array<number>(workers).fill(0);
  for (const m of text.matchAll(new RegExp(`^traffic_worker_${family}\\{worker="(\\d+)"\\} (\\S+)$`, 'gm'))) {
    out[Number(m[1]) - 1] = Number(m[2]);
  }
  return out;
}

async function oneRun(backendPort: number): Promise<{ requests: number[]; connections: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-spread-'));
  const config = join(dir, 'traffic.yaml');
  writeFileSync(
    config,
    `workers: ${workers}
log: { level: INFO, format: json }
providers: { file: { filename: "${config}" } }
entryPoints:
  web: { address: "127.0.0.1:0" }
  traefik: { address: "127.0.0.1:0" }
metrics: { prometheus: { entryPoint: traefik } }
http:
  routers:
    all: { entryPoints: [web], rule: "PathPrefix(\`/\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "http://127.0.0.1:${backendPort}" }] } }
`,
  );
  const proxy = spawn(process.execPath, [join(ROOT, 'dist', 'main.js'), 'run', '--config', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const ports: Record<string, number> = {};
  let serving = 0;
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    proxy.once('exit', (code) => reject(new Error(`proxy exited (${code})`)));
    proxy.stderr!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
        buf = buf.slice(nl + 1);
        if (line['msg'] === 'entry point listening') {
          ports[String(line['entryPoint'])] ??= Number(String(line['address']).split(':').pop());
        }
        if (line['msg'] === 'worker serving' && ++serving === workers) resolve();
      }
    });
  });
  try {
    // Not spawnSync: the backend answers from this process's event loop.
    const wrk = spawn(
      'wrk',
      ['-t1', `-c${connections}`, `-d${seconds}s`, `http://127.0.0.1:${ports['web']}/`],
      {
        stdio: 'ignore',
      },
    );
    // Midway, how many connections each worker holds: the kernel's hash, before CPU shares.
    const midway = new Promise<number[]>((resolve) =>
      setTimeout(
        async () => resolve(perWorker(await scrape(ports['traefik']!), 'open_connections')),
        (seconds * 1000) / 2,
      ),
    );
    const status = await new Promise<number | null>((resolve, reject) => {
      wrk.once('error', (e) => reject(new Error(`wrk: ${e.message} (apt-get install -y wrk)`)));
      wrk.once('exit', resolve);
    });
    if (status !== 0) throw new Error(`wrk exited with ${status}`);
    return {
      requests: perWorker(await scrape(ports['traefik']!), 'requests_total'),
      connections: await midway,
    };
  } finally {
    proxy.kill('SIGTERM');
    await new Promise((r) => proxy.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const backend = createServer((_req, res) => res.end('hello world\n'));
await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
const port = (backend.address() as AddressInfo).port;
console.log(`workers=${workers} connections=${connections} ${seconds}s × ${runs} runs (wrk -t1)`);
for (let run = 1; run <= runs; run++) {
  const { requests, connections: conns } = await oneRun(port);
  const total = requests.reduce((a, b) => a + b, 0);
  const even = total / workers;
  const worst = Math.max(...requests.map((c) => Math.abs(c - even) / even));
  const shares = requests.map((c, i) => `w${i + 1}=${c} (${((100 * c) / total).toFixed(1)}%)`).join(' ');
  console.log(
    `run ${run}: requests ${shares}, largest deviation from even ${(100 * worst).toFixed(1)}%; connections ${conns.join('/')}`,
  );
}
backend.close();
