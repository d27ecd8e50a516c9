/**
 * Clients for the workers e2e tests (test/e2e/workers-*.test.ts): one request per connection, so
 * the kernel may hand each to either worker, and a /metrics scrape read per worker.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { type LogLine, type ProxyProcess, type StartOptions, startProxy } from './proxy-process.ts';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request on a connection of its own (agent: false), so each may land on either worker. */
export function get(port: number, path = '/'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export async function getMany(port: number, n: number, path = '/'): Promise<Reply[]> {
  const out: Reply[] = [];
  // Ten at a time: concurrent connections, as real clients open them.
  for (let i = 0; i < n; i += 10) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(10, n - i) }, () => get(port, path)))));
  }
  return out;
}

export interface Scrape {
  readonly text: string;
  /** Per worker slot: requests it counted. */
  readonly perWorker: Map<string, number>;
  /** Per worker slot: its pid, for those that answered. */
  readonly pids: Map<string, number>;
  /** traefik_entrypoint_requests_total on `web`, summed over codes and methods. */
  readonly webTotal: number;
}

export async function scrape(port: number): Promise<Scrape> {
  const r = await get(port, '/metrics');
  assert.equal(r.status, 200, r.body);
  const perWorker = new Map<string, number>();
  const pids = new Map<string, number>();
  let webTotal = 0;
  for (const line of r.body.split('\n')) {
    let m = /^traffic_worker_requests_total\{worker="(\d+)"\} (\S+)$/.exec(line);
    if (m !== null) perWorker.set(m[1]!, Number(m[2]));
    m = /^traffic_worker_up\{worker="(\d+)",pid="(\d+)"\} 1$/.exec(line);
    if (m !== null) pids.set(m[1]!, Number(m[2]));
    // Labels sorted by name, as client_golang writes them: `code` comes before `entrypoint`.
    m = /^traefik_entrypoint_requests_total\{[^}]*\bentrypoint="web"[^}]*\} (\S+)$/.exec(line);
    if (m !== null) webTotal += Number(m[1]);
  }
  return { text: r.body, perWorker, pids, webTotal };
}

/** The log line of a worker in `slot` serving (not the one with pid `notPid`). */
export const serving = (slot: number, notPid?: number) => (l: LogLine) =>
  l.msg === 'worker serving' && l.worker === slot && l.pid !== notPid;

/** How long a `workers` proxy may take to start: the control plane, then each worker. */
export const STARTUP_MS = 60_000;

/** Starts a `workers: 2` proxy (options as startProxy takes them) and waits until both workers serve. */
export async function startWorkers(opts: StartOptions): Promise<ProxyProcess> {
  const proxy = await startProxy({ timeoutMs: STARTUP_MS, ...opts });
  await proxy.waitForLog(serving(1), STARTUP_MS);
  await proxy.waitForLog(serving(2), STARTUP_MS);
  return proxy;
}

/** Kills the proxy and its workers (SIGKILL) unless it already exited. */
export async function killWorkers(proxy: ProxyProcess | undefined): Promise<void> {
  if (proxy !== undefined && proxy.child.exitCode === null) await proxy.stop('SIGKILL');
}

/** The control plane's and the workers' probes of `server` so far ('health probe', debug level). */
export function probesLogged(proxy: ProxyProcess, server: string): { control: number; workers: number } {
  let control = 0;
  let workers = 0;
  for (const l of proxy.logs) {
    if (l.msg !== 'health probe' || l.server !== server) continue;
    if (l.worker === undefined) control++;
    else workers++;
  }
  return { control, workers };
}

/**
 * Waits until what `server` received (`received()`, its own count of probes) equals the probes
 * the control plane logged of it, at least one; no worker may have logged one. Counted against
 * the rounds that ran, not "one within the interval": it holds however long the test takes, and
 * a worker probing, logged or not, makes the server's count exceed the control plane's.
 */
export async function probedByControlPlaneOnly(
  proxy: ProxyProcess,
  server: string,
  received: () => number,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const logged = probesLogged(proxy, server);
    assert.equal(logged.workers, 0, `a worker probed ${server}`);
    // A probe is logged before it is sent, and both reach the test on their own paths.
    if (logged.control > 0 && received() === logged.control) return;
    if (Date.now() > deadline) {
      assert.fail(`${server} received ${received()} probes, the control plane sent ${logged.control}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
