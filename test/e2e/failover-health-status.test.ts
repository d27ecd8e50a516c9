/**
 * A failover follows the status its services report as Traefik's does (pkg/server/service/
 * loadbalancer/failover/failover.go; wrr.go SetStatus; pkg/server/service/service.go
 * getFailoverServiceHandler), through the real proxy with real backends:
 * - a main service that never reports a change of status keeps the failover on it: a load
 *   balancer with `healthCheck` and no server, a weighted service with `healthCheck` and no
 *   child (their balancers start up and only a server's or child's change is propagated). It
 *   answers 503 `no available server`, and the fallback is asked only when `errors.status`
 *   lists 503; a weighted parent with `healthCheck` gives it its share;
 * - with `healthCheck` on the failover, a main and a fallback both reported down: the failover
 *   answers itself, http.Error(w, "Service Unavailable", 503), also when `errors.status` sends a
 *   main's answer to that fallback; without it, the fallback is always called (its own 503);
 * - a TCP weighted service with `healthCheck` gives a child with a health check and no server its
 *   share (Traefik's pkg/tcp/wrr_load_balancer.go SetStatus: no change, so up): those
 *   connections are closed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { startEchoServer, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const HC = '{ path: /health, interval: 200ms, timeout: 1s }';

describe('failover and the status its services report (Traefik failover.go)', () => {
  let proxy: ProxyProcess;
  let ok: Backend;
  let downA: Backend;
  let downB: Backend;
  let fails: Backend;
  let other: Backend;
  before(async () => {
    ok = await startBackend((_req, res) => res.end('fallback'));
    other = await startBackend((_req, res) => res.end('other'));
    // Failing their health checks from the start, answering requests.
    const sick = (name: string) =>
      startBackend((req, res) => {
        res.statusCode = req.url === '/health' ? 500 : 200;
        res.end(name);
      });
    downA = await sick('a');
    downB = await sick('b');
    // Healthy to its check, 500 to requests.
    fails = await startBackend((req, res) => {
      res.statusCode = req.url === '/health' ? 200 : 500;
      res.end('main 500');
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    empty: { rule: "Path(\`/empty\`)", service: foempty }
    emptyw: { rule: "Path(\`/emptyw\`)", service: foemptyw }
    emptyerr: { rule: "Path(\`/emptyerr\`)", service: foemptyerr }
    both: { rule: "Path(\`/both\`)", service: foboth }
    botherr: { rule: "Path(\`/botherr\`)", service: fobotherr }
    nohc: { rule: "Path(\`/nohc\`)", service: fonohc }
    wempty: { rule: "Path(\`/wempty\`)", service: wempty }
  services:
    foempty: { failover: { service: emptyhc, fallback: ok } }
    foemptyw: { failover: { service: emptyw, fallback: ok } }
    foemptyerr: { failover: { service: emptyhc, fallback: ok, errors: { status: ["503"] } } }
    foboth: { failover: { service: down1, fallback: down2, healthCheck: {} } }
    fobotherr: { failover: { service: fails, fallback: down2, healthCheck: {}, errors: { status: ["500"] } } }
    fonohc: { failover: { service: down1, fallback: down2 } }
    wempty: { weighted: { services: [{ name: emptyhc }, { name: other }], healthCheck: {} } }
    other: { loadBalancer: { servers: [{ url: "${other.url}" }], healthCheck: ${HC} } }
    emptyhc: { loadBalancer: { servers: [], healthCheck: ${HC} } }
    emptyw: { weighted: { services: [], healthCheck: {} } }
    ok: { loadBalancer: { servers: [{ url: "${ok.url}" }] } }
    down1: { loadBalancer: { servers: [{ url: "${downA.url}" }], healthCheck: ${HC} } }
    down2: { loadBalancer: { servers: [{ url: "${downB.url}" }], healthCheck: ${HC} } }
    fails: { loadBalancer: { servers: [{ url: "${fails.url}" }], healthCheck: ${HC} } }
`,
    });
    for (const s of ['down1@file', 'down2@file'])
      await proxy.waitForLog((l) => l.msg === 'server down' && l.service === s);
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all([ok?.close(), other?.close(), downA?.close(), downB?.close(), fails?.close()]);
  });

  const get = async (path: string) => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['web']}${path}`);
    return {
      status: r.status,
      type: r.headers.get('content-type'),
      nosniff: r.headers.get('x-content-type-options'),
      body: await r.text(),
    };
  };
  const GO_503 = (text: string) => ({
    status: 503,
    type: 'text/plain; charset=utf-8',
    nosniff: 'nosniff',
    body: `${text}\n`,
  });

  it('stays on a main service that has a health check and no server (or no child): 503, the fallback unasked', async () => {
    assert.deepEqual(await get('/empty'), GO_503('no available server'));
    assert.deepEqual(await get('/emptyw'), GO_503('no available server'));
    assert.equal(ok.seen.length, 0, 'the fallback was not asked');
  });

  it('sends that 503 to the fallback when errors.status lists it', async () => {
    const r = await get('/emptyerr');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'fallback');
  });

  it('answers its own 503 Service Unavailable when main and fallback report down (healthCheck on the failover)', async () => {
    const seen = downA.seen.length + downB.seen.length;
    assert.deepEqual(await get('/both'), GO_503('Service Unavailable'));
    // The main's answer to a listed status goes to a fallback that is down: the same answer.
    assert.deepEqual(await get('/botherr'), GO_503('Service Unavailable'));
    assert.equal(fails.seen.filter((s) => s.url === '/botherr').length, 1, 'the main was asked');
    assert.equal(downA.seen.length + downB.seen.length - seen, 0, 'no request reached a down server');
  });

  it('gives such a child its share under a weighted service with healthCheck: it answers 503', async () => {
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push((await get('/wempty')).body);
    assert.deepEqual(bodies.sort(), ['no available server\n', 'no available server\n', 'other', 'other']);
  });

  it("calls the fallback whatever its status without healthCheck on the failover: the fallback's 503", async () => {
    assert.deepEqual(await get('/nohc'), GO_503('no available server'));
  });
});

describe('a TCP weighted service with healthCheck over a child with a health check and no server', () => {
  let proxy: ProxyProcess;
  let live: TcpBackend;
  before(async () => {
    live = await startEchoServer('live\n');
    proxy = await startProxy({
      config: `entryPoints:
  tcpin:
    address: "127.0.0.1:0"
log: { level: INFO }
tcp:
  routers:
    all: { entryPoints: [tcpin], rule: "HostSNI(\`*\`)", service: w }
  services:
    w: { weighted: { services: [{ name: empty }, { name: live }], healthCheck: {} } }
    empty: { loadBalancer: { servers: [], healthCheck: { interval: 200ms, timeout: 1s } } }
    live:
      loadBalancer:
        servers: [{ address: "${live.address}" }]
        healthCheck: { interval: 200ms, timeout: 1s }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await live?.close();
  });

  it('gives that child its share, whose connections are closed', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await tcpExchange(proxy.ports['tcpin']!, null, { untilData: '\n', ms: 5000 });
      outcomes.push(r.data.length === 0 ? `closed:${r.how}` : r.data.toString());
    }
    assert.equal(outcomes.filter((o) => o === 'live\n').length, 2, outcomes.join());
    assert.equal(outcomes.filter((o) => o === 'closed:end').length, 2, outcomes.join());
  });
});
