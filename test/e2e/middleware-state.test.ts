/**
 * Where the state of a stateful middleware lives, through the real proxy: Traefik builds every
 * router's chain anew (pkg/server/middleware/middlewares.go BuildChain, called per router by
 * pkg/server/router/router.go buildHTTPHandler; TCP: pkg/server/router/tcp/manager.go
 * buildTCPHandler), so a `rateLimit`, `inFlightReq` or `circuitBreaker` that two routers use has
 * a bucket set, a count or a breaker per router, and one listed twice in a chain has two. Ours
 * keeps that state across a reload that leaves the router and the middleware as they were.
 */
import assert from 'node:assert/strict';
import { Agent, request, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { metricSample, startEchoServer, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { Counter, currentGeneration, waitApplied, within } from '../helpers/wait.ts';
import { startWorkers } from '../helpers/workers.ts';

interface Reply {
  readonly status: number;
  readonly body: string;
}

function get(agent: Agent, port: number, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** `n` requests one after the other; their statuses. */
async function statuses(agent: Agent, port: number, path: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await get(agent, port, path)).status);
  return out;
}

/** `/held/…` waits until the test releases it; `/fail/…` answers 500; anything else 200. */
class StateBackend {
  readonly held: ServerResponse[] = [];
  readonly arrived = new Counter();
  backend!: Backend;

  async start(): Promise<this> {
    this.backend = await startBackend((req, res) => {
      if (req.url?.startsWith('/held') === true) {
        this.held.push(res);
        this.arrived.inc();
        return;
      }
      res.statusCode = req.url?.startsWith('/fail') === true ? 500 : 200;
      res.end(req.url);
    });
    return this;
  }

  releaseAll(): void {
    for (const res of this.held.splice(0)) res.end('released');
  }
}

const httpConfig = `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
  edge:
    address: "127.0.0.1:0"
    http: { middlewares: [rl-edge@file] }
log: { level: DEBUG }
metrics: { prometheus: {} }
providers:
  file: { filename: dynamic.yaml, watch: true }
`;

const dynamic = (url: string, extraRouter = ''): string => `http:
  routers:
    rl-a: { rule: "PathPrefix(\`/rl-a\`)", service: be, middlewares: [rl] }
    rl-b: { rule: "PathPrefix(\`/rl-b\`)", service: be, middlewares: [rl] }
    rl-twice: { rule: "PathPrefix(\`/rl-twice\`)", service: be, middlewares: [rl, rl-chain] }
    ifr-a: { rule: "PathPrefix(\`/held/ifr-a\`)", service: be, middlewares: [ifr] }
    ifr-b: { rule: "PathPrefix(\`/held/ifr-b\`)", service: be, middlewares: [ifr] }
    ifr-twice: { rule: "PathPrefix(\`/held/ifr-twice\`)", service: be, middlewares: [ifr, ifr] }
    cb-a: { rule: "PathPrefix(\`/fail/cb-a\`)", service: be, middlewares: [cb] }
    cb-b: { rule: "PathPrefix(\`/cb-b\`)", service: be, middlewares: [cb] }
    edge-a: { rule: "PathPrefix(\`/edge-a\`)", service: be, entryPoints: [edge] }
    edge-b: { rule: "PathPrefix(\`/edge-b\`)", service: be, entryPoints: [edge] }
${extraRouter}  middlewares:
    # Two requests at once, then one an hour: the third is refused.
    rl: { rateLimit: { average: 1, period: 1h, burst: 2 } }
    rl-chain: { chain: { middlewares: [rl] } }
    rl-edge: { rateLimit: { average: 1, period: 1h, burst: 2 } }
    ifr: { inFlightReq: { amount: 1 } }
    cb:
      circuitBreaker:
        expression: "ResponseCodeRatio(500, 600, 0, 600) > 0.5"
        checkPeriod: 100ms
        fallbackDuration: 1h
  services:
    be: { loadBalancer: { servers: [{ url: "${url}" }] } }
`;

describe('stateful middlewares: a state per router (Traefik builds each router its chain)', () => {
  const agent = new Agent({ keepAlive: true });
  const be = new StateBackend();
  let proxy: ProxyProcess;

  before(async () => {
    await be.start();
    proxy = await startProxy({
      config: httpConfig,
      files: { 'dynamic.yaml': dynamic(be.backend.url) },
    });
  });
  after(async () => {
    agent.destroy();
    be.releaseAll();
    await proxy?.stop();
    await be.backend?.close();
  });

  it('gives each router that uses one rateLimit its own burst', async () => {
    assert.deepEqual(await statuses(agent, proxy.port, '/rl-a', 3), [200, 200, 429]);
    assert.deepEqual(await statuses(agent, proxy.port, '/rl-b', 3), [200, 200, 429], "rl-b's own burst");
  });

  it('gives a rateLimit listed twice in a chain a bucket per use (each request takes from both)', async () => {
    // One bucket taking two tokens per request would let one request through, not two.
    assert.deepEqual(await statuses(agent, proxy.port, '/rl-twice', 3), [200, 200, 429]);
  });

  it("gives each router its own burst of an entry point's rateLimit (it joins each router's chain)", async () => {
    const edge = proxy.ports.edge!;
    assert.deepEqual(await statuses(agent, edge, '/edge-a', 3), [200, 200, 429]);
    assert.deepEqual(await statuses(agent, edge, '/edge-b', 3), [200, 200, 429], "edge-b's own burst");
  });

  it('counts the requests in flight of one inFlightReq per router, and per use', async () => {
    const first = get(agent, proxy.port, '/held/ifr-a/1');
    await be.arrived.reach(1, 'the request on ifr-a to reach the backend');
    assert.equal((await get(new Agent(), proxy.port, '/held/ifr-a/2')).status, 429, "ifr-a's own limit");
    // Another router using the same middleware has its own count: its request goes through.
    const other = get(agent, proxy.port, '/held/ifr-b/1');
    await be.arrived.reach(2, 'the request on ifr-b to reach the backend');
    // Listed twice with amount 1: each use counts the request once, so it is let in.
    const twice = get(agent, proxy.port, '/held/ifr-twice/1');
    await be.arrived.reach(3, 'the request on ifr-twice to reach the backend');
    be.releaseAll();
    assert.deepEqual(
      (await Promise.all([first, other, twice])).map((r) => r.status),
      [200, 200, 200],
    );
  });

  it("trips one router's circuit breaker without tripping the other router's", async () => {
    const seen: number[] = [];
    for (let i = 0; i < 20 && !seen.includes(503); i++)
      seen.push((await get(agent, proxy.port, '/fail/cb-a')).status);
    assert.ok(seen.includes(503), `cb-a's breaker tripped: ${seen.join(',')}`);
    const tripped = await proxy.waitForLog(
      (l) => l.msg === 'circuit breaker state changed' && l.to === 'tripped',
    );
    assert.equal(tripped.router, 'cb-a@file', 'the log names the router whose breaker tripped');
    assert.deepEqual(
      await statuses(agent, proxy.port, '/cb-b', 3),
      [200, 200, 200],
      "cb-b's breaker is its own",
    );
    assert.equal((await get(agent, proxy.port, '/fail/cb-a')).status, 503, 'cb-a stays tripped');
    // The breaker state is a series per router; the refusals are the middleware's sum.
    const text = (await get(agent, proxy.ports.traefik!, '/metrics')).body;
    const state = (router: string) =>
      metricSample(text, 'traffic_circuit_breaker_state', { middleware: 'cb@file', router, server: '' });
    assert.equal(state('cb-a@file'), 1, text);
    assert.equal(state('cb-b@file'), 0, text);
    const refused = seen.filter((s) => s === 503).length + 1;
    assert.equal(
      metricSample(text, 'traffic_circuit_breaker_rejected_total', { middleware: 'cb@file' }),
      refused,
    );
    // 429s: one on rl-a, one on rl-b, one on rl-twice.
    assert.equal(metricSample(text, 'traffic_ratelimit_rejected_total', { middleware: 'rl@file' }), 3);
  });

  it('keeps each router its state across a reload that leaves it unchanged', async () => {
    // rl-a spent its burst above; a reload that adds a router keeps rl-a's buckets.
    const gen = currentGeneration(proxy);
    proxy.writeFile(
      'dynamic.yaml',
      dynamic(be.backend.url, '    rl-c: { rule: "PathPrefix(`/rl-c`)", service: be, middlewares: [rl] }\n'),
    );
    await within(waitApplied(proxy, gen + 1), 'the new configuration');
    assert.equal((await get(agent, proxy.port, '/rl-a')).status, 429, "rl-a's bucket kept");
    assert.deepEqual(
      await statuses(agent, proxy.port, '/rl-c', 3),
      [200, 200, 429],
      'the new router has its own',
    );
  });
});

describe('TCP inFlightConn: a count per router', () => {
  let echo: TcpBackend;
  let proxy: ProxyProcess;

  before(async () => {
    echo = await startEchoServer();
    proxy = await startProxy({
      config: `entryPoints:
  one:
    address: "127.0.0.1:0"
  two:
    address: "127.0.0.1:0"
  twice:
    address: "127.0.0.1:0"
  multiA:
    address: "127.0.0.1:0"
  multiB:
    address: "127.0.0.1:0"
log: { level: DEBUG }
tcp:
  routers:
    one: { entryPoints: [one], rule: "HostSNI(\`*\`)", service: echo, middlewares: [single] }
    two: { entryPoints: [two], rule: "HostSNI(\`*\`)", service: echo, middlewares: [single] }
    twice: { entryPoints: [twice], rule: "HostSNI(\`*\`)", service: echo, middlewares: [single, single] }
    multi: { entryPoints: [multiA, multiB], rule: "HostSNI(\`*\`)", service: echo, middlewares: [single] }
  middlewares:
    single: { inFlightConn: { amount: 1 } }
  services:
    echo: { loadBalancer: { servers: [{ address: "${echo.address}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await echo?.close();
  });

  const open = async (ep: string): Promise<Socket> => {
    const s = await new Promise<Socket>((resolve) => {
      const c = connect(proxy.ports[ep]!, '127.0.0.1', () => resolve(c));
    });
    s.on('error', () => {});
    s.write('hold');
    await within(new Promise((r) => s.once('data', r)), `the echo through ${ep}`);
    return s;
  };

  it("admits a connection on a second router while the first router's one is open", async () => {
    const first = await open('one');
    const refused = await tcpExchange(proxy.ports.one!, 'again');
    assert.equal(refused.data.length, 0, "past router one's amount");
    const other = await tcpExchange(proxy.ports.two!, 'two', { untilData: 'two' });
    assert.equal(other.how, 'data', "router two's own count lets it in");
    first.destroy();
  });

  it("counts a router's connections per entry point (Traefik builds its chain per entry point)", async () => {
    const first = await open('multiA');
    const refused = await tcpExchange(proxy.ports.multiA!, 'again');
    assert.equal(refused.data.length, 0, 'past the amount on multiA');
    const other = await tcpExchange(proxy.ports.multiB!, 'b', { untilData: 'b' });
    assert.equal(other.how, 'data', "multiB's own count lets it in");
    first.destroy();
  });

  it('admits a connection through inFlightConn listed twice with amount 1 (a count per use)', async () => {
    const r = await tcpExchange(proxy.ports.twice!, 'twice', { untilData: 'twice' });
    assert.equal(r.how, 'data');
  });
});

describe('with workers: 2, each router has its share of the limit in each worker', () => {
  let be: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    be = await startBackend();
    proxy = await startWorkers({
      config: `workers: 2
entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  routers:
    a: { rule: "PathPrefix(\`/a\`)", service: be, middlewares: [rl] }
    b: { rule: "PathPrefix(\`/b\`)", service: be, middlewares: [rl] }
  middlewares:
    # Split between the two workers: a burst of 2 in each (src/workers/split-limits.ts).
    rl: { rateLimit: { average: 2, period: 1h, burst: 4 } }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await be?.close();
  });

  it('gives both routers their own burst on one connection (one worker)', async () => {
    // One keep-alive connection: every request meets the same worker.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    agent.on('free', (s) => sockets.add(s));
    try {
      assert.deepEqual(await statuses(agent, proxy.port, '/a', 3), [200, 200, 429]);
      assert.deepEqual(await statuses(agent, proxy.port, '/b', 3), [200, 200, 429], "b's own share");
      assert.equal(sockets.size, 1, 'all on one connection');
    } finally {
      agent.destroy();
    }
  });
});
