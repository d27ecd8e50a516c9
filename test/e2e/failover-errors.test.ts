import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server as NetServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { curl } from '../helpers/curl.ts';
import { freePort } from '../helpers/free-port.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/*
 * The failover service's `errors` (Traefik v3.7, PR #12596: pkg/server/service/loadbalancer/
 * failover/failover.go and response_writer.go), through the real proxy with real backends:
 * a main answer whose status is listed is dropped and the request (any method, its body read
 * whole first) goes to the fallback; a body over `maxRequestBodyBytes` is 413 before any server
 * is asked; our own failures of the main service (502 for a refused connection) count.
 */

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly body: string;
  readonly headers?: IncomingMessage['headers'];
}

/** A backend that records what it got and answers with `status` and its name. */
class Backend {
  readonly seen: Seen[] = [];
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(name: string, status: number | ((req: IncomingMessage) => number)): Promise<Backend> {
    let self: Backend | undefined;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const seen = { method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString() };
        // Kept out of the deep-equal comparisons: read through `headersOf`.
        Object.defineProperty(seen, 'headers', { value: req.headers, enumerable: false });
        self!.seen.push(seen);
        res.statusCode = typeof status === 'number' ? status : status(req);
        res.setHeader('x-from', name);
        res.end(`${name} ${res.statusCode}`);
      });
    });
    self = new Backend(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  urls(): string[] {
    return this.seen.map((s) => s.url);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** A raw backend that answers every request with a 103 Early Hints, then `status`. */
async function earlyHints(status: number): Promise<{ server: NetServer; url: string }> {
  const server = createNetServer((sock) => {
    sock.once('data', () => {
      sock.end(
        'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n' +
          `HTTP/1.1 ${status} X\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhints`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('failover errors (Traefik v3.7)', () => {
  let main503: Backend;
  let main404: Backend;
  let fallback: Backend;
  let failing: Backend;
  let checked503: Backend;
  let proxy: ProxyProcess;
  let base = '';
  let closed = 0;
  let hints503: { server: NetServer; url: string };
  let hints200: { server: NetServer; url: string };

  before(async () => {
    hints503 = await earlyHints(503);
    hints200 = await earlyHints(200);
    [main503, main404, fallback, failing, checked503] = await Promise.all([
      Backend.start('main', 503),
      Backend.start('main404', 404),
      Backend.start('fallback', 200),
      Backend.start('failing', 500),
      // Healthy to its health check, 503 to requests: a main that reports its health.
      Backend.start('main', (req) => (req.url === '/health' ? 200 : 503)),
    ]);
    closed = await freePort();
    const svc = (name: string, url: string): string =>
      `    ${name}: { loadBalancer: { servers: [{ url: "${url}" }] } }\n`;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    r1: { rule: "PathPrefix(\`/fo\`)", service: fo }
    r2: { rule: "PathPrefix(\`/small\`)", service: small }
    r3: { rule: "PathPrefix(\`/notlisted\`)", service: notlisted }
    r4: { rule: "PathPrefix(\`/refused\`)", service: refused }
    r5: { rule: "PathPrefix(\`/bothfail\`)", service: bothfail }
    r6: { rule: "PathPrefix(\`/nostatus\`)", service: nostatus }
    r7: { rule: "PathPrefix(\`/fbrefused\`)", service: fbrefused }
    r8: { rule: "PathPrefix(\`/hints-plain\`)", service: hints200 }
    r9: { rule: "PathPrefix(\`/hints-fo\`)", service: hintsfo }
    r10: { rule: "PathPrefix(\`/hints-ok\`)", service: hintsok }
    r11: { rule: "PathPrefix(\`/retried\`)", service: bothfail, middlewares: [retry500] }
    r12: { rule: "PathPrefix(\`/emptymain\`)", service: emptymain }
  middlewares:
    retry500: { retry: { attempts: 2, initialInterval: 1ms, status: ["500"] } }
  services:
${svc('main', main503.url)}${svc('main404', main404.url)}${svc('fallback', fallback.url)}${svc('failing', failing.url)}${svc('down', `http://127.0.0.1:${closed}`)}${svc('hints503', hints503.url)}${svc('hints200', hints200.url)}
    hintsfo: { failover: { service: hints503, fallback: fallback, errors: { status: ["503"] } } }
    hintsok: { failover: { service: hints200, fallback: fallback, errors: { status: ["503"] } } }
    fo: { failover: { service: main, fallback: fallback, errors: { status: ["500-504"] } } }
    small: { failover: { service: main, fallback: fallback, errors: { status: ["503"], maxRequestBodyBytes: 10 } } }
    notlisted: { failover: { service: main404, fallback: fallback, errors: { status: ["500-599"] } } }
    refused: { failover: { service: down, fallback: fallback, errors: { status: ["502"] } } }
    bothfail: { failover: { service: main, fallback: failing, errors: { status: ["500-599"] } } }
    checked:
      loadBalancer:
        servers: [{ url: "${checked503.url}" }]
        healthCheck: { path: /health, interval: 10s, timeout: 5s }
    empty: { loadBalancer: { servers: [] } }
    nostatus: { failover: { service: checked, fallback: fallback, errors: { maxRequestBodyBytes: 5 } } }
    emptymain: { failover: { service: empty, fallback: fallback, errors: { status: ["500"] } } }
    fbrefused: { failover: { service: main, fallback: down, errors: { status: ["503"] } } }
`,
    });
    const rejected = proxy.logs.filter((l) => l.msg === 'configuration rejected' || l.level === 'error');
    assert.deepEqual(rejected, [], 'the configuration loads');
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([main503, main404, fallback, failing, checked503].map((b) => b?.close()));
    for (const h of [hints503, hints200]) h?.server.close();
  });

  it('replays a POST and its body to the fallback when the main service answers a listed status', async () => {
    const r = await curl(['--data-binary', 'hello body', `${base}/fo/post`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'fallback 200');
    assert.deepEqual(r.headers['x-from'], ['fallback'], "none of the main answer's fields");
    const m = main503.seen.find((s) => s.url === '/fo/post');
    const f = fallback.seen.find((s) => s.url === '/fo/post');
    assert.deepEqual(m, { method: 'POST', url: '/fo/post', body: 'hello body' });
    assert.deepEqual(f, { method: 'POST', url: '/fo/post', body: 'hello body' });
  });

  it('replays a chunked upload whole', async () => {
    const body = 'x'.repeat(200_000);
    const r = await curl(['-H', 'Transfer-Encoding: chunked', '--data-binary', '@-', `${base}/fo/chunked`], {
      stdin: Buffer.from(body),
    });
    assert.equal(r.status, 200);
    assert.equal(fallback.seen.find((s) => s.url === '/fo/chunked')?.body, body);
    assert.equal(main503.seen.find((s) => s.url === '/fo/chunked')?.body, body);
  });

  it("passes the main service's answer through when its status is not listed", async () => {
    const r = await curl(['-X', 'DELETE', `${base}/notlisted/x`]);
    assert.equal(r.status, 404);
    assert.equal(r.body.toString(), 'main404 404');
    assert.ok(!fallback.urls().includes('/notlisted/x'));
  });

  it('answers 413 for a body over maxRequestBodyBytes, before any server is asked', async () => {
    const over = await curl(['--data-binary', '12345678901', `${base}/small/over`]);
    assert.equal(over.status, 413);
    // Traefik's http.Error(w, "Request body too large", 413).
    assert.equal(over.body.toString(), 'Request body too large\n');
    assert.deepEqual(over.headers['content-type'], ['text/plain; charset=utf-8']);
    const chunked = await curl(
      ['-H', 'Transfer-Encoding: chunked', '--data-binary', '@-', `${base}/small/over-chunked`],
      { stdin: Buffer.from('12345678901') },
    );
    assert.equal(chunked.status, 413);
    assert.equal(chunked.body.toString(), 'Request body too large\n');
    const at = await curl(['--data-binary', '1234567890', `${base}/small/at`]);
    assert.equal(at.status, 200, 'a body of exactly maxRequestBodyBytes goes');
    assert.equal(fallback.seen.find((s) => s.url === '/small/at')?.body, '1234567890');
    for (const b of [main503, fallback]) {
      assert.ok(!b.urls().some((u) => u.startsWith('/small/over')), 'no server saw the large bodies');
    }
  });

  it("sends the request to the fallback when the main service's connection is refused (502)", async () => {
    const r = await curl(['--data-binary', 'abc', `${base}/refused/x`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'fallback 200');
    assert.deepEqual(
      fallback.seen.find((s) => s.url === '/refused/x'),
      {
        method: 'POST',
        url: '/refused/x',
        body: 'abc',
      },
    );
  });

  it("gives the client the fallback's answer when the fallback fails too", async () => {
    const r = await curl([`${base}/bothfail/x`]);
    assert.equal(r.status, 500);
    assert.equal(r.body.toString(), 'failing 500');
    assert.ok(main503.urls().includes('/bothfail/x'));
  });

  it('answers 502 when the fallback cannot be reached either', async () => {
    const r = await curl(['--data-binary', 'abc', `${base}/fbrefused/x`]);
    assert.equal(r.status, 502);
    assert.ok(main503.urls().includes('/fbrefused/x'));
  });

  it("drops the main service's 1xx answers (103 Early Hints), as Traefik's failover writer does", async () => {
    // The control: without a failover, the 103 reaches the client.
    const plain = await curl(['-v', `${base}/hints-plain/x`]);
    assert.equal(plain.status, 200);
    assert.match(plain.stderr, /< HTTP\/1\.1 103/);
    const fo = await curl(['-v', `${base}/hints-fo/x`]);
    assert.equal(fo.status, 200);
    assert.equal(fo.body.toString(), 'fallback 200');
    assert.doesNotMatch(fo.stderr, /< HTTP\/1\.1 103/);
    const ok = await curl(['-v', `${base}/hints-ok/x`]);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), 'hints');
    assert.doesNotMatch(ok.stderr, /< HTTP\/1\.1 103/);
  });

  it("is inside the router's retry, which sees the fallback's answer and goes through the failover again", async () => {
    const r = await curl([`${base}/retried/x`]);
    assert.equal(r.status, 500);
    assert.equal(r.body.toString(), 'failing 500');
    assert.equal(
      main503.urls().filter((u) => u === '/retried/x').length,
      2,
      'the main service, once per attempt',
    );
    assert.equal(
      failing.seen.filter((x) => x.url === '/retried/x').length,
      2,
      'the fallback, once per attempt',
    );
  });

  it('serves an HTTP/2 client the same way', async () => {
    const r = await curl(['--http2-prior-knowledge', '--data-binary', 'over h2', `${base}/fo/h2`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'fallback 200');
    assert.equal(fallback.seen.find((x) => x.url === '/fo/h2')?.body, 'over h2');
  });

  it('fails nothing over, and limits no body, without errors.status', async () => {
    const r = await curl(['--data-binary', 'longer than five', `${base}/nostatus/x`]);
    assert.equal(r.status, 503);
    assert.equal(r.body.toString(), 'main 503');
    assert.ok(!fallback.urls().includes('/nostatus/x'));
  });

  it("relays the 503 of a main service that cannot report its health and has no server, as Traefik's failover stays on it", async () => {
    // getFailoverServiceHandler lets the main's refused RegisterStatusUpdater go with
    // errors.status: its status stays up (SetHandler), only its answers (here a 503 not listed)
    // could send the request to the fallback. It used to go to the fallback.
    const r = await curl([`${base}/emptymain/x`]);
    assert.equal(r.status, 503);
    assert.ok(!fallback.urls().includes('/emptymain/x'));
  });
});

describe('failover statusCodes (ours) with a fallback that has no usable server', () => {
  let proxy: ProxyProcess;
  let closed = 0;
  // A large body, so that it is still streaming when the head is judged.
  const big = 'y'.repeat(300_000);
  // Healthy to its health check (a failover's main service must report its health), 503 else.
  const server = createServer((req, res) => {
    if (req.url === '/health') {
      res.end('ok');
      return;
    }
    res.statusCode = 503;
    res.end(big);
  });

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closed = await freePort();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    r: { rule: "PathPrefix(\`/\`)", service: fo }
  services:
    big:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:${(server.address() as AddressInfo).port}" }]
        healthCheck: { path: /health, interval: 10s, timeout: 5s }
    gone:
      loadBalancer:
        servers: [{ url: "http://127.0.0.1:${closed}" }]
        healthCheck: { path: /health, interval: 100ms, timeout: 1s }
    fo: { failover: { service: big, fallback: gone, statusCodes: [503] } }
`,
    });
    await proxy.waitForLog((l) => l.msg === 'server down' && String(l.server).endsWith(`:${closed}`), 20_000);
  });

  after(async () => {
    await proxy?.stop();
    server.closeAllConnections();
    server.close();
  });

  it("relays the main service's whole answer, not a dropped one", async () => {
    const r = await curl([`http://127.0.0.1:${proxy.port}/x`]);
    assert.equal(r.status, 503);
    assert.equal(r.bodyBytes, 300_000);
  });
});

describe('failover errors and the main side`s service middlewares (Traefik v3.7)', () => {
  let main: Backend;
  let fallback: Backend;
  let proxy: ProxyProcess;
  let base = '';

  before(async () => {
    [main, fallback] = await Promise.all([Backend.start('main', 503), Backend.start('fallback', 200)]);
    const svc = (name: string, url: string): string =>
      `    ${name}: { loadBalancer: { servers: [{ url: "${url}" }] } }\n`;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  middlewares:
    router-mark: { headers: { customResponseHeaders: { X-Router: "yes" } } }
    main-mark:
      headers:
        customResponseHeaders: { X-Main-Side: "yes" }
        customRequestHeaders: { X-Main-Req: "yes" }
    fb-mark:
      headers:
        customResponseHeaders: { X-Fallback-Side: "yes" }
        customRequestHeaders: { X-Fallback-Req: "yes" }
    deny: { ipAllowList: { sourceRange: ["10.0.0.0/8"] } }
  routers:
    r1: { rule: "PathPrefix(\`/marked\`)", middlewares: [router-mark], service: marked }
    r2: { rule: "PathPrefix(\`/denied\`)", middlewares: [router-mark], service: denied }
    r3: { rule: "PathPrefix(\`/fbmw\`)", middlewares: [router-mark], service: fbmw }
    r4: { rule: "PathPrefix(\`/fbdeny\`)", middlewares: [router-mark], service: fbdeny }
    r5: { rule: "PathPrefix(\`/bothmw\`)", middlewares: [router-mark], service: bothmw }
    r6: { rule: "PathPrefix(\`/deniedsmall\`)", service: deniedsmall }
  services:
${svc('main', main.url)}${svc('fallback', fallback.url)}
    marked: { failover: { service: main, middlewares: [main-mark], fallback: fallback, errors: { status: ["503"] } } }
    denied: { failover: { service: main, middlewares: [deny], fallback: fallback, errors: { status: ["403"] } } }
    fbmw: { failover: { service: main, middlewares: [main-mark], fallback: fallback, fallbackMiddlewares: [fb-mark], errors: { status: ["503"] } } }
    fbdeny: { failover: { service: main, fallback: fallback, fallbackMiddlewares: [deny], errors: { status: ["503"] } } }
    bothmw: { failover: { service: main, middlewares: [deny], fallback: fallback, fallbackMiddlewares: [fb-mark], errors: { status: ["403"] } } }
    deniedsmall: { failover: { service: main, middlewares: [deny], fallback: fallback, errors: { status: ["403"], maxRequestBodyBytes: 8 } } }
`,
    });
    const bad = proxy.logs.filter((l) => l.msg === 'configuration rejected' || l.level === 'error');
    assert.deepEqual(bad, [], 'the configuration loads');
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([main, fallback].map((b) => b?.close()));
  });

  it("does not run the main side's middlewares on the fallback's answer; the router's do", async () => {
    const r = await curl([`${base}/marked/x`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'fallback 200');
    assert.deepEqual(r.headers['x-router'], ['yes']);
    assert.equal(r.headers['x-main-side'], undefined);
    assert.ok(main.urls().includes('/marked/x'));
  });

  it("runs the fallback's own middlewares on its side, and gives it the request as the main side's found it", async () => {
    const r = await curl(['--data-binary', 'replayed', `${base}/fbmw/x`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'fallback 200');
    assert.deepEqual(r.headers['x-router'], ['yes']);
    assert.deepEqual(r.headers['x-fallback-side'], ['yes']);
    assert.equal(r.headers['x-main-side'], undefined);
    const m = main.seen.find((x) => x.url === '/fbmw/x')!;
    const f = fallback.seen.find((x) => x.url === '/fbmw/x')!;
    assert.equal(m.headers?.['x-main-req'], 'yes');
    assert.equal(m.headers?.['x-fallback-req'], undefined);
    assert.equal(f.headers?.['x-main-req'], undefined, "the main side's change is not the fallback's");
    assert.equal(f.headers?.['x-fallback-req'], 'yes');
    assert.equal(f.body, 'replayed');
  });

  it("answers what the fallback's own middleware answers", async () => {
    const r = await curl([`${base}/fbdeny/x`]);
    assert.equal(r.status, 403);
    assert.deepEqual(r.headers['x-router'], ['yes']);
    assert.ok(main.urls().includes('/fbdeny/x'));
    assert.ok(!fallback.urls().includes('/fbdeny/x'));
  });

  it("goes from a main side's middleware answer to the fallback's middlewares", async () => {
    const r = await curl(['--data-binary', 'abc', `${base}/bothmw/x`]);
    assert.equal(r.status, 200);
    assert.deepEqual(r.headers['x-fallback-side'], ['yes']);
    assert.ok(!main.urls().includes('/bothmw/x'));
    assert.equal(fallback.seen.find((x) => x.url === '/bothmw/x')?.body, 'abc');
  });

  it("sends the request to the fallback when a main side's middleware answers a listed status", async () => {
    const r = await curl(['--data-binary', 'from a denied client', `${base}/denied/x`]);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'fallback 200');
    assert.deepEqual(r.headers['x-router'], ['yes']);
    assert.ok(!main.urls().includes('/denied/x'), 'the main service never got it');
    assert.equal(fallback.seen.find((s) => s.url === '/denied/x')?.body, 'from a denied client');
  });

  it("reads the body (maxRequestBodyBytes) before the main side's middlewares run, as Traefik's failover wraps them", async () => {
    // Over the limit: 413, though the main side's middleware would have answered 403 (listed).
    const over = await curl(['--data-binary', 'from a denied client', `${base}/deniedsmall/x`]);
    assert.equal(over.status, 413);
    assert.ok(!fallback.urls().includes('/deniedsmall/x'));
    const under = await curl(['--data-binary', 'abc', `${base}/deniedsmall/y`]);
    assert.equal(under.status, 200);
    assert.equal(under.body.toString(), 'fallback 200');
    assert.equal(fallback.seen.find((s) => s.url === '/deniedsmall/y')?.body, 'abc');
    assert.ok(!main.urls().includes('/deniedsmall/y'));
  });
});
