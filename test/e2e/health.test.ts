/**
 * Active and passive health checks and slow start through the real proxy process, with backends
 * that are killed, restarted on the same port, hung, reset, or whose health endpoint fails on
 * cue. Every wait is on an event (a log line, a probe reaching a backend) with a deadline; time
 * only ever decides which window a response is counted in (slow start), never a verdict.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, createServer as createHttpServer, request } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, describe, it, type TestContext } from 'node:test';
import { type KillableBackend, type SeenRequest, startKillableBackend } from '../helpers/killable-backend.ts';
import { type LogLine, type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { selfSignedCertificate } from '../helpers/tls-certs.ts';
import { Counter, currentGeneration, waitApplied, waitForLogFrom } from '../helpers/wait.ts';

/**
 * Short intervals for a fast file; a timeout long enough for a loaded machine (tests run three at
 * a time) to answer a healthy probe, so that only the hung backend ever times out.
 */
const CHECK = 'interval: 100ms, timeout: 3s';

after(() => agent.destroy());

interface Reply {
  readonly status: number;
  readonly body: string;
}

/**
 * Clients keep their connection to the proxy: the proxy, not the client, decides where each
 * request goes, and a new connection per request only slows the file down.
 */
const agent = new Agent({ keepAlive: true });

/** One GET; rejects only when no response arrives within 20 s. */
function get(port: number, path = '/'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no response to ${path} within 20 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Who answered `n` sequential requests: backend name for a 200, `status N` otherwise. */
async function spread(proxy: ProxyProcess, n: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = await get(proxy.port, `/req-${i}`);
    const key = r.status === 200 ? r.body : `status ${r.status}`;
    seen[key] = (seen[key] ?? 0) + 1;
  }
  return seen;
}

/**
 * Sends requests one by one until a log line written since `from` satisfies `pred`; gives up
 * after `max` requests or 10 s (a bound, not a measurement).
 */
async function sendUntilLog(
  proxy: ProxyProcess,
  from: number,
  pred: (l: LogLine) => boolean,
  what: string,
  max = Number.POSITIVE_INFINITY,
): Promise<{ line: LogLine; replies: Reply[] }> {
  const replies: Reply[] = [];
  const giveUpAt = performance.now() + 10_000;
  for (let i = 0; ; i++) {
    const line = proxy.logs.slice(from).find(pred);
    if (line !== undefined) return { line, replies };
    if (i >= max || performance.now() > giveUpAt) break;
    replies.push(await get(proxy.port, `/until-${i}`));
  }
  throw new Error(`no ${what} after ${replies.length} requests; last: ${JSON.stringify(replies.slice(-5))}`);
}

const serverLog =
  (msg: string, server: string) =>
  (l: LogLine): boolean =>
    l.msg === msg && l.server === server;
const isDown = (b: KillableBackend) => serverLog('server down', b.authority);
const isUp = (b: KillableBackend) => serverLog('server up', b.authority);

function linesSince(proxy: ProxyProcess, from: number, pred: (l: LogLine) => boolean): LogLine[] {
  return proxy.logs.slice(from).filter(pred);
}

async function backends(t: TestContext, names: readonly string[], healthPath?: string) {
  const list = await Promise.all(names.map((n) => startKillableBackend(n, healthPath)));
  t.after(() => Promise.all(list.map((b) => b.close())));
  return list;
}

/** Static + dynamic config: one entry point, every path to service `be` over `servers`. */
function config(servers: readonly KillableBackend[], lbExtra: string, dynamicExtra = ''): string {
  return `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
${dynamic(servers, lbExtra, dynamicExtra)}`;
}

function dynamic(servers: readonly KillableBackend[], lbExtra: string, dynamicExtra = ''): string {
  return `http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be:
      loadBalancer:
        servers:
${servers.map((b) => `          - url: "${b.url}"`).join('\n')}
${lbExtra
  .split('\n')
  .map((l) => (l === '' ? l : `        ${l}`))
  .join('\n')}
${dynamicExtra}`;
}

async function proxyWith(
  t: TestContext,
  text: string,
  files?: Record<string, string>,
): Promise<ProxyProcess> {
  const proxy = await startProxy(files === undefined ? { config: text } : { config: text, files });
  t.after(() => proxy.stop());
  const applied = proxy.logs.find(
    (l) => l.msg === 'configuration applied' || l.msg === 'configuration rejected',
  );
  assert.equal(applied?.msg, 'configuration applied', JSON.stringify(proxy.logs));
  return proxy;
}

/** Probes `b` received since request index `from`. */
function probesSince(b: KillableBackend, from: number): SeenRequest[] {
  return b.requests.slice(from).filter((r) => r.probe);
}

// Every test has its own proxy and backends: three at a time keeps the file fast.
describe('health checks and slow start', { concurrency: 3 }, () => {
  // Active checks.
  it('takes a killed server out of rotation and puts it back once it is up again', async (t) => {
    const [a, b] = await backends(t, ['a', 'b']);
    const proxy = await proxyWith(t, config([a!, b!], `healthCheck: { path: /health, ${CHECK} }`));
    assert.deepEqual(await spread(proxy, 10), { a: 5, b: 5 });

    let mark = proxy.logs.length;
    await b!.stop();
    const down = await waitForLogFrom(proxy, mark, isDown(b!));
    assert.equal(down.level, 'warn');
    assert.match(String(down.service), /^be(@|$)/);
    assert.deepEqual(await spread(proxy, 20), { a: 20 });

    mark = proxy.logs.length;
    await b!.restart();
    await waitForLogFrom(proxy, mark, isUp(b!));
    const back = await spread(proxy, 20);
    assert.ok((back.b ?? 0) >= 5, `b serves again after 'server up': ${JSON.stringify(back)}`);
    assert.equal((back.a ?? 0) + (back.b ?? 0), 20, JSON.stringify(back));
    assert.deepEqual(linesSince(proxy, 0, isDown(a!)), [], 'the live server never went down');
  });

  it('needs `fails` failed probes in a row to take a server down and `passes` good ones to bring it back', async (t) => {
    const [a, b] = await backends(t, ['a', 'b']);
    const proxy = await proxyWith(
      t,
      config([a!, b!], `healthCheck: { path: /health, ${CHECK}, fails: 3, passes: 3 }`),
    );
    await b!.probes.reach(1, 'a first probe of b');

    // Two failures, then successes: below the threshold, and the streak is broken.
    let from = b!.requests.length;
    b!.setMode(500, { scope: 'health', times: 2 });
    await b!.probes.more(5, 'two failing and three good probes of b');
    assert.deepEqual(
      probesSince(b!, from)
        .slice(0, 5)
        .map((r) => r.outcome),
      [500, 500, 200, 200, 200],
    );
    assert.deepEqual(linesSince(proxy, 0, isDown(b!)), [], 'two failed probes must not take b down');
    const stillIn = await spread(proxy, 10);
    assert.ok((stillIn.b ?? 0) > 0, `b still serves: ${JSON.stringify(stillIn)}`);

    // Failing for good: down only once three probes in a row have failed.
    from = b!.requests.length;
    let mark = proxy.logs.length;
    b!.setMode(500, { scope: 'health' });
    const down = await waitForLogFrom(proxy, mark, isDown(b!));
    const failed = probesSince(b!, from).filter((r) => r.outcome === 500).length;
    assert.ok(failed >= 3, `'server down' after ${failed} failed probe(s), fails: 3`);
    assert.match(String(down.reason), /500/);
    assert.deepEqual(await spread(proxy, 10), { a: 10 });

    // Healthy again: up only after three good probes in a row.
    from = b!.requests.length;
    mark = proxy.logs.length;
    b!.setMode('ok', { scope: 'health' });
    await waitForLogFrom(proxy, mark, isUp(b!));
    const good = probesSince(b!, from).filter((r) => r.outcome === 200).length;
    assert.ok(good >= 3, `'server up' after ${good} good probe(s), passes: 3`);
    const back = await spread(proxy, 10);
    assert.ok((back.b ?? 0) > 0, `b serves again: ${JSON.stringify(back)}`);
  });

  it('sends the configured method, path, Host and headers, and judges the status against the range', async (t) => {
    const [a, b] = await backends(t, ['a', 'b'], '/healthz');
    const proxy = await proxyWith(
      t,
      config(
        [a!, b!],
        `healthCheck:
  path: "/healthz?deep=1"
  method: HEAD
  hostname: health.example
  headers: { X-Probe: e2e, X-Token: "42" }
  status: "200-204"
  ${CHECK.replace(', ', '\n  ')}`,
      ),
    );
    await b!.probes.reach(1, 'a first probe of b');
    const probe = b!.requests.find((r) => r.probe)!;
    assert.equal(probe.method, 'HEAD');
    assert.equal(probe.url, '/healthz?deep=1');
    assert.equal(probe.headers.host, 'health.example');
    assert.equal(probe.headers['x-probe'], 'e2e');
    assert.equal(probe.headers['x-token'], '42');
    assert.equal(b!.traffic.value, 0, 'probes are not counted as traffic');

    // 204 is inside 200-204: b stays in.
    b!.setMode(204, { scope: 'health' });
    await b!.probes.more(3, 'three probes answered 204');
    assert.deepEqual(linesSince(proxy, 0, isDown(b!)), []);

    // 205 is a 2xx but outside the range: down.
    let mark = proxy.logs.length;
    b!.setMode(205, { scope: 'health' });
    const down = await waitForLogFrom(proxy, mark, isDown(b!));
    assert.match(String(down.reason), /205/);
    assert.deepEqual(await spread(proxy, 10), { a: 10 });

    mark = proxy.logs.length;
    b!.setMode(204, { scope: 'health' });
    await waitForLogFrom(proxy, mark, isUp(b!));
    assert.ok(b!.requests.filter((r) => r.probe).every((r) => r.headers.host === 'health.example'));
  });

  it('resolves the check’s path against the server URL, and probes the URL itself without one (as Traefik)', async (t) => {
    const [a, b] = await backends(t, ['a', 'b'], '/svc/health');
    const proxy = await proxyWith(
      t,
      `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    ra: { rule: "Path(\`/a\`)", service: sa }
    rb: { rule: "Path(\`/b\`)", service: sb }
  services:
    sa:
      loadBalancer:
        servers: [{ url: "${a!.url}/svc/" }]
        healthCheck: { path: health, ${CHECK} }
    sb:
      loadBalancer:
        servers: [{ url: "${b!.url}/svc/health?deep=1" }]
        healthCheck: { ${CHECK} }
`,
    );
    await a!.probes.reach(1, 'a first probe of a');
    await b!.probes.reach(1, 'a first probe of b');
    assert.equal(a!.requests.find((r) => r.probe)?.url, '/svc/health');
    assert.equal(b!.requests.find((r) => r.probe)?.url, '/svc/health?deep=1');
    assert.equal((await get(proxy.port, '/a')).status, 200);
  });

  it('probes over TLS with the transport’s settings when the check’s scheme is https, whatever the server URL’s', async (t) => {
    const [a] = await backends(t, ['a']);
    // The check's port: an https server trusting nothing but the transport's rootCAs.
    const cert = selfSignedCertificate(['127.0.0.1']);
    let healthStatus = 200;
    const seen: { encrypted: boolean; url: string }[] = [];
    const probes = new Counter();
    const tlsHealth = createHttpsServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
      seen.push({
        encrypted: (req.socket as { encrypted?: boolean }).encrypted === true,
        url: req.url ?? '',
      });
      probes.inc();
      res.writeHead(healthStatus);
      res.end();
    });
    tlsHealth.listen(0, '127.0.0.1');
    await once(tlsHealth, 'listening');
    t.after(() => new Promise<void>((resolve) => tlsHealth.close(() => resolve())));
    const tlsPort = (tlsHealth.address() as AddressInfo).port;
    const proxy = await proxyWith(
      t,
      config(
        [a!],
        `serversTransport: checked
healthCheck: { scheme: https, port: ${tlsPort}, path: /health, ${CHECK} }`,
        `  serversTransports:
    checked:
      rootCAs:
        - |
${cert.certPem
  .trim()
  .split('\n')
  .map((l) => `          ${l}`)
  .join('\n')}
`,
      ),
    );
    await probes.reach(1, 'a first probe over TLS');
    assert.deepEqual(seen[0], { encrypted: true, url: '/health' });
    assert.deepEqual(await spread(proxy, 2), { a: 2 });
    const mark = proxy.logs.length;
    healthStatus = 500;
    await waitForLogFrom(proxy, mark, isDown(a!));
    assert.deepEqual(await spread(proxy, 2), { 'status 503': 2 });
    assert.equal(a!.probes.value, 0, 'the server URL’s port was never probed');
  });

  it('follows a redirect of an http server’s check to https with the transport’s TLS (Go’s client)', async (t) => {
    // The check's redirect leads to an https server trusting nothing but the transport's rootCAs.
    const cert = selfSignedCertificate(['127.0.0.1']);
    let healthStatus = 200;
    const seen: { encrypted: boolean; url: string }[] = [];
    const probes = new Counter();
    const tlsHealth = createHttpsServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
      seen.push({
        encrypted: (req.socket as { encrypted?: boolean }).encrypted === true,
        url: req.url ?? '',
      });
      probes.inc();
      res.writeHead(healthStatus);
      res.end();
    });
    tlsHealth.listen(0, '127.0.0.1');
    await once(tlsHealth, 'listening');
    t.after(() => new Promise<void>((resolve) => tlsHealth.close(() => resolve())));
    const tlsPort = (tlsHealth.address() as AddressInfo).port;
    // The server: plain http, its /health a redirect to the https one.
    const plain = createHttpServer((req, res) => {
      if (req.url === '/health') res.writeHead(302, { location: `https://127.0.0.1:${tlsPort}/ready` });
      else res.writeHead(200);
      res.end(req.url === '/health' ? '' : 'plain');
    });
    plain.listen(0, '127.0.0.1');
    await once(plain, 'listening');
    t.after(() => {
      plain.closeAllConnections();
      return new Promise<void>((resolve) => plain.close(() => resolve()));
    });
    const plainPort = (plain.address() as AddressInfo).port;
    const proxy = await proxyWith(
      t,
      `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", service: be }
  services:
    be:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:${plainPort}" }]
        serversTransport: checked
        healthCheck: { path: /health, ${CHECK} }
  serversTransports:
    checked:
      rootCAs:
        - |
${cert.certPem
  .trim()
  .split('\n')
  .map((l) => `          ${l}`)
  .join('\n')}
`,
    );
    await probes.reach(1, 'a redirected probe over TLS');
    assert.deepEqual(seen[0], { encrypted: true, url: '/ready' });
    assert.deepEqual(await spread(proxy, 2), { plain: 2 });
    const mark = proxy.logs.length;
    healthStatus = 500;
    await waitForLogFrom(proxy, mark, serverLog('server down', `127.0.0.1:${plainPort}`));
    assert.deepEqual(await spread(proxy, 2), { 'status 503': 2 });
  });

  it('answers 503 at once when every server is down, and serves again when one comes back', async (t) => {
    const [a, b] = await backends(t, ['a', 'b']);
    const proxy = await proxyWith(
      t,
      config(
        [a!, b!],
        `serversTransport: slow-dial\nhealthCheck: { path: /health, ${CHECK} }`,
        // With every server known down the proxy must not dial: a refused dial would answer 502,
        // and a dial left hanging would hold the request for these 30 s.
        '  serversTransports:\n    slow-dial: { forwardingTimeouts: { dialTimeout: 30s } }\n',
      ),
    );
    const mark = proxy.logs.length;
    await Promise.all([a!.stop(), b!.stop()]);
    await Promise.all([waitForLogFrom(proxy, mark, isDown(a!)), waitForLogFrom(proxy, mark, isDown(b!))]);

    const r = await get(proxy.port, '/nobody-home');
    assert.equal(r.status, 503);
    const failed = await proxy.waitForLog((l) => l.msg === 'request failed' && l.path === '/nobody-home');
    assert.equal(failed.code, 'NO_SERVER', JSON.stringify(failed));
    assert.equal(failed.server, '');

    const upMark = proxy.logs.length;
    await a!.restart();
    await waitForLogFrom(proxy, upMark, isUp(a!));
    assert.deepEqual(await spread(proxy, 5), { a: 5 });
  });

  it('in tcp mode, takes a killed server out by connecting only, and puts it back', async (t) => {
    const [a, b] = await backends(t, ['a', 'b']);
    const proxy = await proxyWith(t, config([a!, b!], `healthCheck: { mode: tcp, ${CHECK} }`));
    assert.deepEqual(await spread(proxy, 4), { a: 2, b: 2 });

    let mark = proxy.logs.length;
    await b!.stop();
    await waitForLogFrom(proxy, mark, isDown(b!));
    assert.deepEqual(await spread(proxy, 20), { a: 20 });

    mark = proxy.logs.length;
    await b!.restart();
    await waitForLogFrom(proxy, mark, isUp(b!));
    const back = await spread(proxy, 10);
    assert.ok((back.b ?? 0) > 0, `b serves again: ${JSON.stringify(back)}`);
    assert.equal(a!.probes.value + b!.probes.value, 0, 'a tcp check sends no HTTP request');
    assert.equal(
      b!.requests.length,
      b!.traffic.value,
      'every request b saw was traffic, not a probe of some other path',
    );
  });

  it('marks a server that accepts but never answers down once the check times out', async (t) => {
    const [a, b] = await backends(t, ['a', 'b']);
    const proxy = await proxyWith(t, config([a!, b!], `healthCheck: { path: /health, ${CHECK} }`));
    await b!.probes.reach(1, 'a first probe of b');

    let mark = proxy.logs.length;
    b!.setMode('hang');
    const down = await waitForLogFrom(proxy, mark, isDown(b!));
    assert.match(String(down.reason), /timeout|timed out/i);
    // No request is sent to b while it hangs: each would wait for a response forever.
    assert.deepEqual(await spread(proxy, 20), { a: 20 });
    assert.equal(b!.traffic.value, 0);

    mark = proxy.logs.length;
    b!.setMode('ok');
    await waitForLogFrom(proxy, mark, isUp(b!));
    const back = await spread(proxy, 10);
    assert.ok((back.b ?? 0) > 0, `b serves again: ${JSON.stringify(back)}`);
  });

  it('keeps a down server down across a reload that leaves its service unchanged', async (t) => {
    const [a, b] = await backends(t, ['a', 'b']);
    // b serves traffic but fails its checks: if a reload forgot that, b's name would show up.
    b!.setMode(500, { scope: 'health' });
    const lb = `healthCheck: { path: /health, ${CHECK} }`;
    const proxy = await proxyWith(
      t,
      'entryPoints:\n  web:\n    address: "127.0.0.1:0"\nlog: { level: INFO }\nproviders:\n  file:\n    filename: dyn.yaml\n',
      { 'dyn.yaml': dynamic([a!, b!], lb) },
    );
    await proxy.waitForLog(isDown(b!));
    assert.deepEqual(await spread(proxy, 10), { a: 10 });

    const mark = proxy.logs.length;
    const generation = currentGeneration(proxy);
    proxy.writeFile(
      'dyn.yaml',
      dynamic([a!, b!], lb).replace(
        '  routers:\n',
        '  routers:\n    other: { rule: "Path(`/other`)", service: be, priority: 100 }\n',
      ),
    );
    await waitApplied(proxy, generation + 1);
    assert.deepEqual(await spread(proxy, 20), { a: 20 });
    await Promise.all([a!.probes.more(3), b!.probes.more(3)]);
    assert.deepEqual(await spread(proxy, 10), { a: 10 });
    const flaps = linesSince(proxy, mark, (l) => l.server === b!.authority);
    assert.deepEqual(flaps, [], 'no up/down transition of b after the reload');
    assert.equal(b!.traffic.value, 0);
  });

  // Passive checks.
  it('ejects a server that resets connections and lets it back after ejectionTime', async (t) => {
    const [a, b] = await backends(t, ['a', 'b']);
    const proxy = await proxyWith(
      t,
      config(
        [a!, b!],
        'passiveHealthCheck: { failureWindow: 10s, maxFailedAttempts: 3, ejectionTime: 1500ms, maxEjectionPercent: 50 }',
      ),
    );
    assert.deepEqual(await spread(proxy, 4), { a: 2, b: 2 });

    let mark = proxy.logs.length;
    b!.setMode('reset', { scope: 'traffic' });
    const ejected = await sendUntilLog(
      proxy,
      mark,
      (l) => l.msg === 'server ejected' && l.server === b!.url,
      "'server ejected' for b",
      50,
    );
    assert.match(String(ejected.line.service), /^be(@|$)/);
    assert.ok(
      ejected.replies.some((r) => r.status === 502),
      `b's resets reach the client before the ejection: ${JSON.stringify(ejected.replies)}`,
    );
    const trafficAtEjection = b!.traffic.value;
    assert.deepEqual(await spread(proxy, 10), { a: 10 });
    assert.equal(b!.traffic.value, trafficAtEjection, 'no request reached b while ejected');

    mark = proxy.logs.length;
    b!.setMode('ok');
    // Expiry is noticed when a request considers b: keep sending until it is.
    await sendUntilLog(
      proxy,
      mark,
      (l) => l.msg === 'server returned after ejection' && l.server === b!.url,
      "'server returned after ejection' for b",
    );
    const back = await spread(proxy, 10);
    assert.ok((back.b ?? 0) > 0, `b serves again: ${JSON.stringify(back)}`);
  });

  // Slow start.
  it('gives a recovered server a clearly smaller share at first, then an equal one', async (t) => {
    const [a, b] = await backends(t, ['a', 'b']);
    const RAMP_MS = 2000;
    const proxy = await proxyWith(
      t,
      config([a!, b!], `slowStart: ${RAMP_MS}ms\nhealthCheck: { path: /health, ${CHECK} }`),
    );
    let mark = proxy.logs.length;
    await b!.stop();
    await waitForLogFrom(proxy, mark, isDown(b!));

    // Load runs through the recovery; each response is filed by when it arrived after 'server up'.
    let upAt = Number.POSITIVE_INFINITY;
    let stop = false;
    const samples: { at: number; body: string }[] = [];
    const loop = async (): Promise<void> => {
      while (!stop) {
        const r = await get(proxy.port, '/ramp');
        samples.push({ at: performance.now(), body: r.status === 200 ? r.body : `status ${r.status}` });
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    try {
      mark = proxy.logs.length;
      await b!.restart();
      await waitForLogFrom(proxy, mark, isUp(b!));
      upAt = performance.now();
      // The late window starts well after the ramp: it must hold enough responses to compare.
      while (samples.filter((s) => s.at > upAt + RAMP_MS + 300).length < 200) {
        await b!.traffic.more(1, 'b to serve during the late window');
      }
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    const share = (from: number, to: number) => {
      const win = samples.filter((s) => s.at >= upAt + from && s.at < upAt + to);
      const n = (name: string) => win.filter((s) => s.body === name).length;
      return { a: n('a'), b: n('b'), total: win.length };
    };
    const early = share(0, RAMP_MS / 4);
    const late = share(RAMP_MS + 300, Number.POSITIVE_INFINITY);
    const info = JSON.stringify({ early, late });
    assert.equal(early.a + early.b, early.total, `only 200s: ${info}`);
    assert.equal(late.a + late.b, late.total, `only 200s: ${info}`);
    assert.ok(early.total >= 20, `enough early samples to judge: ${info}`);
    assert.ok(early.b < early.total * 0.35, `b's early share is clearly below a's: ${info}`);
    assert.ok(late.b > late.total * 0.35 && late.b < late.total * 0.65, `equal share later: ${info}`);
  });
});
