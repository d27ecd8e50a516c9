import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fnv64Hex } from '../../src/runtime/sticky.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { type SilentUpstream, startSilentUpstream } from '../helpers/stuck-upstream.ts';
import { Counter, currentGeneration, waitApplied, waitForLogFrom, within } from '../helpers/wait.ts';

/*
 * Traffic shaping with the real proxy process: sticky cookies, weighted (canary) services,
 * rendezvous hashing on a header, mirroring with compare mode, failover, inFlightReq with and
 * without a queue, and rateLimit keyed on the real peer. Backends answer with their name, so a
 * response says which server (or which child service) served it.
 */

// ---------------------------------------------------------------------------------------------
// Backends and a client

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer, self: TestBackend) => void;

/** Health probes get 200 `ok`; everything else gets the backend's name. */
const answerName: Handler = (req, res, _body, self) => {
  res.end(req.url === '/health' ? 'ok' : self.name);
};

/**
 * A node:http backend on 127.0.0.1 that can be killed (listener closed, sockets destroyed) and
 * restarted on the same port. Requests other than health probes are recorded and counted.
 */
class TestBackend {
  readonly name: string;
  readonly seen: Seen[] = [];
  readonly hits = new Counter();
  readonly #handler: Handler;
  #server: Server | null = null;
  #port = 0;

  private constructor(name: string, handler: Handler) {
    this.name = name;
    this.#handler = handler;
  }

  static async start(name: string, handler: Handler = answerName): Promise<TestBackend> {
    const b = new TestBackend(name, handler);
    await b.#listen(0);
    return b;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async #listen(port: number): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url !== '/health') {
          this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
          this.hits.inc();
        }
        this.#handler(req, res, body, this);
      });
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** The server dies: the listener closes (connects are refused) and open sockets are destroyed. */
  kill(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server === null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Comes back on the same port. */
  restart(): Promise<void> {
    return this.#listen(this.#port);
  }

  close(): Promise<void> {
    return this.kill();
  }
}

/** A request the backend holds until the test releases it. */
interface Held {
  readonly seq: string;
  readonly res: ServerResponse;
}

/** Holds every request until released; tracks how many it had at once. */
class HoldingBackend {
  readonly arrivals: Held[] = [];
  readonly arrived = new Counter();
  active = 0;
  maxActive = 0;
  readonly #server: Server;
  readonly port: number;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  static async start(): Promise<HoldingBackend> {
    let self: HoldingBackend | undefined;
    const server = createServer((req, res) => {
      const b = self!;
      b.active++;
      b.maxActive = Math.max(b.maxActive, b.active);
      res.on('close', () => {
        b.active--;
      });
      b.arrivals.push({ seq: String(req.headers['x-seq'] ?? ''), res });
      b.arrived.inc();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new HoldingBackend(server, (server.address() as AddressInfo).port);
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  release(i: number): void {
    this.arrivals[i]!.res.end(`done ${this.arrivals[i]!.seq}`);
  }

  close(): Promise<void> {
    for (const a of this.arrivals) if (!a.res.writableEnded) a.res.destroy();
    return new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly raw: Buffer;
}

interface SendOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
  /** A request still unanswered after this long fails the test (a bound, never a measurement). */
  readonly timeoutMs?: number;
  /** The client's own address (another loopback address is another client). */
  readonly localAddress?: string;
}

/** One HTTP/1.1 request over a keep-alive agent; rejects on socket errors and on the bound. */
function send(agent: Agent, port: number, path: string, opts: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw.toString('utf8'), raw });
        });
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10_000, () => {
      req.destroy(new Error(`no response to ${opts.method ?? 'GET'} ${path} within the bound`));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** `n` requests, at most `concurrency` at once; the replies in request order. */
async function sendMany(
  n: number,
  concurrency: number,
  one: (i: number) => Promise<Reply>,
): Promise<Reply[]> {
  const out: Reply[] = new Array(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await one(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  return out;
}

function countBodies(replies: readonly Reply[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of replies) {
    const key = r.status === 200 ? r.body : `status ${r.status}`;
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return m;
}

function setCookies(r: Reply): string[] {
  return r.headers['set-cookie'] ?? [];
}

/** The Set-Cookie line for `name`, split into its value and attributes (names lowercased). */
function parseSetCookie(
  r: Reply,
  name: string,
): { value: string; attrs: Map<string, string | true>; line: string } | undefined {
  const line = setCookies(r).find((l) => l.startsWith(`${name}=`));
  if (line === undefined) return undefined;
  const [first = '', ...rest] = line.split(';');
  const attrs = new Map<string, string | true>();
  for (const part of rest) {
    const p = part.trim();
    const eq = p.indexOf('=');
    if (eq === -1) attrs.set(p.toLowerCase(), true);
    else attrs.set(p.slice(0, eq).toLowerCase(), p.slice(eq + 1));
  }
  return { value: first.slice(name.length + 1), attrs, line };
}

function retryAfter(r: Reply): number {
  const v = r.headers['retry-after'];
  assert.ok(typeof v === 'string' && /^\d+$/.test(v), `Retry-After is delta-seconds: ${String(v)}`);
  return Number(v);
}

function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/*
 * Probes every 200ms. A killed server refuses at once, so the timeout only bounds a probe that a
 * starved machine (tests run in parallel) is slow to answer: 200ms there took every server down.
 */
const HEALTH = '{ path: /health, interval: 200ms, timeout: 2s }';

/** Resolves with the 'server down' / 'server up' line for `backend`, logged at or after `from`. */
function healthChange(
  proxy: ProxyProcess,
  from: number,
  change: 'server down' | 'server up',
  backend: { readonly port: number },
): Promise<unknown> {
  return waitForLogFrom(
    proxy,
    from,
    (l) => l.msg === change && String(l.server).endsWith(`:${backend.port}`),
  );
}

function staticPart(extraEntryPoints = '', providers = ''): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
${extraEntryPoints}log: { level: INFO }
${providers}`;
}

async function startWith(config: string, files?: Record<string, string>): Promise<ProxyProcess> {
  const proxy = await startProxy(files === undefined ? { config } : { config, files });
  const rejected = proxy.logs.filter((l) => l.msg === 'configuration rejected');
  if (rejected.length > 0) {
    await proxy.stop();
    assert.fail(`configuration rejected: ${JSON.stringify(rejected)}`);
  }
  return proxy;
}

function noProxyErrors(proxy: ProxyProcess): void {
  const errors = proxy.logs.filter((l) => l.level === 'error' || l.level === 'raw');
  assert.deepEqual(errors, [], 'the proxy logged errors');
}

// ---------------------------------------------------------------------------------------------
// 1. Sticky cookie

describe('sticky cookie on a load balancer', () => {
  const agent = new Agent({ keepAlive: true });
  let a: TestBackend;
  let b: TestBackend;
  let c: TestBackend;
  let proxy: ProxyProcess;

  before(async () => {
    [a, b, c] = await Promise.all([TestBackend.start('a'), TestBackend.start('b'), TestBackend.start('c')]);
    proxy = await startWith(`${staticPart()}http:
  routers:
    app: { rule: "PathPrefix(\`/\`)", service: app }
    dot: { rule: "PathPrefix(\`/dot\`)", service: dot }
  services:
    app:
      loadBalancer:
        servers: [{ url: "${a.url}" }, { url: "${b.url}" }, { url: "${c.url}" }]
        healthCheck: ${HEALTH}
        sticky:
          cookie:
            name: tm_srv
            secure: true
            httpOnly: true
            sameSite: strict
            maxAge: 3600
            path: /app
            domain: example.test
    dot:
      loadBalancer:
        servers: [{ url: "${a.url}" }]
        sticky: { cookie: { name: tm_dot, domain: .example.test } }
`);
  });
  after(async () => {
    agent.destroy();
    await proxy?.stop();
    await Promise.all([a?.close(), b?.close(), c?.close()]);
  });

  const backends = (): TestBackend[] => [a, b, c];

  it('sets the configured cookie with every attribute and a value that hides the backend address', async () => {
    const r = await send(agent, proxy.port, '/app/first');
    assert.equal(r.status, 200);
    const ck = parseSetCookie(r, 'tm_srv');
    assert.ok(ck !== undefined, `Set-Cookie tm_srv in ${JSON.stringify(setCookies(r))}`);
    assert.equal(ck.attrs.get('path'), '/app', ck.line);
    assert.equal(ck.attrs.get('domain'), 'example.test', ck.line);
    assert.equal(ck.attrs.get('max-age'), '3600', ck.line);
    assert.equal(ck.attrs.get('httponly'), true, ck.line);
    assert.equal(ck.attrs.get('secure'), true, ck.line);
    assert.equal(String(ck.attrs.get('samesite')).toLowerCase(), 'strict', ck.line);
    assert.ok(ck.value.length > 0, ck.line);
    assert.ok(!ck.value.includes('127.0.0.1') && !ck.value.includes('127%2E'), `address leaks: ${ck.line}`);
    for (const be of backends()) {
      assert.ok(!ck.value.includes(String(be.port)), `port ${be.port} leaks: ${ck.line}`);
      assert.ok(!ck.value.includes(Buffer.from(be.url).toString('base64').slice(0, 12)), ck.line);
    }
  });

  it('keeps the leading dot of a configured domain, as Traefik v3.7.13 (#13456) writes it', async () => {
    const r = await send(agent, proxy.port, '/dot');
    assert.equal(r.status, 200);
    const ck = parseSetCookie(r, 'tm_dot');
    assert.ok(ck !== undefined, `Set-Cookie tm_dot in ${JSON.stringify(setCookies(r))}`);
    assert.equal(ck.attrs.get('domain'), '.example.test', ck.line);
  });

  it('sends all 200 requests that carry the cookie to the same backend', async () => {
    const first = await send(agent, proxy.port, '/app/pin');
    const ck = parseSetCookie(first, 'tm_srv');
    assert.ok(ck !== undefined);
    const replies = await sendMany(200, 8, () =>
      send(agent, proxy.port, '/app/pinned', { headers: { cookie: `other=1; tm_srv=${ck.value}` } }),
    );
    const bodies = countBodies(replies);
    assert.deepEqual([...bodies], [[first.body, 200]]);
  });

  it("values the cookie as Traefik does, and keeps a client of Traefik's older values on its server", async () => {
    // Traefik v3 (loadbalancer/sticky.go): the first 16 hex digits of SHA-256 of the server URL.
    const first = await send(agent, proxy.port, '/app/traefik-value');
    const ck = parseSetCookie(first, 'tm_srv');
    assert.ok(ck !== undefined);
    const server = backends().find((be) => be.name === first.body);
    assert.ok(server !== undefined, `served by a known backend: ${first.body}`);
    assert.equal(ck.value, createHash('sha256').update(server.url).digest('hex').slice(0, 16), ck.line);
    // A value an older Traefik wrote (the URL's FNV-64) pins to the same server, and the response
    // replaces the cookie with the current value; another backend's old value pins to that one.
    for (const be of backends()) {
      const r = await send(agent, proxy.port, '/app/old-value', {
        headers: { cookie: `tm_srv=${fnv64Hex(be.url)}` },
      });
      assert.equal(r.body, be.name);
      const fresh = parseSetCookie(r, 'tm_srv');
      assert.ok(fresh !== undefined, `the cookie rewritten: ${JSON.stringify(setCookies(r))}`);
      assert.equal(fresh.value, createHash('sha256').update(be.url).digest('hex').slice(0, 16));
    }
  });

  it('falls back to a live server and issues a new cookie when its server was taken down by the health check', async () => {
    const first = await send(agent, proxy.port, '/app/before-kill');
    const ck = parseSetCookie(first, 'tm_srv');
    assert.ok(ck !== undefined);
    const victim = backends().find((be) => be.name === first.body);
    assert.ok(victim !== undefined, `served by a known backend: ${first.body}`);
    const from = proxy.logs.length;
    await victim.kill();
    await healthChange(proxy, from, 'server down', victim);

    const r = await send(agent, proxy.port, '/app/after-kill', { headers: { cookie: `tm_srv=${ck.value}` } });
    assert.equal(r.status, 200);
    assert.notEqual(r.body, victim.name);
    const fresh = parseSetCookie(r, 'tm_srv');
    assert.ok(fresh !== undefined, `a new Set-Cookie: ${JSON.stringify(setCookies(r))}`);
    assert.notEqual(fresh.value, ck.value);
    // The new cookie sticks to the server that replaced the dead one.
    const again = await sendMany(20, 4, () =>
      send(agent, proxy.port, '/app/after-kill', { headers: { cookie: `tm_srv=${fresh.value}` } }),
    );
    assert.deepEqual([...countBodies(again)], [[r.body, 20]]);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Weighted services

describe('weighted services', () => {
  const agent = new Agent({ keepAlive: true });
  let v1: TestBackend;
  let v2: TestBackend;
  let v3: TestBackend;
  let proxy: ProxyProcess;

  before(async () => {
    [v1, v2, v3] = await Promise.all([
      TestBackend.start('v1'),
      TestBackend.start('v2'),
      TestBackend.start('v3'),
    ]);
    proxy = await startWith(`${staticPart()}http:
  routers:
    canary: { rule: "PathPrefix(\`/canary\`)", service: canary }
    nested: { rule: "PathPrefix(\`/nested\`)", service: outer }
    sticky: { rule: "PathPrefix(\`/sticky\`)", service: sticky-split }
    unnamed: { rule: "PathPrefix(\`/unnamed\`)", service: sticky-unnamed }
  services:
    v1: { loadBalancer: { servers: [{ url: "${v1.url}" }] } }
    v2: { loadBalancer: { servers: [{ url: "${v2.url}" }] } }
    v3: { loadBalancer: { servers: [{ url: "${v3.url}" }] } }
    canary:
      weighted: { services: [{ name: v1, weight: 90 }, { name: v2, weight: 10 }] }
    inner:
      weighted: { services: [{ name: v1, weight: 1 }, { name: v2, weight: 1 }] }
    outer:
      weighted: { services: [{ name: inner, weight: 1 }, { name: v3, weight: 1 }] }
    sticky-split:
      weighted:
        services: [{ name: v1, weight: 1 }, { name: v2, weight: 1 }]
        sticky: { cookie: { name: canary_pick } }
    sticky-unnamed:
      weighted:
        services: [{ name: v1, weight: 1 }]
        sticky: { cookie: {} }
`);
  });
  after(async () => {
    agent.destroy();
    await proxy?.stop();
    await Promise.all([v1?.close(), v2?.close(), v3?.close()]);
  });

  it('splits 2000 requests about 90/10 between the two services of a canary', async () => {
    const replies = await sendMany(2000, 16, (i) => send(agent, proxy.port, `/canary/${i}`));
    const bodies = countBodies(replies);
    const n1 = bodies.get('v1') ?? 0;
    const n2 = bodies.get('v2') ?? 0;
    assert.equal(n1 + n2, 2000, JSON.stringify([...bodies]));
    assert.ok(n1 >= 1700 && n1 <= 1900, `v1 share ${n1}/2000 not in 85–95%`);
  });

  it('resolves a weighted service inside a weighted service (1:1 of (1:1, v3))', async () => {
    const replies = await sendMany(400, 8, (i) => send(agent, proxy.port, `/nested/${i}`));
    const bodies = countBodies(replies);
    const got = { v1: bodies.get('v1') ?? 0, v2: bodies.get('v2') ?? 0, v3: bodies.get('v3') ?? 0 };
    assert.equal(got.v1 + got.v2 + got.v3, 400, JSON.stringify([...bodies]));
    assert.ok(got.v3 >= 170 && got.v3 <= 230, `v3 ~50%: ${JSON.stringify(got)}`);
    assert.ok(got.v1 >= 70 && got.v1 <= 130, `v1 ~25%: ${JSON.stringify(got)}`);
    assert.ok(got.v2 >= 70 && got.v2 <= 130, `v2 ~25%: ${JSON.stringify(got)}`);
  });

  it('keeps a client with the sticky cookie on the child service it was first given', async () => {
    const firsts = [await send(agent, proxy.port, '/sticky/a'), await send(agent, proxy.port, '/sticky/b')];
    const children = new Set<string>();
    for (const first of firsts) {
      assert.equal(first.status, 200);
      const ck = parseSetCookie(first, 'canary_pick');
      assert.ok(ck !== undefined, `Set-Cookie canary_pick: ${JSON.stringify(setCookies(first))}`);
      assert.ok(!ck.value.includes(String(v1.port)) && !ck.value.includes(String(v2.port)), ck.line);
      const replies = await sendMany(50, 5, () =>
        send(agent, proxy.port, '/sticky/again', { headers: { cookie: `canary_pick=${ck.value}` } }),
      );
      assert.deepEqual([...countBodies(replies)], [[first.body, 50]]);
      children.add(first.body);
    }
    // Two new clients of a 1:1 split get different children: the cookie pins, it does not pick.
    assert.deepEqual([...children].sort(), ['v1', 'v2']);
  });

  it('names an unnamed cookie and values a child as Traefik does (cookie.GenerateName, sha256Hash)', async () => {
    const r = await send(agent, proxy.port, '/unnamed/x');
    assert.equal(r.body, 'v1');
    // `_` + SHA-1 of "_TRAEFIK_BACKEND_" + the qualified service name, six characters in all.
    const name = `_${createHash('sha1').update('_TRAEFIK_BACKEND_sticky-unnamed@file').digest('hex')}`.slice(
      0,
      6,
    );
    const ck = parseSetCookie(r, name);
    assert.ok(ck !== undefined, `Set-Cookie ${name}: ${JSON.stringify(setCookies(r))}`);
    // The child's name as configured (`v1`), not its qualified name.
    assert.equal(ck.value, createHash('sha256').update('v1').digest('hex').slice(0, 16), ck.line);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Rendezvous hashing on a header

describe('hrw strategy hashing on a header', () => {
  const agent = new Agent({ keepAlive: true });
  const KEYS = 300;
  let s1: TestBackend;
  let s2: TestBackend;
  let s3: TestBackend;
  let proxy: ProxyProcess;

  const dynamic = (servers: readonly TestBackend[]): string => `http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: hashed }
  services:
    hashed:
      loadBalancer:
        strategy: hrw
        hashOn: { type: header, name: X-User }
        servers:
${servers.map((s) => `          - url: "${s.url}"`).join('\n')}
`;

  before(async () => {
    [s1, s2, s3] = await Promise.all([
      TestBackend.start('s1'),
      TestBackend.start('s2'),
      TestBackend.start('s3'),
    ]);
    proxy = await startWith(staticPart('', 'providers:\n  file:\n    filename: dyn.yaml\n'), {
      'dyn.yaml': dynamic([s1, s2]),
    });
  });
  after(async () => {
    agent.destroy();
    await proxy?.stop();
    await Promise.all([s1?.close(), s2?.close(), s3?.close()]);
  });

  async function assignment(): Promise<string[]> {
    const replies = await sendMany(KEYS, 8, (i) =>
      send(agent, proxy.port, '/who', { headers: { 'x-user': `user-${i}` } }),
    );
    return replies.map((r) => (r.status === 200 ? r.body : `status ${r.status}`));
  }

  it('sends a header value to the same server every time, and a new server takes only about a third of the keys', async () => {
    const before1 = await assignment();
    const before2 = await assignment();
    assert.deepEqual(before2, before1, 'the same key lands on the same server');
    const counts = countBodies(
      before1.map((body) => ({ status: 200, body, headers: {}, raw: Buffer.alloc(0) })),
    );
    assert.ok((counts.get('s1') ?? 0) > 90 && (counts.get('s2') ?? 0) > 90, JSON.stringify([...counts]));

    const generation = currentGeneration(proxy);
    proxy.writeFile('dyn.yaml', dynamic([s1, s2, s3]));
    await waitApplied(proxy, generation + 1);

    const after1 = await assignment();
    const moved: number[] = [];
    for (let i = 0; i < KEYS; i++) if (after1[i] !== before1[i]) moved.push(i);
    const wrong = moved
      .filter((i) => after1[i] !== 's3')
      .map((i) => `user-${i}: ${before1[i]} → ${after1[i]}`);
    assert.deepEqual(wrong, [], 'keys move only to the new server');
    assert.ok(
      moved.length >= 60 && moved.length <= 140,
      `about a third of ${KEYS} keys moved: ${moved.length}`,
    );
    const after2 = await assignment();
    assert.deepEqual(after2, after1, 'still stable after the reload');
  });
});

// ---------------------------------------------------------------------------------------------
// 3b. Least time

describe('leasttime strategy', () => {
  const agent = new Agent({ keepAlive: true });
  let fast: TestBackend;
  let slow: TestBackend;
  let proxy: ProxyProcess;

  before(async () => {
    [fast, slow] = await Promise.all([
      TestBackend.start('fast'),
      // 40 ms before the head: the time leasttime learns.
      TestBackend.start('slow', (_req, res, _body, self) => {
        setTimeout(() => res.end(self.name), 40);
      }),
    ]);
    proxy = await startWith(`${staticPart()}http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: timed }
  services:
    timed:
      loadBalancer:
        strategy: leasttime
        servers: [{ url: "${slow.url}" }, { url: "${fast.url}" }]
`);
  });
  after(async () => {
    agent.destroy();
    await proxy?.stop();
    await Promise.all([fast?.close(), slow?.close()]);
  });

  it('sends requests to the server that answers faster once it has measured both', async () => {
    // One at a time: nothing in flight, so the score is the average time alone. The first two
    // requests go one to each (no samples yet: a tie, shared by weight); every later one goes
    // to the fast server.
    const bodies: string[] = [];
    for (let i = 0; i < 20; i++) bodies.push((await send(agent, proxy.port, `/t/${i}`)).body);
    assert.deepEqual(bodies.slice(0, 2).sort(), ['fast', 'slow']);
    assert.deepEqual(new Set(bodies.slice(2)), new Set(['fast']), bodies.join(','));
  });
});

// ---------------------------------------------------------------------------------------------
// 4. Mirroring

describe('mirroring', () => {
  const agent = new Agent({ keepAlive: true });
  const echoPath: Handler = (req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(req.url === '/health' ? 'ok' : `path ${req.url}`);
  };
  let main: TestBackend;
  let cmpMirror: TestBackend;
  let halfMirror: TestBackend;
  let allMirror: TestBackend;
  let bodyMain: TestBackend;
  let bodyMirror: TestBackend;
  let silent: SilentUpstream;
  let downPort: number;
  let proxy: ProxyProcess;

  before(async () => {
    main = await TestBackend.start('main', echoPath);
    cmpMirror = await TestBackend.start('cmp-mirror', (req, res, body, self) => {
      if (req.url === '/cmp/mismatch') res.end('something else entirely');
      else echoPath(req, res, body, self);
    });
    halfMirror = await TestBackend.start('half-mirror');
    allMirror = await TestBackend.start('all-mirror');
    bodyMain = await TestBackend.start('body-main', (_req, res, body) => res.end(`main got ${body.length}`));
    bodyMirror = await TestBackend.start('body-mirror', (_req, res, body) =>
      res.end(`mirror got ${body.length}`),
    );
    silent = await startSilentUpstream();
    const gone = await TestBackend.start('gone');
    downPort = gone.port;
    await gone.kill();
    proxy = await startWith(`${staticPart()}http:
  routers:
    cmp: { rule: "PathPrefix(\`/cmp\`)", service: cmp }
    half: { rule: "PathPrefix(\`/half\`)", service: half }
    body: { rule: "PathPrefix(\`/body\`)", service: body }
    hang: { rule: "PathPrefix(\`/hang\`)", service: hang }
  services:
    main: { loadBalancer: { servers: [{ url: "${main.url}" }] } }
    cmp-mirror: { loadBalancer: { servers: [{ url: "${cmpMirror.url}" }] } }
    half-mirror: { loadBalancer: { servers: [{ url: "${halfMirror.url}" }] } }
    all-mirror: { loadBalancer: { servers: [{ url: "${allMirror.url}" }] } }
    body-main: { loadBalancer: { servers: [{ url: "${bodyMain.url}" }] } }
    body-mirror: { loadBalancer: { servers: [{ url: "${bodyMirror.url}" }] } }
    hung: { loadBalancer: { servers: [{ url: "${silent.url}" }] } }
    down: { loadBalancer: { servers: [{ url: "http://127.0.0.1:${downPort}" }] } }
    cmp:
      mirroring:
        service: main
        mirrors: [{ name: cmp-mirror, percent: 100 }]
        compare: { body: true, headers: [content-type] }
    half:
      mirroring:
        service: main
        mirrors: [{ name: half-mirror, percent: 50 }, { name: all-mirror, percent: 100 }]
    body:
      mirroring:
        service: body-main
        mirrorBody: true
        mirrors: [{ name: body-mirror, percent: 100 }]
    hang:
      mirroring:
        service: main
        mirrors: [{ name: hung, percent: 100 }, { name: down, percent: 100 }]
`);
  });
  after(async () => {
    agent.destroy();
    await proxy?.stop();
    await Promise.all(
      [main, cmpMirror, halfMirror, allMirror, bodyMain, bodyMirror, silent].map((x) => x?.close()),
    );
  });

  it('logs a mirror mismatch with differing body digests for the planted path only', async () => {
    const matching = ['/cmp/a', '/cmp/b?q=1', '/cmp/c'];
    const sent = cmpMirror.hits.value;
    for (const p of matching) {
      const r = await send(agent, proxy.port, p);
      assert.equal(r.status, 200);
      assert.equal(r.body, `path ${p}`);
    }
    await cmpMirror.hits.reach(sent + matching.length, 'the mirror to receive the matching requests');
    const from = proxy.logs.length;
    const r = await send(agent, proxy.port, '/cmp/mismatch');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'path /cmp/mismatch', 'the client gets the main answer, never the mirror');
    const line = await waitForLogFrom(proxy, from, (l) => l.msg === 'mirror mismatch');
    assert.equal(line.path, '/cmp/mismatch');
    assert.equal(line.method, 'GET');
    // Names may come qualified with their provider (`cmp-mirror@file`).
    assert.match(String(line.mirror), /^cmp-mirror(@file)?$/);
    assert.match(String(line.service), /^cmp(@file)?$/);
    assert.deepEqual(line.status, [200, 200]);
    const digests = line.body as unknown;
    assert.ok(Array.isArray(digests) && digests.length === 2, JSON.stringify(line));
    assert.notEqual(digests[0], digests[1]);
    assert.equal(digests[0], sha256('path /cmp/mismatch'));
    assert.equal(digests[1], sha256('something else entirely'));
    const others = proxy.logs.filter((l) => l.msg === 'mirror mismatch' && l.path !== '/cmp/mismatch');
    assert.deepEqual(others, [], 'no mismatch for paths where both sides agree');
  });

  it('copies about half of 200 requests to a 50% mirror', async () => {
    const half0 = halfMirror.hits.value;
    const all0 = allMirror.hits.value;
    const replies = await sendMany(200, 4, (i) => send(agent, proxy.port, `/half/${i}`));
    assert.deepEqual(
      [...countBodies(replies).keys()].filter((k) => !k.startsWith('path ')),
      [],
    );
    // The 100% mirror is sent alongside the 50% one: once it has all 200, the 50% one is done too.
    await allMirror.hits.reach(all0 + 200, 'the 100% mirror to receive every request');
    await halfMirror.hits.reach(half0 + 85, 'the 50% mirror to receive at least 85 requests');
    const n = halfMirror.hits.value - half0;
    assert.ok(n >= 85 && n <= 115, `the 50% mirror got ${n} of 200`);
  });

  it('sends the POST body to the mirror intact', async () => {
    const payload = randomBytes(200_000);
    const m0 = bodyMirror.hits.value;
    const r = await send(agent, proxy.port, '/body/upload', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: payload,
    });
    assert.equal(r.status, 200);
    assert.equal(r.body, `main got ${payload.length}`);
    await bodyMirror.hits.reach(m0 + 1, 'the mirror to receive the POST');
    const seen = bodyMirror.seen[m0]!;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/body/upload');
    assert.equal(seen.body.length, payload.length);
    assert.equal(sha256(seen.body), sha256(payload));
    assert.equal(sha256(bodyMain.seen.at(-1)!.body), sha256(payload));
  });

  it('answers every main request while one mirror hangs and another is down', async () => {
    const accepted0 = silent.accepted.value;
    const replies = await sendMany(20, 4, (i) => send(agent, proxy.port, `/hang/${i}`, { timeoutMs: 5_000 }));
    for (const [i, r] of replies.entries()) {
      assert.equal(r.status, 200, `request ${i}`);
      assert.equal(r.body, `path /hang/${i}`);
    }
    // The hung mirror really was being tried (and still is: it never answers).
    await silent.accepted.reach(accepted0 + 1, 'the hung mirror to get a connection');
    noProxyErrors(proxy);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Failover

describe('failover', () => {
  const agent = new Agent({ keepAlive: true });
  let primary: TestBackend;
  let fallback: TestBackend;
  let unavailable: TestBackend;
  let proxy: ProxyProcess;

  before(async () => {
    primary = await TestBackend.start('primary');
    fallback = await TestBackend.start('fallback');
    // Healthy to its health check (a failover's main service must report its health, Traefik's
    // getFailoverServiceHandler), 503 to every request.
    unavailable = await TestBackend.start('always-503', (req, res) => {
      res.statusCode = req.url === '/health' ? 200 : 503;
      res.end('main is overloaded');
    });
    proxy = await startWith(`${staticPart()}http:
  routers:
    fo: { rule: "PathPrefix(\`/fo\`)", service: fo }
    by-status: { rule: "PathPrefix(\`/status\`)", service: by-status }
  services:
    primary:
      loadBalancer:
        servers: [{ url: "${primary.url}" }]
        healthCheck: ${HEALTH}
    fallback: { loadBalancer: { servers: [{ url: "${fallback.url}" }] } }
    always-503: { loadBalancer: { servers: [{ url: "${unavailable.url}" }], healthCheck: ${HEALTH} } }
    fo: { failover: { service: primary, fallback: fallback } }
    by-status: { failover: { service: always-503, fallback: fallback, statusCodes: [503] } }
`);
  });
  after(async () => {
    agent.destroy();
    await proxy?.stop();
    await Promise.all([primary?.close(), fallback?.close(), unavailable?.close()]);
  });

  it('goes to the fallback while the main service has no healthy server, and back once it recovers', async () => {
    const r0 = await send(agent, proxy.port, '/fo/1');
    assert.equal(r0.body, 'primary');

    let from = proxy.logs.length;
    await primary.kill();
    await healthChange(proxy, from, 'server down', primary);
    const down = await sendMany(10, 2, (i) => send(agent, proxy.port, `/fo/down-${i}`));
    assert.deepEqual([...countBodies(down)], [['fallback', 10]]);

    from = proxy.logs.length;
    await primary.restart();
    await healthChange(proxy, from, 'server up', primary);
    const up = await sendMany(10, 2, (i) => send(agent, proxy.port, `/fo/up-${i}`));
    assert.deepEqual([...countBodies(up)], [['primary', 10]]);
  });

  it("replaces the main service's 503 to a GET with the fallback's answer", async () => {
    const hits0 = unavailable.hits.value;
    const r = await send(agent, proxy.port, '/status/x');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'fallback');
    assert.equal(unavailable.hits.value, hits0 + 1, 'the main service was asked first');
  });

  it("passes the main service's 503 through for a POST with a body, which cannot be replayed", async () => {
    const r = await send(agent, proxy.port, '/status/post', { method: 'POST', body: 'payload' });
    assert.equal(r.status, 503);
    assert.equal(r.body, 'main is overloaded');
  });
});

// ---------------------------------------------------------------------------------------------
// 6. inFlightReq

describe('inFlightReq', () => {
  const agent = new Agent({ keepAlive: true });
  let noQueue: HoldingBackend;
  let queued: HoldingBackend;
  let small: HoldingBackend;
  let timeout: HoldingBackend;
  let perService: HoldingBackend;
  let byHost: HoldingBackend;
  let proxy: ProxyProcess;

  before(async () => {
    [noQueue, queued, small, timeout, perService, byHost] = await Promise.all([
      HoldingBackend.start(),
      HoldingBackend.start(),
      HoldingBackend.start(),
      HoldingBackend.start(),
      HoldingBackend.start(),
      HoldingBackend.start(),
    ]);
    proxy = await startWith(`${staticPart()}http:
  routers:
    no-queue: { rule: "PathPrefix(\`/no-queue\`)", service: no-queue, middlewares: [one] }
    queued: { rule: "PathPrefix(\`/queued\`)", service: queued, middlewares: [one-queued] }
    small: { rule: "PathPrefix(\`/small\`)", service: small, middlewares: [one-small-queue] }
    timeout: { rule: "PathPrefix(\`/timeout\`)", service: timeout, middlewares: [one-short-wait] }
    per-service-a: { rule: "PathPrefix(\`/svc-a\`)", service: per-service }
    per-service-b: { rule: "PathPrefix(\`/svc-b\`)", service: per-service }
    by-host: { rule: "PathPrefix(\`/by-host\`)", service: by-host, middlewares: [one-by-host] }
  middlewares:
    one: { inFlightReq: { amount: 1 } }
    one-by-host: { inFlightReq: { amount: 1 } }
    one-queued: { inFlightReq: { amount: 1, queue: { size: 5, timeout: 2s } } }
    one-small-queue: { inFlightReq: { amount: 1, queue: { size: 1, timeout: 5s } } }
    one-short-wait: { inFlightReq: { amount: 1, queue: { size: 5, timeout: 300ms } } }
  services:
    no-queue: { loadBalancer: { servers: [{ url: "${noQueue.url}" }] } }
    queued: { loadBalancer: { servers: [{ url: "${queued.url}" }] } }
    small: { loadBalancer: { servers: [{ url: "${small.url}" }] } }
    timeout: { loadBalancer: { servers: [{ url: "${timeout.url}" }] } }
    by-host: { loadBalancer: { servers: [{ url: "${byHost.url}" }] } }
    per-service:
      loadBalancer:
        servers: [{ url: "${perService.url}" }]
        maxInFlight: 1
        queue: { size: 1, timeout: 5s }
`);
  });
  after(async () => {
    agent.destroy();
    await proxy?.stop();
    await Promise.all([noQueue, queued, small, timeout, perService, byHost].map((b) => b?.close()));
  });

  const slow = (path: string, seq: number): Promise<Reply> =>
    send(agent, proxy.port, path, { headers: { 'x-seq': String(seq) } });

  it('without a queue, answers 429 at once to a second request while one is in flight', async () => {
    const first = slow('/no-queue', 1);
    await noQueue.arrived.reach(1, 'the first request to reach the backend');
    const second = await slow('/no-queue', 2);
    assert.equal(second.status, 429);
    noQueue.release(0);
    const r1 = await first;
    assert.equal(r1.status, 200);
    assert.equal(noQueue.arrived.value, 1, 'the rejected request never reached the backend');
  });

  it('counts per request Host by default (Traefik), and refuses with "max connections reached"', async () => {
    const onHost = (host: string, seq: number): Promise<Reply> =>
      send(agent, proxy.port, '/by-host', { headers: { host, 'x-seq': String(seq) } });
    const first = onHost('a.test', 1);
    await byHost.arrived.reach(1, 'the first request to reach the backend');
    // Same client, another Host: a source of its own.
    const other = onHost('b.test', 2);
    await byHost.arrived.reach(2, 'the request for another host to reach the backend');
    const refused = await onHost('a.test', 3);
    assert.equal(refused.status, 429);
    assert.equal(refused.body, 'max connections reached: 1');
    byHost.release(0);
    byHost.release(1);
    assert.deepEqual([(await first).status, (await other).status], [200, 200]);
    assert.equal(byHost.arrived.value, 2, 'the refused request never reached the backend');
  });

  it('with a queue, holds 3 concurrent requests and lets them through one at a time, in order', async () => {
    const replies: Promise<Reply>[] = [slow('/queued', 1)];
    await queued.arrived.reach(1, 'the first request to reach the backend');
    replies.push(slow('/queued', 2));
    // Not a timing assertion: only gives request 2 a head start so that FIFO order is defined.
    await sleep(100);
    replies.push(slow('/queued', 3));
    await sleep(100);
    assert.equal(queued.arrived.value, 1, 'requests 2 and 3 wait in the queue');
    for (let i = 0; i < 3; i++) {
      await queued.arrived.reach(i + 1, `request ${i + 1} to reach the backend`);
      assert.equal(queued.arrivals[i]!.seq, String(i + 1), 'released in arrival order');
      assert.equal(queued.active, 1);
      queued.release(i);
    }
    const all = await Promise.all(replies);
    assert.deepEqual(
      all.map((r) => [r.status, r.body]),
      [
        [200, 'done 1'],
        [200, 'done 2'],
        [200, 'done 3'],
      ],
    );
    assert.equal(queued.maxActive, 1, 'the backend never saw more than one request at once');
  });

  it('with a full queue, answers 503 with Retry-After to the request that does not fit', async () => {
    const first = slow('/small', 1);
    await small.arrived.reach(1, 'the first request to reach the backend');
    const pending = [slow('/small', 2), slow('/small', 3)];
    const rejected = await within(
      Promise.race(pending.map((p) => p.then((r) => (r.status === 503 ? r : new Promise<Reply>(() => {}))))),
      'one of the two waiting requests to be turned away',
    );
    assert.ok(retryAfter(rejected) >= 1);
    small.release(0);
    await small.arrived.reach(2, 'the queued request to reach the backend');
    small.release(1);
    const statuses = [await first, ...(await Promise.all(pending))].map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 503]);
    assert.equal(small.maxActive, 1);
  });

  it('queues per service across routers (maxInFlight), and turns away what does not fit with 503', async () => {
    const first = slow('/svc-a', 1);
    await perService.arrived.reach(1, 'the first request to reach the backend');
    const pending = [slow('/svc-b', 2), slow('/svc-a', 3)];
    const rejected = await within(
      Promise.race(pending.map((p) => p.then((r) => (r.status === 503 ? r : new Promise<Reply>(() => {}))))),
      'one of the two waiting requests to be turned away',
    );
    assert.ok(retryAfter(rejected) >= 1);
    assert.equal(perService.arrived.value, 1, 'the queued request waits for the slot');
    perService.release(0);
    await perService.arrived.reach(2, 'the queued request to reach the backend');
    perService.release(1);
    const statuses = [await first, ...(await Promise.all(pending))].map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 503]);
    assert.equal(perService.maxActive, 1, 'the service never had more than one request in flight');
  });

  it('answers 503 with Retry-After when the wait in the queue outlasts the queue timeout', async () => {
    const first = slow('/timeout', 1);
    await timeout.arrived.reach(1, 'the first request to reach the backend');
    const waited = await slow('/timeout', 2);
    assert.equal(waited.status, 503);
    assert.ok(retryAfter(waited) >= 1);
    timeout.release(0);
    assert.equal((await first).status, 200);
    assert.equal(timeout.arrived.value, 1, 'the timed-out request never reached the backend');
  });
});

// ---------------------------------------------------------------------------------------------
// 7. rateLimit

describe('rateLimit', () => {
  const agent = new Agent({ keepAlive: true });
  let be: TestBackend;
  let proxy: ProxyProcess;

  before(async () => {
    be = await TestBackend.start('limited');
    const limit = 'average: 5, period: 1s, burst: 5';
    proxy = await startWith(`${staticPart(`  edge:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1"] }
`)}http:
  routers:
    plain: { rule: "PathPrefix(\`/plain\`)", service: be, middlewares: [rl-plain], entryPoints: [web] }
    spoof: { rule: "PathPrefix(\`/spoof\`)", service: be, middlewares: [rl-spoof], entryPoints: [web] }
    spoof-depth:
      { rule: "PathPrefix(\`/untrusted-depth\`)", service: be, middlewares: [rl-untrusted-depth], entryPoints: [web] }
    depth: { rule: "PathPrefix(\`/depth\`)", service: be, middlewares: [rl-depth], entryPoints: [edge] }
    paced: { rule: "PathPrefix(\`/paced\`)", service: be, middlewares: [rl-paced], entryPoints: [web] }
    by-key: { rule: "PathPrefix(\`/by-key\`)", service: be, middlewares: [rl-key], entryPoints: [web] }
    no-key: { rule: "PathPrefix(\`/no-key\`)", service: be, middlewares: [rl-nokey], entryPoints: [web] }
  middlewares:
    rl-key: { rateLimit: { average: 1, period: 10s, burst: 1, sourceCriterion: { requestHeaderName: X-Key } } }
    rl-nokey: { rateLimit: { average: 1, period: 10s, burst: 1, sourceCriterion: { requestHeaderName: "" } } }
    rl-paced: { rateLimit: { average: 1, period: 1s, burst: 1 } }
    rl-plain: { rateLimit: { ${limit} } }
    rl-spoof: { rateLimit: { ${limit} } }
    rl-untrusted-depth: { rateLimit: { ${limit}, sourceCriterion: { ipStrategy: { depth: 1 } } } }
    rl-depth: { rateLimit: { ${limit}, sourceCriterion: { ipStrategy: { depth: 1 } } } }
  services:
    be: { loadBalancer: { servers: [{ url: "${be.url}" }] } }
`);
  });
  after(async () => {
    agent.destroy();
    await proxy?.stop();
    await be?.close();
  });

  /** 10 requests back to back; the replies. */
  const burst = (port: number, path: string, xff?: (i: number) => string): Promise<Reply[]> =>
    sendMany(10, 1, (i) =>
      send(agent, port, `${path}/${i}`, xff === undefined ? {} : { headers: { 'x-forwarded-for': xff(i) } }),
    );

  function assertLimited(replies: readonly Reply[]): void {
    const passed = replies.filter((r) => r.status === 200).length;
    const limited = replies.filter((r) => r.status === 429);
    assert.equal(passed + limited.length, 10, JSON.stringify(replies.map((r) => r.status)));
    assert.ok(passed >= 5 && passed <= 7, `about 5 of 10 pass: ${passed}`);
    for (const r of limited) assert.ok(retryAfter(r) >= 1);
  }

  it('lets about 5 of a burst of 10 through and answers 429 with Retry-After to the rest', async () => {
    assertLimited(await burst(proxy.port, '/plain'));
  });

  it('keys on the real peer address, whatever X-Forwarded-For a client sends', async () => {
    assertLimited(await burst(proxy.port, '/spoof', (i) => `10.0.0.${i + 1}`));
    assertLimited(await burst(proxy.port, '/untrusted-depth', (i) => `10.1.0.${i + 1}`));
  });

  it('holds a request whose token comes within the max delay, and refuses a later one with X-Retry-In', async () => {
    // 1/s, burst 1: Traefik's max delay is 1 / (2 × rate) = 500 ms.
    const t0 = performance.now();
    assert.equal((await send(agent, proxy.port, '/paced/1')).status, 200);
    await sleep(600);
    // Both ask for the token due ~400 ms from now: one waits for it, the other would wait 1.4 s.
    const timed = (i: number) =>
      send(agent, proxy.port, `/paced/${i}`).then((r) => ({ r, at: performance.now() - t0 }));
    const replies = await Promise.all([timed(2), timed(3)]);
    const ok = replies.filter((x) => x.r.status === 200);
    const refused = replies.filter((x) => x.r.status === 429);
    assert.equal(ok.length, 1, JSON.stringify(replies.map((x) => x.r.status)));
    assert.equal(refused.length, 1);
    // Its token was due 1 s after the first request's, which was sent at t0 (a lower bound only).
    assert.ok(ok[0]!.at >= 950, `the admitted request was held until its token: ${ok[0]!.at} ms`);
    const r = refused[0]!.r;
    assert.ok(retryAfter(r) >= 1);
    assert.match(String(r.headers['x-retry-in']), /^\d+(\.\d+)?(ms|s)$/, 'X-Retry-In, a Go duration');
    assert.equal(r.body, 'Too Many Requests');
  });

  it('keys on a request header, and puts every request without it in one bucket (Traefik)', async () => {
    const get = (localAddress: string, key?: string) =>
      send(agent, proxy.port, '/by-key', {
        localAddress,
        ...(key === undefined ? {} : { headers: { 'x-key': key } }),
      }).then((r) => r.status);
    assert.equal(await get('127.0.0.1'), 200);
    assert.equal(await get('127.0.0.2'), 429, 'another client without the header shares the empty key');
    assert.equal(await get('127.0.0.2', 'k1'), 200);
    assert.equal(await get('127.0.0.1', 'k1'), 429, 'the key, not the address, is the source');
    assert.equal(await get('127.0.0.1', 'k2'), 200);
  });

  it('takes an empty requestHeaderName as not set: keyed on the peer address (Traefik GetSourceExtractor)', async () => {
    const get = (localAddress: string, key?: string) =>
      send(agent, proxy.port, '/no-key', {
        localAddress,
        ...(key === undefined ? {} : { headers: { 'x-key': key } }),
      }).then((r) => r.status);
    assert.equal(await get('127.0.0.3'), 200);
    assert.equal(await get('127.0.0.3', 'other'), 429, 'the same peer, whatever its headers');
    assert.equal(await get('127.0.0.4'), 200, 'another peer has its own bucket');
  });

  it('with ipStrategy depth 1 behind a trusted proxy, gives each X-Forwarded-For client its own bucket', async () => {
    const edge = proxy.ports['edge'];
    assert.ok(edge !== undefined);
    const distinct = await burst(edge, '/depth', (i) => `203.0.113.${i + 1}`);
    assert.deepEqual(
      distinct.map((r) => r.status),
      new Array(10).fill(200),
      'ten different clients behind the trusted proxy are not limited together',
    );
    // One client behind the trusted proxy is still limited on its own.
    assertLimited(await burst(edge, '/depth/same', () => '198.51.100.7'));
  });
});
