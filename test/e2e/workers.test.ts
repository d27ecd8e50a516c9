import assert from 'node:assert/strict';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { type Backend, startBackend } from '../helpers/backends.ts';
import type { ProxyProcess } from '../helpers/proxy-process.ts';
import { runCli } from '../helpers/run-cli.ts';
import { TestPki } from '../helpers/tls-certs.ts';
import { Counter, gate, waitForFileLines, waitForLogFrom } from '../helpers/wait.ts';
import {
  get,
  getMany,
  killWorkers,
  probedByControlPlaneOnly,
  STARTUP_MS,
  scrape,
  serving,
  startWorkers,
} from '../helpers/workers.ts';

/*
 * `--workers 2`: the real proxy as a control plane and two data-plane worker processes sharing
 * the entry point's port (SO_REUSEPORT). Requests go on new connections each, so the kernel
 * spreads them over both workers; /metrics (answered through the control plane) tells which
 * worker served how many.
 */

function dynamic(backend: Backend, generation: string): string {
  return `http:
  routers:
    all:
      rule: "PathPrefix(\`/\`)"
      entryPoints: [web]
      service: be
      middlewares: [gen]
  middlewares:
    gen:
      headers:
        customResponseHeaders: { X-Config: "${generation}" }
  services:
    be:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
`;
}

describe('workers: two data-plane processes behind one control plane', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  const slowArrived = new Counter();
  const slowGate = gate();

  before(async () => {
    backend = await startBackend((req, res) => {
      if (req.url === '/slow') {
        slowArrived.inc();
        void slowGate.promise.then(() => res.end('slow done'));
        return;
      }
      res.end('ok');
    });
    // The control plane applies first; each worker then builds and swaps to that configuration.
    proxy = await startWorkers({
      config: `workers: 2
log: { level: INFO, format: json }
entryPoints:
  web:
    address: "127.0.0.1:0"
    transport: { lifeCycle: { graceTimeOut: 30s } }
  traefik:
    address: "127.0.0.1:0"
api: { insecure: true }
metrics:
  prometheus: { entryPoint: traefik, addEntryPointsLabels: true }
providers:
  file: { filename: dynamic.yaml, watch: true }
accessLog: { filePath: access.log }
`,
      files: { 'dynamic.yaml': dynamic(backend, 'one') },
    });
  });

  after(async () => {
    slowGate.open();
    await killWorkers(proxy);
    await backend?.close();
  });

  it('binds one port for both workers and serves from both; one /metrics total equals the requests sent', async () => {
    const listening = proxy.logs.filter((l) => l.msg === 'entry point listening' && l.entryPoint === 'web');
    assert.deepEqual(new Set(listening.map((l) => l.worker)), new Set([1, 2]));
    assert.equal(new Set(listening.map((l) => l.address)).size, 1, 'both workers on the same address');
    const before = await scrape(proxy.ports['traefik']!);
    const replies = await getMany(proxy.ports['web']!, 100);
    assert.deepEqual(
      replies.map((r) => r.status),
      replies.map(() => 200),
    );
    const after = await scrape(proxy.ports['traefik']!);
    assert.equal(after.webTotal - before.webTotal, 100, 'the summed counter counts every request once');
    const delta = [...after.perWorker].map(([w, n]) => [w, n - (before.perWorker.get(w) ?? 0)] as const);
    assert.equal(
      delta.reduce((s, [, n]) => s + n, 0),
      100,
    );
    for (const [w, n] of delta) assert.ok(n > 0, `worker ${w} served none of 100 requests: ${after.text}`);
    assert.equal(after.pids.size, 2);
    assert.notEqual(after.pids.get('1'), after.pids.get('2'));
    // One access log: both workers append whole lines to the same file.
    const lines = await waitForFileLines(join(proxy.dir, 'access.log'), 100);
    assert.equal(lines.length, 100);
    for (const l of lines) assert.match(l, /"GET \/ HTTP\/1\.1" 200 /);
  });

  it('reaches every worker with a reload: each swaps to the new configuration', async () => {
    const from = proxy.logs.length;
    proxy.writeFile('dynamic.yaml', dynamic(backend, 'two'));
    const applied = await waitForLogFrom(proxy, from, (l) => l.msg === 'configuration applied');
    const all = await waitForLogFrom(
      proxy,
      from,
      (l) => l.msg === 'workers applied configuration' && l.generation === applied.generation,
    );
    assert.equal(all.workers, 2);
    const before = await scrape(proxy.ports['traefik']!);
    const replies = await getMany(proxy.ports['web']!, 60);
    assert.deepEqual(new Set(replies.map((r) => r.headers['x-config'])), new Set(['two']));
    const after = await scrape(proxy.ports['traefik']!);
    for (const w of ['1', '2']) {
      assert.ok(after.perWorker.get(w)! > before.perWorker.get(w)!, `worker ${w} served after the reload`);
    }
  });

  it('replaces a worker killed with SIGKILL while the other keeps serving', async () => {
    const { pids } = await scrape(proxy.ports['traefik']!);
    const victim = pids.get('1')!;
    const from = proxy.logs.length;
    process.kill(victim, 'SIGKILL');
    await waitForLogFrom(proxy, from, (l) => l.msg === 'worker exited: replacing it' && l.pid === victim);
    // The dead worker's socket is closed: every new connection goes to worker 2 until 1 is back.
    const during = await getMany(proxy.ports['web']!, 30);
    assert.deepEqual(
      during.map((r) => r.status),
      during.map(() => 200),
    );
    await waitForLogFrom(proxy, from, serving(1, victim), STARTUP_MS);
    const s = await scrape(proxy.ports['traefik']!);
    assert.notEqual(s.pids.get('1'), victim);
    assert.match(s.text, /^traffic_worker_restarts_total 1$/m);
    // The replacement serves the configuration in force (the reload before it started).
    const replies = await getMany(proxy.ports['web']!, 60);
    assert.deepEqual(new Set(replies.map((r) => r.headers['x-config'])), new Set(['two']));
    const after = await scrape(proxy.ports['traefik']!);
    assert.ok(after.perWorker.get('1')! > 0, 'the replacement serves');
  });

  it('drains on SIGTERM: a request in flight completes, then every process exits', async () => {
    const reply = get(proxy.ports['web']!, '/slow');
    await slowArrived.reach(1);
    const from = proxy.logs.length;
    proxy.child.kill('SIGTERM');
    // Both workers have begun draining before the backend answers.
    await waitForLogFrom(proxy, from, (l) => l.msg === 'shutting down' && l.worker === 1);
    await waitForLogFrom(proxy, from, (l) => l.msg === 'shutting down' && l.worker === 2);
    slowGate.open();
    const r = await reply;
    assert.equal(r.status, 200);
    assert.equal(r.body, 'slow done');
    assert.equal(await proxy.exited, 0);
    const stopped = proxy.logs.slice(from).filter((l) => l.msg === 'stopped');
    assert.deepEqual(new Set(stopped.map((l) => l.worker)), new Set([1, 2, undefined]));
  });
});

describe('workers: active health checks run in the control plane only', () => {
  let a: Backend;
  let b: Backend;
  let proxy: ProxyProcess;
  const probes = { a: new Counter(), b: new Counter() };

  before(async () => {
    a = await startBackend((req, res) => {
      if (req.url === '/health') probes.a.inc();
      res.end('A');
    });
    b = await startBackend((req, res) => {
      if (req.url === '/health') {
        probes.b.inc();
        res.statusCode = 500;
      }
      res.end('B');
    });
    proxy = await startWorkers({
      config: `workers: 2
log: { level: DEBUG, format: json }
entryPoints:
  web: { address: "127.0.0.1:0" }
  traefik: { address: "127.0.0.1:0" }
api: { insecure: true }
metrics:
  prometheus: { entryPoint: traefik }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", entryPoints: [web], service: be }
  services:
    be:
      loadBalancer:
        # One probe per server in the first tenth of the interval, the next a minute later; the
        # probes are counted against the control plane's "health probe" lines (DEBUG) anyway.
        healthCheck: { path: /health, interval: 60s, timeout: 5s }
        servers: [{ url: "${a.url}" }, { url: "${b.url}" }]
`,
      entryPoints: 2,
    });
  });

  after(async () => {
    await killWorkers(proxy);
    await a?.close();
    await b?.close();
  });

  it('probes each server once for the whole proxy and every worker stops using the one found down', async () => {
    await proxy.waitForLog(
      (l) => l.msg === 'server down' && String(l.server).includes(String(b.port)),
      20_000,
    );
    // The first probes are spread over a tenth of the interval (6 s): A's may come after B's.
    await probes.a.reach(1, "the control plane's probe of A", 20_000);
    // The verdict travels to each worker before a scrape's request on the same channel: once the
    // scrape has both workers' answers, both have it.
    const s = await scrape(proxy.ports['traefik']!);
    assert.equal(s.pids.size, 2);
    const replies = await getMany(proxy.ports['web']!, 40);
    assert.deepEqual(new Set(replies.map((r) => r.body)), new Set(['A']));
    const after = await scrape(proxy.ports['traefik']!);
    for (const w of ['1', '2']) assert.ok(after.perWorker.get(w)! > 0, `worker ${w} served`);
    // Each server got the control plane's probes and no other: the workers do not probe.
    await probedByControlPlaneOnly(proxy, `127.0.0.1:${b.port}`, () => probes.b.value);
    await probedByControlPlaneOnly(proxy, `127.0.0.1:${a.port}`, () => probes.a.value);
  });
});

/** One request on a new TLS connection offering `session`; whether it resumed, and its ticket. */
function tlsGet(port: number, ca: string, session?: Buffer): Promise<{ reused: boolean; session?: Buffer }> {
  return new Promise((resolve, reject) => {
    let ticket: Buffer | undefined;
    let reused = false;
    const s = tlsConnect(
      { host: '127.0.0.1', port, servername: 'a.test', ca, ...(session ? { session } : {}) },
      () => {
        reused = s.isSessionReused();
        s.write('GET / HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
      },
    );
    s.on('session', (b: Buffer) => {
      ticket ??= b;
    });
    s.resume();
    s.on('error', reject);
    s.on('close', () => resolve({ reused, ...(ticket !== undefined ? { session: ticket } : {}) }));
  });
}

describe('workers: TLS sessions resume on any worker', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let pki: TestPki;

  before(async () => {
    backend = await startBackend((_req, res) => res.end('ok'));
    pki = new TestPki('Workers CA');
    const cert = pki.issue('a.test', ['a.test']);
    proxy = await startWorkers({
      config: `workers: 2
log: { level: INFO, format: json }
entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
  traefik:
    address: "127.0.0.1:0"
api: { insecure: true }
metrics:
  prometheus: { entryPoint: traefik, addEntryPointsLabels: true }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", entryPoints: [websecure], service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
tls:
  certificates:
    - { certFile: "${cert.certFile}", keyFile: "${cert.keyFile}" }
`,
    });
  });

  after(async () => {
    await killWorkers(proxy);
    await backend?.close();
  });

  it('shares the ticket keys: a ticket from one worker resumes on the other', async () => {
    const first = await tlsGet(proxy.ports['websecure']!, pki.ca.certPem);
    assert.ok(first.session, 'a session ticket was sent');
    const before = await scrape(proxy.ports['traefik']!);
    const tries: boolean[] = [];
    for (let i = 0; i < 30; i++) {
      tries.push((await tlsGet(proxy.ports['websecure']!, pki.ca.certPem, first.session)).reused);
    }
    assert.deepEqual(
      tries,
      tries.map(() => true),
    );
    const after = await scrape(proxy.ports['traefik']!);
    for (const w of ['1', '2']) {
      assert.ok(after.perWorker.get(w)! > before.perWorker.get(w)!, `worker ${w} resumed some of them`);
    }
  });
});

describe('workers: start-up failures', () => {
  it('exits 1 when the first worker cannot bind its port, as one process does', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const r = await runCli(
        ['run', '--workers=2', `--entryPoints.web.address=127.0.0.1:${port}`, '--log.format=json'],
        { timeoutMs: STARTUP_MS },
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /"msg":"cannot listen".*"worker":1|"worker":1.*"msg":"cannot listen"/);
      assert.match(r.stderr, /workers could not start: stopping/);
      assert.doesNotMatch(r.stderr, /"worker":2/, 'no other worker was started');
    } finally {
      taken.close();
    }
  });
});
