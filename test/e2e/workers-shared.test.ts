import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OcspResponder } from '../../src/tls/ocsp/test-responder.ts';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { freePort } from '../helpers/pebble.ts';
import type { ProxyProcess } from '../helpers/proxy-process.ts';
import { type Issued, run, TestPki } from '../helpers/tls-certs.ts';
import { Counter, waitForLogFrom } from '../helpers/wait.ts';
import {
  get,
  getMany,
  killWorkers,
  probedByControlPlaneOnly,
  probesLogged,
  STARTUP_MS,
  scrape,
  serving,
  startWorkers,
} from '../helpers/workers.ts';

/*
 * `workers: 2`: what the control plane keeps for the whole proxy beyond any one worker's life.
 */

describe('workers: a dead worker’s counters stay in /metrics', () => {
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await startBackend((_req, res) => res.end('ok'));
    proxy = await startWorkers({
      config: `workers: 2
log: { level: INFO, format: json }
entryPoints:
  web: { address: "127.0.0.1:0" }
  traefik: { address: "127.0.0.1:0" }
api: { insecure: true }
metrics:
  prometheus: { entryPoint: traefik, addEntryPointsLabels: true }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", entryPoints: [web], service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
      entryPoints: 2,
    });
  });

  after(async () => {
    await killWorkers(proxy);
    await backend?.close();
  });

  it('keeps a killed worker’s last counts: the summed counter does not go backwards', async () => {
    const replies = await getMany(proxy.ports['web']!, 60);
    assert.deepEqual(
      replies.map((r) => r.status),
      replies.map(() => 200),
    );
    const seen = await scrape(proxy.ports['traefik']!);
    assert.equal(seen.webTotal, 60);
    const victim = seen.pids.get('1')!;
    assert.ok(seen.perWorker.get('1')! > 0, 'worker 1 served some of them');
    const from = proxy.logs.length;
    process.kill(victim, 'SIGKILL');
    await waitForLogFrom(proxy, from, serving(1, victim), STARTUP_MS);
    const after = await scrape(proxy.ports['traefik']!);
    assert.notEqual(after.pids.get('1'), victim);
    assert.equal(after.webTotal, 60, 'the dead worker’s requests are still counted');
    // And the replacement's own requests add to them.
    await getMany(proxy.ports['web']!, 20);
    assert.equal((await scrape(proxy.ports['traefik']!)).webTotal, 80);
  });
});

/**
 * One connection through the proxy: writes `ping` and, once its echo is back, ends; resolves with
 * what came back before the close. It does not half-close first: after a client's FIN the proxy
 * gives the server terminationDelay to answer (0 for a service without serversTransport, as
 * Traefik). One sent to the dead server is reset (a rejection) or closed empty ('').
 */
function tcpRoundTrip(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = connect(port, '127.0.0.1', () => s.write('ping'));
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
      if (got.length >= 4) s.end();
    });
    s.on('error', reject);
    s.on('close', () => resolve(got));
  });
}

describe('workers: TCP health checks run in the control plane only', () => {
  let echo: Server;
  let proxy: ProxyProcess;
  /** Every connection the healthy server got: probes and proxied clients. */
  const connections = new Counter();
  let deadPort: number;
  let alive: string;

  before(async () => {
    echo = createServer((c) => {
      connections.inc();
      c.on('data', (d) => c.write(d));
      c.on('end', () => c.end());
      c.on('error', () => {});
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    alive = `127.0.0.1:${(echo.address() as AddressInfo).port}`;
    // Nothing listens there: its probe fails at once.
    deadPort = await freePort();
    proxy = await startWorkers({
      config: `workers: 2
log: { level: DEBUG, format: json }
entryPoints:
  tcp: { address: "127.0.0.1:0" }
  traefik: { address: "127.0.0.1:0" }
api: { insecure: true }
metrics:
  prometheus: { entryPoint: traefik }
tcp:
  routers:
    all: { rule: "HostSNI(\`*\`)", entryPoints: [tcp], service: be }
  services:
    be:
      loadBalancer:
        # One probe per server at start, the next a minute later; the probes are counted against
        # the control plane's "health probe" lines (DEBUG) anyway.
        healthCheck: { interval: 60s, timeout: 5s }
        servers: [{ address: "${alive}" }, { address: "127.0.0.1:${deadPort}" }]
`,
      entryPoints: 2,
    });
  });

  after(async () => {
    await killWorkers(proxy);
    await new Promise((resolve) => echo?.close(resolve));
  });

  it('probes each server once for the whole proxy and no worker sends a client to the dead one', async () => {
    const down = await proxy.waitForLog(
      (l) => l.msg === 'server down' && String(l.server).includes(String(deadPort)),
      20_000,
    );
    assert.equal(down.worker, undefined, 'the control plane probed it');
    // The first probes are spread over a tenth of the interval (6 s): the live server's may come
    // after the dead one's verdict.
    await connections.reach(1, "the control plane's probe of the live server", 20_000);
    // The verdict reaches each worker before a scrape's request on the same channel.
    const s = await scrape(proxy.ports['traefik']!);
    assert.equal(s.pids.size, 2);
    // The live server got the control plane's probes and no other: the workers do not probe.
    await probedByControlPlaneOnly(proxy, alive, () => connections.value);
    // 20 connections land on both workers; one sent to the dead server would fail (reset, or empty).
    const answers = await Promise.all(Array.from({ length: 20 }, () => tcpRoundTrip(proxy.ports['tcp']!)));
    assert.deepEqual(
      answers,
      answers.map(() => 'ping'),
    );
    // The 20 clients besides the probes, each counted before its echo came back.
    await probedByControlPlaneOnly(proxy, alive, () => connections.value - 20);
    assert.equal(probesLogged(proxy, `127.0.0.1:${deadPort}`).workers, 0, 'no worker probed the dead one');
    assert.equal(
      proxy.logs.filter((l) => l.msg === 'server down' && l.worker !== undefined).length,
      0,
      'no worker probed',
    );
  });
});

/** What `openssl s_client -status` saw stapled (the status, or null when nothing was). */
async function stapledStatus(port: number, servername: string): Promise<string | null> {
  const r = await run('openssl', [
    's_client',
    '-connect',
    `127.0.0.1:${port}`,
    '-servername',
    servername,
    '-status',
  ]);
  assert.match(r.out, /^(OCSP response: no response sent|OCSP Response Data:)/m, r.out);
  return /OCSP Response Status: successful/.test(r.out)
    ? (/Cert Status: (\w+)/.exec(r.out)?.[1] ?? null)
    : null;
}

describe('workers: OCSP responses are fetched once, in the control plane, and stapled by every worker', () => {
  let pki: TestPki;
  let responder: OcspResponder;
  let proxy: ProxyProcess;
  let good: Issued;

  before(async () => {
    pki = new TestPki('Workers OCSP CA');
    const port = await freePort();
    good = pki.issue('good.test', ['good.test'], { ocspUrl: `http://127.0.0.1:${port}/` });
    responder = await OcspResponder.start(pki, { port, validMinutes: 60 });
    proxy = await startWorkers({
      config: `workers: 2
log: { level: DEBUG, format: json }
entryPoints:
  websecure:
    address: "127.0.0.1:0"
    http: { tls: {} }
  traefik: { address: "127.0.0.1:0" }
api: { insecure: true }
metrics:
  prometheus: { entryPoint: traefik, addEntryPointsLabels: true }
ocsp: {}
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", entryPoints: [websecure], service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "http://127.0.0.1:9" }] } }
tls:
  certificates:
    - { certFile: good.pem, keyFile: good.key }
`,
      files: { 'good.pem': good.certPem + pki.ca.certPem, 'good.key': good.keyPem },
      entryPoints: 2,
    });
  });

  after(async () => {
    await killWorkers(proxy);
    await responder?.stop();
    pki?.remove();
  });

  it('staples the control plane’s response on connections to both workers', async () => {
    const fetched = await proxy.waitForLog((l) => l.msg === 'OCSP response stapled', 20_000);
    assert.equal(fetched.worker, undefined, 'fetched by the control plane');
    // The response travels to each worker before a scrape's request on the same channel.
    await scrape(proxy.ports['traefik']!);
    const statuses: (string | null)[] = [];
    for (let i = 0; i < 12; i++) statuses.push(await stapledStatus(proxy.ports['websecure']!, 'good.test'));
    assert.deepEqual(
      statuses,
      statuses.map(() => 'good'),
    );
    const stapledLogs = proxy.logs.filter((l) => l.msg === 'OCSP response stapled');
    assert.deepEqual(
      stapledLogs.map((l) => l.worker),
      [undefined],
      'one fetch for the whole proxy: no worker fetched',
    );
  });
});

describe('workers: a passive health ejection decided by one worker applies in all', () => {
  let good: Backend;
  let bad: Backend;
  let proxy: ProxyProcess;
  const badHits = new Counter();

  before(async () => {
    good = await startBackend((_req, res) => res.end('good'));
    bad = await startBackend((_req, res) => {
      badHits.inc();
      res.statusCode = 500;
      res.end('bad');
    });
    proxy = await startWorkers({
      config: `workers: 2
log: { level: INFO, format: json }
entryPoints:
  web: { address: "127.0.0.1:0" }
  traefik: { address: "127.0.0.1:0" }
api: { insecure: true }
metrics:
  prometheus: { entryPoint: traefik, addEntryPointsLabels: true }
http:
  routers:
    all: { rule: "PathPrefix(\`/\`)", entryPoints: [web], service: be }
  services:
    be:
      loadBalancer:
        # One 500 ejects a server for a minute (longer than the test).
        passiveHealthCheck: { maxFailedAttempts: 1, ejectionTime: 60s }
        servers: [{ url: "${good.url}" }, { url: "${bad.url}" }]
`,
      entryPoints: 2,
    });
  });

  after(async () => {
    await killWorkers(proxy);
    await good?.close();
    await bad?.close();
  });

  it('the worker that saw the 500 ejects the server, and the other ejects it too without a failure of its own', async () => {
    const port = proxy.ports['web']!;
    // Round robin: one of the first requests of whichever worker reaches the bad server.
    while (badHits.value === 0) await get(port);
    const own = await proxy.waitForLog(
      (l) => l.msg === 'server ejected' && l.reason === 'consecutive-failures',
    );
    const shared = await proxy.waitForLog((l) => l.msg === 'server ejected' && l.reason === 'shared');
    assert.notEqual(own.worker, undefined);
    assert.notEqual(shared.worker, own.worker, 'the other worker applied it');
    const before = await scrape(proxy.ports['traefik']!);
    const replies = await getMany(port, 40);
    assert.deepEqual(new Set(replies.map((r) => r.body)), new Set(['good']));
    assert.equal(badHits.value, 1, 'one failure for the whole proxy');
    const after = await scrape(proxy.ports['traefik']!);
    for (const w of ['1', '2']) {
      assert.ok(after.perWorker.get(w)! > before.perWorker.get(w)!, `worker ${w} served after the ejection`);
    }
  });
});
