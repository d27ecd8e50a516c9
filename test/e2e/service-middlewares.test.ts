/**
 * Service middlewares (Traefik v3.7: Service.Middlewares and the middlewares of a reference to a
 * child, pkg/server/service/service.go wrapMiddlewares) through the real proxy and real
 * backends: they run when the service is chosen, inside the router's chain.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { Counter } from '../helpers/wait.ts';

describe('service middlewares through the proxy', () => {
  let a: Backend;
  let b: Backend;
  let guarded: Backend;
  let shadow: Backend;
  const shadowed = new Counter();
  let copies: Backend;
  const copied = new Counter();
  let guardedCopies: Backend;
  const guardedCopied = new Counter();
  let failing: Backend;
  let pager: Backend;
  let proxy: ProxyProcess;
  let base: string;

  before(async () => {
    const answer =
      (name: string) =>
      (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            backend: name,
            trail: req.headers['x-trail'] ?? null,
            child: req.headers['x-child'] ?? null,
          }),
        );
      };
    a = await startBackend(answer('a'));
    b = await startBackend(answer('b'));
    guarded = await startBackend(answer('guarded'));
    shadow = await startBackend((_req, res) => {
      res.end('shadow');
      shadowed.inc();
    });
    copies = await startBackend((_req, res) => {
      res.end('copy');
      copied.inc();
    });
    guardedCopies = await startBackend((_req, res) => {
      res.end('copy');
      guardedCopied.inc();
    });
    failing = await startBackend((_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    pager = await startBackend((req, res) => {
      res.setHeader('x-page-own', 'yes');
      res.end(`page ${req.url}`);
    });
    // A port nothing listens on: a server that refuses connections.
    const probe = await startBackend();
    const closed = probe.port;
    await probe.close();
    const dynamic = `http:
  middlewares:
    mark-a:
      headers:
        customRequestHeaders: { X-Child: "a" }
        customResponseHeaders: { X-Answered-By: "a" }
    mark-b:
      headers:
        customRequestHeaders: { X-Child: "b" }
        customResponseHeaders: { X-Answered-By: "b" }
    router-trail:
      headers:
        customRequestHeaders: { X-Trail: "router" }
        customResponseHeaders: { X-Order: "router" }
    service-trail:
      headers:
        customRequestHeaders: { X-Trail: "service" }
        customResponseHeaders: { X-Order: "service" }
    auth:
      basicAuth:
        users: ["test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"]
    moved:
      redirectRegex: { regex: ".*", replacement: "http://example.test/moved" }
    retry:
      retry: { attempts: 3 }
    rl:
      rateLimit: { average: 1, period: 1h, burst: 2 }
    outer:
      headers: { customRequestHeaders: { X-Outer: "yes" } }
    main-only:
      headers: { customRequestHeaders: { X-Main-Only: "yes" } }
    strip-mirror:
      stripPrefix: { prefixes: [/mirror-mw] }
    page-mark:
      headers:
        customRequestHeaders: { X-Page-Req: "yes" }
        customResponseHeaders: { X-Page: "yes" }
    page-prefix:
      addPrefix: { prefix: /pages }
    pages:
      errors: { status: ["500"], service: page-svc, query: "/{status}.html" }
    locked-pages:
      errors: { status: ["500"], service: locked-page-svc, query: "/{status}.html" }
  routers:
    split: { rule: "PathPrefix(\`/split\`)", service: split }
    order: { rule: "PathPrefix(\`/order\`)", middlewares: [router-trail], service: ordered }
    auth: { rule: "PathPrefix(\`/auth\`)", service: guarded }
    moved: { rule: "PathPrefix(\`/moved\`)", service: moved }
    broken: { rule: "PathPrefix(\`/broken\`)", service: broken }
    sticky: { rule: "PathPrefix(\`/sticky\`)", service: sticky }
    failover: { rule: "PathPrefix(\`/failover\`)", service: failover }
    retried: { rule: "PathPrefix(\`/retried\`)", middlewares: [retry], service: retried }
    limited-1: { rule: "PathPrefix(\`/limited-1\`)", service: limited }
    limited-2: { rule: "PathPrefix(\`/limited-2\`)", service: limited }
    limited: { rule: "PathPrefix(\`/limited-router\`)", middlewares: [rl], service: b }
    mirrored: { rule: "PathPrefix(\`/mirrored\`)", service: mirrored }
    mirror-mw: { rule: "PathPrefix(\`/mirror-mw\`)", service: mirror-mw }
    paged: { rule: "PathPrefix(\`/paged\`)", middlewares: [router-trail, pages], service: failing }
    locked-paged: { rule: "PathPrefix(\`/locked-paged\`)", middlewares: [locked-pages], service: failing }
  services:
    split:
      weighted:
        services:
          - name: a
          - name: b
            middlewares: [mark-b]
    a:
      middlewares: [mark-a]
      loadBalancer: { servers: [{ url: "${a.url}" }] }
    b: { loadBalancer: { servers: [{ url: "${b.url}" }] } }
    ordered:
      middlewares: [service-trail@file]
      loadBalancer: { servers: [{ url: "${a.url}" }] }
    guarded:
      middlewares: [auth]
      loadBalancer: { servers: [{ url: "${guarded.url}" }] }
    moved:
      middlewares: [moved]
      loadBalancer: { servers: [{ url: "${guarded.url}" }] }
    broken:
      middlewares: [nowhere]
      loadBalancer: { servers: [{ url: "${a.url}" }] }
    sticky:
      weighted:
        sticky: { cookie: { name: pick } }
        services:
          - { name: a }
          - { name: b, middlewares: [mark-b] }
    failover:
      failover:
        service: empty
        middlewares: [mark-a]
        fallback: b
        fallbackMiddlewares: [mark-b]
        # The main service cannot report its health (Traefik refuses the failover without
        # errors.status, getFailoverServiceHandler): it answers 503, which falls back.
        errors: { status: ["503"] }
    empty: { loadBalancer: { servers: [] } }
    mirrored:
      middlewares: [outer]
      mirroring:
        service: b
        middlewares: [main-only]
        mirrors: [{ name: shadow, percent: 100 }]
    shadow: { loadBalancer: { servers: [{ url: "${shadow.url}" }] } }
    mirror-mw:
      mirroring:
        service: b
        mirrors:
          - { name: copies, percent: 100, middlewares: [mark-a, strip-mirror] }
          - { name: guarded-copies, percent: 100 }
    failing: { loadBalancer: { servers: [{ url: "${failing.url}" }] } }
    page-svc:
      middlewares: [page-mark, page-prefix]
      loadBalancer: { servers: [{ url: "${pager.url}" }] }
    locked-page-svc:
      middlewares: [auth]
      loadBalancer: { servers: [{ url: "${pager.url}" }] }
    copies:
      middlewares: [service-trail]
      loadBalancer: { servers: [{ url: "${copies.url}" }] }
    guarded-copies:
      middlewares: [auth]
      loadBalancer: { servers: [{ url: "${guardedCopies.url}" }] }
    limited:
      middlewares: [rl]
      loadBalancer: { servers: [{ url: "${a.url}" }] }
    retried:
      middlewares: [mark-a]
      loadBalancer:
        strategy: wrr
        servers: [{ url: "http://127.0.0.1:${closed}" }, { url: "${a.url}" }]
`;
    proxy = await startProxy({
      files: { 'dyn.yaml': dynamic },
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
api: { insecure: true }
providers:
  file: { filename: dyn.yaml }
log: { level: DEBUG }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([
      a?.close(),
      b?.close(),
      guarded?.close(),
      shadow?.close(),
      copies?.close(),
      guardedCopies?.close(),
      failing?.close(),
      pager?.close(),
    ]);
  });

  it('runs the middlewares of the weighted child that answered, each time that child is picked', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await curl([`${base}/split`]);
      assert.equal(r.status, 200);
      const body = JSON.parse(r.body.toString()) as { backend: string; child: string | null };
      seen.add(body.backend);
      // a's own middlewares (Service.middlewares), b's from the reference (WRRService.Middlewares).
      assert.deepEqual(r.headers['x-answered-by'], [body.backend]);
      assert.equal(body.child, body.backend);
    }
    assert.deepEqual([...seen].sort(), ['a', 'b']);
  });

  it("runs a service's middlewares after the router's on the way in, before them on the way out", async () => {
    const r = await curl([`${base}/order`]);
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body.toString()) as { trail: string }).trail, 'service');
    assert.deepEqual(r.headers['x-order'], ['router']);
  });

  it('answers 401 from a service basicAuth without reaching its server', async () => {
    const before = guarded.seen.length;
    const r = await curl([`${base}/auth`]);
    assert.equal(r.status, 401);
    assert.deepEqual(r.headers['www-authenticate'], ['Basic realm="traefik"']);
    assert.equal(guarded.seen.length, before);
    const ok = await curl(['-u', 'test:test', `${base}/auth`]);
    assert.equal(ok.status, 200);
    assert.equal((JSON.parse(ok.body.toString()) as { backend: string }).backend, 'guarded');
    assert.equal(guarded.seen.length, before + 1);
  });

  it('redirects from a service middleware without reaching its server', async () => {
    const before = guarded.seen.length;
    const r = await curl([`${base}/moved`]);
    assert.equal(r.status, 302);
    assert.deepEqual(r.headers['location'], ['http://example.test/moved']);
    assert.equal(guarded.seen.length, before);
  });

  it('keeps a sticky weighted choice, and the chosen child`s middlewares with it', async () => {
    const first = await curl([`${base}/sticky`]);
    assert.equal(first.status, 200);
    const chosen = (JSON.parse(first.body.toString()) as { backend: string }).backend;
    const cookie = first.headers['set-cookie']?.[0]?.split(';')[0];
    assert.ok(cookie?.startsWith('pick='), String(first.headers['set-cookie']));
    for (let i = 0; i < 3; i++) {
      const r = await curl(['-H', `Cookie: ${cookie}`, `${base}/sticky`]);
      assert.equal((JSON.parse(r.body.toString()) as { backend: string }).backend, chosen);
      assert.deepEqual(r.headers['x-answered-by'], [chosen]);
    }
  });

  it('runs the fallback`s middlewares when a failover falls back, not the main service`s', async () => {
    const r = await curl([`${base}/failover`]);
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body.toString()) as { backend: string }).backend, 'b');
    assert.deepEqual(r.headers['x-answered-by'], ['b']);
  });

  it('retries on the load balancer below the service middlewares, which answer once', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await curl([`${base}/retried`]);
      assert.equal(r.status, 200);
      assert.equal((JSON.parse(r.body.toString()) as { backend: string }).backend, 'a');
      assert.deepEqual(r.headers['x-answered-by'], ['a']);
    }
  });

  it('gives a rateLimit on a service one bucket for every router reaching it, apart from a router of the same name using it', async () => {
    const status = async (path: string) => (await curl([`${base}${path}`])).status;
    assert.deepEqual(
      [await status('/limited-1'), await status('/limited-2'), await status('/limited-1')],
      [200, 200, 429],
    );
    // The router `limited` (the service's name too) has its own bucket.
    assert.deepEqual(
      [await status('/limited-router'), await status('/limited-router'), await status('/limited-router')],
      [200, 200, 429],
    );
  });

  it('gives a mirror the request as the mirroring service got it: its own middlewares, not its main service`s', async () => {
    const before = b.seen.length;
    const r = await curl([`${base}/mirrored`]);
    assert.equal(r.status, 200);
    await shadowed.reach(1, 'the mirror copy');
    const main = b.seen[before]!.headers;
    assert.equal(main['x-outer'], 'yes');
    assert.equal(main['x-main-only'], 'yes');
    const copy = shadow.seen[0]!.headers;
    assert.equal(copy['x-outer'], 'yes');
    assert.equal(copy['x-main-only'], undefined);
  });

  it("runs a mirror entry's middlewares, then its service's, on each copy; a copy they answer is not sent", async () => {
    const before = b.seen.length;
    // No credentials: the guarded mirror's basicAuth answers its copy (401, to no one).
    const r = await curl([`${base}/mirror-mw/x?q=1`]);
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body.toString()).backend, 'b');
    await copied.reach(1, 'the first copy');
    // The primary got the request untouched by the mirrors' middlewares.
    const main = b.seen[before]!;
    assert.equal(main.url, '/mirror-mw/x?q=1');
    assert.equal(main.headers['x-child'], undefined);
    assert.equal(main.headers['x-trail'], undefined);
    const copy = copies.seen[0]!;
    assert.equal(copy.url, '/x?q=1');
    assert.equal(copy.headers['x-child'], 'a');
    assert.equal(copy.headers['x-trail'], 'service');
    // With credentials, the guarded mirror's copy goes through: the only one it ever got.
    const authed = await curl(['-u', 'test:test', `${base}/mirror-mw/y`]);
    assert.equal(authed.status, 200);
    await guardedCopied.reach(1, "the guarded mirror's copy");
    await copied.reach(2, 'the second copy');
    assert.deepEqual(
      guardedCopies.seen.map((s) => [s.url, s.headers.authorization !== undefined]),
      [['/mirror-mw/y', true]],
    );
  });

  it("runs an error page service's middlewares on the page request and its answer, under the caught status", async () => {
    const r = await curl([`${base}/paged/x`]);
    assert.equal(r.status, 500);
    assert.equal(r.body.toString(), 'page /pages/500.html');
    assert.deepEqual(r.headers['x-page'], ['yes']);
    assert.deepEqual(r.headers['x-page-own'], ['yes']);
    // The router's middleware before `errors` sees the page's answer too.
    assert.deepEqual(r.headers['x-order'], ['router']);
    const got = pager.seen.find((s) => s.url === '/pages/500.html')!;
    assert.equal(got.headers['x-page-req'], 'yes');
    assert.equal(got.method, 'GET');
  });

  it("gives the client a page service middleware's own answer, under the caught status", async () => {
    const before = pager.seen.length;
    const r = await curl([`${base}/locked-paged/x`]);
    assert.equal(r.status, 500);
    assert.match(String(r.headers['www-authenticate']?.[0]), /^Basic /);
    assert.equal(pager.seen.length, before, 'the page server was not asked');
    const authed = await curl(['-u', 'test:test', `${base}/locked-paged/y`]);
    assert.equal(authed.status, 500);
    assert.equal(authed.body.toString(), 'page /500.html');
  });

  it('shows a service`s middlewares in the API, as written', async () => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/http/services/ordered@file`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as { middlewares?: string[]; status: string };
    assert.equal(body.status, 'enabled');
    assert.deepEqual(body.middlewares, ['service-trail@file']);
  });

  it('disables a service naming an unknown middleware, and the router using it', async () => {
    const r = await curl([`${base}/broken`]);
    assert.equal(r.status, 404);
    const line = await proxy.waitForLog(
      (l) =>
        typeof l.msg === 'string' &&
        JSON.stringify(l).includes('nowhere') &&
        JSON.stringify(l).includes('broken'),
    );
    assert.ok(line);
  });
});
