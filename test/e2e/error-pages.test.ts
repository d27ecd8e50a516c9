import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

/*
 * The errors middleware through the real proxy (issue 12): caught statuses get the page of the
 * error service with the original (or rewritten) status, over HTTP/1.1 and HTTP/2; answers of
 * the proxy itself (no server) are caught too; other statuses pass.
 */
describe('errors middleware', () => {
  let app: Backend;
  let pages: Backend;
  let proxy: ProxyProcess;
  let base: string;

  before(async () => {
    app = await startBackend((req, res) => {
      const m = /\/status\/(\d{3})/.exec(req.url ?? '');
      const status = m === null ? 200 : Number(m[1]);
      res.writeHead(status, { 'content-type': 'text/plain', 'x-app': 'yes' });
      res.end(`app answered ${status}`);
    });
    pages = await startBackend((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<p>page ${req.url} host=${req.headers.host} auth=${req.headers.authorization ?? ''}</p>`);
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  behind:
    address: "127.0.0.1:0"
    forwardedHeaders: { insecure: true }
log: { level: INFO }
http:
  routers:
    app: { rule: "PathPrefix(\`/\`)", service: app, middlewares: [pages] }
    down: { rule: "PathPrefix(\`/down\`)", service: nowhere, middlewares: [pages] }
    spaced: { rule: "PathPrefix(\`/spaced\`)", service: app, middlewares: [spaced] }
    wide: { rule: "PathPrefix(\`/wide\`)", service: app, middlewares: [wide] }
  middlewares:
    pages:
      errors:
        status: ["500-599", "404", "418"]
        statusRewrites: { "418": 404, "502-504": 500 }
        service: pages
        query: "/{status}.html?orig={originalStatus}&url={url}"
    spaced:
      errors:
        status: ["500-599"]
        service: pages
        query: "/my \\"pages\\"/{status}-é.html?k=v"
    wide:
      errors:
        status: ["450-999", "599-500", "+404"]
        statusRewrites: { "450-999": 503 }
        service: pages
        query: "/{status}.html"
  services:
    app: { loadBalancer: { servers: [{ url: "${app.url}" }] } }
    pages: { loadBalancer: { servers: [{ url: "${pages.url}" }] } }
    nowhere: { loadBalancer: { servers: [{ url: "http://127.0.0.1:1" }] } }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all([app?.close(), pages?.close()]);
  });

  for (const proto of ['--http1.1', '--http2-prior-knowledge']) {
    it(`serves the page with the original status (${proto === '--http1.1' ? 'HTTP/1.1' : 'h2c'})`, async () => {
      const r = await curl([proto, '-H', 'Authorization: Basic eDp5', `${base}/status/404?q=1`]);
      assert.equal(r.status, 404);
      assert.equal(
        r.body.toString(),
        `<p>page /404.html?orig=404&url=http%3A%2F%2F127.0.0.1%3A${proxy.port}%2Fstatus%2F404%3Fq%3D1 host=127.0.0.1:${proxy.port} auth=Basic eDp5</p>`,
      );
      assert.deepEqual(r.headers['content-type'], ['text/html']);
      assert.equal(r.headers['x-app'], undefined, 'nothing of the caught answer is kept');
    });
  }

  // Traefik reads the ranges with types.NewHTTPCodeRanges (strconv.Atoi of each side, nothing
  // more): 450-999 loads and catches 502, a reversed range loads and catches nothing.
  it('loads the ranges Traefik loads: past 599, reversed, a signed code', async () => {
    const caught = await curl([`${base}/wide/status/502`]);
    assert.equal(caught.status, 503);
    assert.equal(caught.body.toString(), `<p>page /503.html host=127.0.0.1:${proxy.port} auth=</p>`);
    const signed = await curl([`${base}/wide/status/404`]);
    assert.equal(signed.status, 404);
    assert.equal(signed.body.toString(), `<p>page /404.html host=127.0.0.1:${proxy.port} auth=</p>`);
    const passed = await curl([`${base}/wide/status/410`]);
    assert.equal(passed.status, 410);
    assert.equal(passed.body.toString(), 'app answered 410');
  });

  // Traefik v3.7.13 (customerrors, #11876 and #13320): {url} is the full URL, its scheme the
  // X-Forwarded-Proto the entry point leaves (a trusted client's, behind a TLS-terminating proxy).
  it('fills {url} with the scheme of X-Forwarded-Proto and the Host the client asked for', async () => {
    const port = proxy.ports['behind']!;
    const r = await curl([
      '-H',
      'X-Forwarded-Proto: https',
      '-H',
      'Host: shop.test',
      `http://127.0.0.1:${port}/status/500`,
    ]);
    assert.equal(r.status, 500);
    assert.match(
      r.body.toString(),
      /^<p>page \/500\.html\?orig=500&url=https%3A%2F%2Fshop\.test%2Fstatus%2F500 host=shop\.test/,
    );
  });

  it('rewrites statuses, and lets the others through untouched', async () => {
    const r = await curl([`${base}/status/503`]);
    assert.equal(r.status, 500);
    assert.match(r.body.toString(), /^<p>page \/500\.html\?orig=503&/);
    const teapot = await curl([`${base}/status/418`]);
    assert.equal(teapot.status, 404);
    assert.match(teapot.body.toString(), /\/404\.html\?orig=418/);
    const ok = await curl([`${base}/status/403`]);
    assert.equal(ok.status, 403);
    assert.equal(ok.body.toString(), 'app answered 403');
  });

  it("catches the proxy's own answers: a refused server's 502 becomes the 500 page", async () => {
    const r = await curl([`${base}/down/x`]);
    assert.equal(r.status, 500);
    assert.match(r.body.toString(), /^<p>page \/500\.html\?orig=502&/);
  });

  // customerrors' newRequest: url.Parse of the page URL, then RequestURI(): Go's EscapedPath.
  it('asks for the page at the query escaped as Go writes a URL path', async () => {
    const r = await curl([`${base}/spaced/status/503`]);
    assert.equal(r.status, 503);
    assert.match(r.body.toString(), /^<p>page \/my%20%22pages%22\/503-%C3%A9\.html\?k=v host=/);
  });

  // RFC 9110 §10.1.1 (edge rules over Traefik, which copies the field): the page request has no
  // content, so it carries no 100-continue expectation (a Node server would answer it with a
  // second 100 Continue, relayed to the client).
  it('asks for the page without the expectation of a request that had a body', async () => {
    const r = await curl(['-H', 'Expect: 100-continue', '--data-binary', 'hello', `${base}/status/500`]);
    assert.equal(r.status, 500);
    const page = pages.seen.at(-1)!;
    assert.equal(page.method, 'GET');
    assert.equal(page.headers.expect, undefined);
    assert.equal(page.headers['content-length'], undefined);
  });

  it('keeps the connection for the next request', async () => {
    const r = await curl([`${base}/status/500`, `${base}/status/200`]);
    assert.deepEqual(
      r.transfers.map((t) => t.status),
      [500, 200],
    );
    assert.equal(Number(r.transfers[1]!.info.num_connects), 0, 'the second request reused the connection');
  });
});

/*
 * errorRequestHeaders (Traefik v3.6.15 and v3.7, the fix of CVE-2026-41181): the page request
 * carries only the named fields of the client's request (any case), none for `[]`, all when the
 * key is absent; the client's Host stays, as Go keeps it outside the fields Traefik copies.
 */
describe('errors middleware: errorRequestHeaders', () => {
  let app: Backend;
  let pages: Backend;
  let proxy: ProxyProcess;
  let base: string;

  before(async () => {
    app = await startBackend((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('down');
    });
    pages = await startBackend((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.headers));
    });
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: INFO }
http:
  routers:
    all: { rule: "PathPrefix(\`/all\`)", service: app, middlewares: [all] }
    some: { rule: "PathPrefix(\`/some\`)", service: app, middlewares: [some] }
    none: { rule: "PathPrefix(\`/none\`)", service: app, middlewares: [none] }
  middlewares:
    all: { errors: { status: ["503"], service: pages } }
    some: { errors: { status: ["503"], service: pages, errorRequestHeaders: ["accept-language", "X-Trace"] } }
    none: { errors: { status: ["503"], service: pages, errorRequestHeaders: [] } }
  services:
    app: { loadBalancer: { servers: [{ url: "${app.url}" }] } }
    pages: { loadBalancer: { servers: [{ url: "${pages.url}" }] } }
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all([app?.close(), pages?.close()]);
  });

  async function pageSaw(path: string): Promise<Record<string, string>> {
    const r = await curl([
      '-H',
      'Authorization: Bearer secret',
      '-H',
      'Cookie: session=1',
      '-H',
      'Accept-Language: fr',
      '-H',
      'x-trace: t1',
      `${base}${path}`,
    ]);
    assert.equal(r.status, 503);
    return JSON.parse(r.body.toString()) as Record<string, string>;
  }

  it('forwards every field when the key is absent', async () => {
    const seen = await pageSaw('/all');
    assert.equal(seen.authorization, 'Bearer secret');
    assert.equal(seen.cookie, 'session=1');
    assert.equal(seen['x-trace'], 't1');
    // No peer appended to X-Forwarded-For: Traefik's customerrors sends a request it made
    // (newRequest: no RemoteAddr), in which its proxy finds no address to add; the client's
    // (untrusted) field was dropped at the entry point.
    assert.equal(seen['x-forwarded-for'], undefined);
  });

  it('forwards only the listed fields (names in any case), and the Host', async () => {
    const seen = await pageSaw('/some');
    assert.equal(seen.authorization, undefined);
    assert.equal(seen.cookie, undefined);
    assert.equal(seen['user-agent'], undefined);
    assert.equal(seen['accept-language'], 'fr');
    assert.equal(seen['x-trace'], 't1');
    assert.equal(seen.host, `127.0.0.1:${proxy.port}`);
  });

  it('forwards no field of the request for an empty list', async () => {
    const seen = await pageSaw('/none');
    assert.equal(seen.authorization, undefined);
    assert.equal(seen['accept-language'], undefined);
    assert.equal(seen['x-forwarded-for'], undefined);
    assert.equal(seen.host, `127.0.0.1:${proxy.port}`);
  });
});
