/**
 * The retry middleware around the whole service, as Traefik's (pkg/middlewares/retry/retry.go
 * wraps the router's service handler: each attempt goes through the service tree again): the
 * load balancer's own 503 when no server is available is retried when `status` lists 503, and a
 * retry of a weighted service may land on another of its children. Real proxy process, real
 * node:http backends, curl.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { curl } from '../helpers/curl.ts';
import { freePort } from '../helpers/free-port.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';
import { Counter } from '../helpers/wait.ts';

interface Backend {
  readonly name: string;
  readonly url: string;
  /** Health probes seen. */
  readonly probes: Counter;
  /** Requests (not probes) seen. */
  readonly hits: Counter;
  healthy: boolean;
  readonly server: Server;
}

async function backend(name: string, healthy: boolean): Promise<Backend> {
  const b = { name, probes: new Counter(), hits: new Counter(), healthy } as Backend & { url: string };
  const server = createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(b.healthy ? 200 : 500).end();
      b.probes.inc();
      return;
    }
    b.hits.inc();
    res.writeHead(200, { 'x-server': name, 'content-type': 'text/plain' }).end(name);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  b.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  (b as { server: Server }).server = server;
  return b;
}

describe('retry through the whole service tree, as Traefik', () => {
  let proxy: ProxyProcess;
  let base = '';
  const b: Record<string, Backend> = {};
  let hints: Server;
  let unavailable: Server;
  const mirrored = new Counter();
  const mirroredBodies: string[] = [];
  let mirror: Server;
  let busy: Server;

  before(async () => {
    b.lbDown = await backend('lbDown', false);
    b.treeDown = await backend('treeDown', false);
    b.canary = await backend('canary', true);
    b.noStatus = await backend('noStatus', false);
    const refused = `http://127.0.0.1:${await freePort()}`;
    // A backend that sends 103 Early Hints before its answer.
    hints = createServer((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('hinted');
    });
    hints.listen(0, '127.0.0.1');
    await new Promise((r) => hints.once('listening', r));
    const hintsUrl = `http://127.0.0.1:${(hints.address() as AddressInfo).port}`;
    // Busy (503) for every other request it sees: each request's first attempt, then its retry.
    let seen = 0;
    unavailable = createServer((_req, res) => {
      if (seen++ % 2 === 0) res.writeHead(503).end('busy');
      else res.writeHead(200).end('flaky');
    });
    mirror = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => {
        body += d;
      });
      req.on('end', () => {
        mirroredBodies.push(`${req.method} ${req.url} ${body}`);
        mirrored.inc();
        res.writeHead(200).end();
      });
    });
    busy = createServer((_req, res) => res.writeHead(503).end('busy'));
    for (const x of [unavailable, mirror, busy]) {
      x.listen(0, '127.0.0.1');
      await new Promise((r) => x.once('listening', r));
    }
    const urlOf = (x: Server): string => `http://127.0.0.1:${(x.address() as AddressInfo).port}`;
    const check = '{ path: /health, interval: 100ms, timeout: 1s }';
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  middlewares:
    retry503: { retry: { attempts: 100, initialInterval: 100ms, status: ["503"] } }
    retry2: { retry: { attempts: 2 } }
    retry1: { retry: { attempts: 1 } }
    retrymany: { retry: { attempts: 50000, status: ["503"], budget: { percent: 100 } } }
    retry503twice: { retry: { attempts: 2, status: ["503"] } }
  routers:
    lb: { rule: "Path(\`/lb\`)", service: lb, middlewares: [retry503] }
    tree: { rule: "Path(\`/tree\`)", service: tree, middlewares: [retry503] }
    weighted: { rule: "Path(\`/weighted\`)", service: weighted, middlewares: [retry2] }
    nostatus: { rule: "Path(\`/nostatus\`)", service: nostatus, middlewares: [retry2] }
    many: { rule: "Path(\`/many\`)", service: nostatus, middlewares: [retrymany] }
    hints2: { rule: "Path(\`/hints2\`)", service: hints, middlewares: [retry2] }
    hints1: { rule: "Path(\`/hints1\`)", service: hints, middlewares: [retry1] }
    hintslast: { rule: "Path(\`/hintslast\`)", service: hintslast, middlewares: [retry2] }
    mirrored: { rule: "Path(\`/mirrored\`)", service: mirrored, middlewares: [retry503twice] }
    mirroredall: { rule: "Path(\`/mirroredall\`)", service: mirroredall, middlewares: [retry503twice] }
    sticky: { rule: "Path(\`/sticky\`)", service: sticky, middlewares: [retry503twice] }
    refusedalone: { rule: "Path(\`/refusedalone\`)", service: refusedalone }
    refusedretry: { rule: "Path(\`/refusedretry\`)", service: refusedalone, middlewares: [retry2] }
  services:
    lb:
      loadBalancer:
        servers: [{ url: "${b.lbDown.url}" }]
        healthCheck: ${check}
    treeChild:
      loadBalancer:
        servers: [{ url: "${b.treeDown.url}" }]
        healthCheck: ${check}
    tree:
      weighted:
        services: [{ name: treeChild, weight: 1 }]
        healthCheck: {}
    broken:
      loadBalancer:
        servers: [{ url: "${refused}" }]
    canary:
      loadBalancer:
        servers: [{ url: "${b.canary.url}" }]
    weighted:
      weighted:
        services: [{ name: broken, weight: 1 }, { name: canary, weight: 1 }]
    hints:
      loadBalancer:
        servers: [{ url: "${hintsUrl}" }]
    hintslast:
      loadBalancer:
        servers: [{ url: "${refused}" }, { url: "${hintsUrl}" }]
    refusedalone:
      loadBalancer:
        servers: [{ url: "${refused}" }, { url: "${b.canary.url}", weight: 0 }]
    sticky:
      loadBalancer:
        sticky: { cookie: { name: lb } }
        servers: [{ url: "${urlOf(busy)}" }, { url: "${b.canary.url}" }]
    mirrored:
      mirroring:
        service: mirroredMain
        mirrors: [{ name: mirrorCopy, percent: 50 }]
    mirroredall:
      mirroring:
        service: mirroredMain
        mirrors: [{ name: mirrorCopy, percent: 100 }]
    mirroredMain:
      loadBalancer:
        servers: [{ url: "${urlOf(unavailable)}" }]
    mirrorCopy:
      loadBalancer:
        servers: [{ url: "${urlOf(mirror)}" }]
    nostatus:
      loadBalancer:
        servers: [{ url: "${b.noStatus.url}" }]
        healthCheck: ${check}
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    for (const x of Object.values(b)) x.server.close();
    hints?.close();
    unavailable?.close();
    mirror?.close();
    busy?.close();
  });

  /** Waits until the proxy has marked `x` down (its probes fail from the start). */
  async function markedDown(x: Backend): Promise<void> {
    await proxy.waitForLog((l) => l.msg === 'server down' && String(l.server).endsWith(x.url.slice(7)));
  }

  /**
   * A request that finds no available server waits (retrying with backoff) until the server is
   * back: the proxy probes it twice more while the request is pending, then it turns healthy.
   */
  async function retriedUntilHealthy(x: Backend, path: string): Promise<void> {
    await markedDown(x);
    const pending = curl(['--max-time', '30', `${base}${path}`]);
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    await x.probes.more(2);
    assert.equal(settled, false, 'the request is still being retried while no server is available');
    x.healthy = true;
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), x.name);
    assert.equal(x.hits.value, 1, 'the server got the request once');
  }

  it("retries the load balancer's 503 (no available server) when status lists 503", async () => {
    await retriedUntilHealthy(b.lbDown!, '/lb');
  });

  it('retries the 503 of a weighted service with no available child when status lists 503', async () => {
    await retriedUntilHealthy(b.treeDown!, '/tree');
  });

  it('does not retry the 503 of no available server without status (network errors only)', async () => {
    await markedDown(b.noStatus!);
    const r = await curl(['--max-time', '10', `${base}/nostatus`]);
    assert.equal(r.status, 503);
    assert.equal(b.noStatus!.hits.value, 0);
    // Traefik's load balancer answers with http.Error(rw, "no available server", 503).
    assert.equal(r.body.toString(), 'no available server\n');
    assert.equal(r.headers['content-type']?.[0], 'text/plain; charset=utf-8');
    assert.equal(r.headers['x-content-type-options']?.[0], 'nosniff');
  });

  it('spends many immediate attempts on no available server without exhausting the stack', async () => {
    // No initialInterval: Traefik's zero backoff tries again at once, each attempt meeting the
    // same 503, until the last one answers it.
    await markedDown(b.noStatus!);
    const r = await curl(['--max-time', '10', `${base}/many`]);
    assert.equal(r.status, 503);
    assert.equal(r.body.toString(), 'no available server\n');
  });

  it('sends a retry of a weighted service through the weighted service again (another child)', async () => {
    // The first child's only server refuses connections: Traefik's retry sends the next attempt
    // through the weighted round robin again, which picks the other child.
    for (let i = 0; i < 4; i++) {
      const r = await curl(['--max-time', '10', `${base}/weighted`]);
      assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.body.toString()}`);
      assert.equal(r.body.toString(), 'canary');
    }
    assert.equal(b.canary!.hits.value, 4);
  });

  /** The statuses the client got on one HTTP/1.1 request, 1xx included. */
  async function statuses(path: string): Promise<number[]> {
    const r = await rawRequest(proxy.port, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, { responses: 1 });
    return r.responses.map((x) => x.status);
  }

  it('drops 103 Early Hints of an attempt that is not the last, as Traefik', async () => {
    // Traefik's retry writer clears a 1xx (but 101) of every attempt but the last
    // (responseWriter.WriteHeader); the last attempt writes to the client directly.
    assert.deepEqual(await statuses('/hints2'), [200]);
    assert.deepEqual(await statuses('/hints1'), [103, 200], 'attempts: 1 is no retry at all');
    assert.deepEqual(await statuses('/hintslast'), [103, 200], 'the second attempt is the last');
  });

  it('mirrors each attempt, as Traefik calls the mirroring service once per attempt', async () => {
    // Each request's first attempt gets a 503, its retry a 200. Each attempt counts against the
    // mirror's percent (Traefik's mirror.go getActiveMirrors): 4 of the 8 attempts are mirrored.
    for (let i = 0; i < 4; i++) {
      const r = await curl(['--max-time', '10', `${base}/mirrored`]);
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'flaky');
    }
    await mirrored.reach(4);
    // At 100 %, both attempts of a PUT send their copy, each with the body.
    mirroredBodies.length = 0;
    const before = mirrored.value;
    const r = await curl([
      '--max-time',
      '10',
      '-X',
      'PUT',
      '--data-binary',
      'payload',
      `${base}/mirroredall`,
    ]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'flaky');
    await mirrored.reach(before + 2);
    assert.deepEqual(mirroredBodies, ['PUT /mirroredall payload', 'PUT /mirroredall payload']);
  });

  it('sets the sticky cookie of the attempt that answers only', async () => {
    // The first attempt picks the busy server (503, retried), the second the other one: Traefik's
    // retry drops the headers of the attempt it retries, its Set-Cookie included.
    const r = await curl(['--max-time', '10', `${base}/sticky`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'canary');
    const cookies = r.headers['set-cookie'] ?? [];
    assert.equal(cookies.length, 1, `one Set-Cookie: ${JSON.stringify(cookies)}`);
    // The cookie names the server that answered: sent back, it reaches that server again.
    const value = cookies[0]!.split(';')[0]!;
    const again = await curl(['--max-time', '10', '-H', `Cookie: ${value}`, `${base}/sticky`]);
    assert.equal(again.body.toString(), 'canary');
  });

  it('answers 502 to a refused connection when no other server can take the request, as Traefik', async () => {
    // The other server has weight 0 (a terminating Kubernetes endpoint is one): Traefik's proxy
    // answers the dial failure with 502; there was a server, so this is no 503.
    const before = b.canary!.hits.value;
    const r = await curl(['--max-time', '10', `${base}/refusedalone`]);
    assert.equal(r.status, 502);
    assert.equal(r.body.toString(), 'Bad Gateway');
    // With a retry: the second attempt goes to the same server (the only one), refused again.
    const retried = await curl(['--max-time', '10', `${base}/refusedretry`]);
    assert.equal(retried.status, 502);
    assert.equal(b.canary!.hits.value, before, 'the weight 0 server never got a request');
  });
});
