/**
 * Routing through the real proxy process with curl: rule matchers, priorities, 404, middlewares
 * as the backend and the client see them, and weighted distribution.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { connectsOf, curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { rawRequest } from '../helpers/raw-client.ts';

interface Echo {
  readonly name: string;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** A backend that answers with its own name and what it received, as JSON. */
function echoBackend(name: string): Promise<Backend> {
  return startBackend((req, res) => {
    const body: Echo = { name, method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('X-Backend', name);
    res.end(JSON.stringify(body));
  });
}

describe('routing through the proxy', () => {
  const be: Record<string, Backend> = {};
  let proxy: ProxyProcess;
  let base: string;

  before(async () => {
    for (const n of [
      'host',
      'api',
      'apiv2',
      'method',
      'header',
      'query',
      'prio',
      'mw',
      'w3',
      'w1',
      'v6',
      'v6re',
    ]) {
      be[n] = await echoBackend(n);
    }
    const svc = (n: string) =>
      `    ${n}:\n      loadBalancer:\n        servers:\n          - url: "${be[n]!.url}"\n`;
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  routers:
    host:     { rule: "Host(\`a.test\`)", service: host }
    api:      { rule: "Host(\`b.test\`) && PathPrefix(\`/api\`)", service: api }
    apiv2:    { rule: "Host(\`b.test\`) && PathPrefix(\`/api/v2\`)", service: apiv2 }
    method:   { rule: "Host(\`c.test\`) && Method(\`DELETE\`)", service: method }
    header:   { rule: "Host(\`c.test\`) && Header(\`X-Env\`, \`canary\`)", service: header }
    query:    { rule: "Host(\`c.test\`) && Query(\`debug\`, \`1\`)", service: query }
    # The long rule would win by length; the explicit priority on the short one beats it.
    prioLong:  { rule: "Host(\`p.test\`) && PathPrefix(\`/long/and/specific\`)", service: api }
    prioShort: { rule: "Host(\`p.test\`)", service: prio, priority: 1000 }
    strip:    { rule: "Host(\`m.test\`) && PathPrefix(\`/strip\`)", service: mw, middlewares: [strip] }
    redirect: { rule: "Host(\`m.test\`) && PathPrefix(\`/secure\`)", service: mw, middlewares: [to-https] }
    headers:  { rule: "Host(\`m.test\`) && PathPrefix(\`/hdr\`)", service: mw, middlewares: [hdr] }
    weighted: { rule: "Host(\`w.test\`)", service: weighted }
    # IPv6 literals as Traefik writes them: without brackets.
    v6:       { rule: "Host(\`::1\`)", service: v6 }
    v6re:     { rule: "HostRegexp(\`^::2$\`)", service: v6re }
  middlewares:
    strip:
      stripPrefix: { prefixes: ["/strip"] }
    to-https:
      redirectScheme: { scheme: https }
    hdr:
      headers:
        customRequestHeaders:
          X-Added: "from-proxy"
          X-Remove-Me: ""
        customResponseHeaders:
          X-Resp-Added: "yes"
          X-Backend: ""
  services:
${['host', 'api', 'apiv2', 'method', 'header', 'query', 'prio', 'mw', 'v6', 'v6re'].map(svc).join('')}    weighted:
      loadBalancer:
        servers:
          - url: "${be['w3']!.url}"
            weight: 3
          - url: "${be['w1']!.url}"
            weight: 1
`,
    });
    base = `http://127.0.0.1:${proxy.port}`;
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all(Object.values(be).map((b) => b.close()));
  });

  async function get(host: string, path: string, extra: string[] = []): Promise<Echo & { status: number }> {
    const r = await curl(['-H', `Host: ${host}`, ...extra, `${base}${path}`]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.status, 200, r.body.toString());
    return { ...(JSON.parse(r.body.toString()) as Echo), status: r.status };
  }

  it('routes by Host', async () => {
    const r = await get('a.test', '/anything');
    assert.equal(r.name, 'host');
    assert.equal(r.url, '/anything');
    assert.equal(r.headers['host'], 'a.test');
  });

  it('routes by Host case-insensitively and ignores a trailing dot', async () => {
    assert.equal((await get('A.TEST', '/')).name, 'host');
    assert.equal((await get('a.test.', '/')).name, 'host');
  });

  it('matches an IPv6 literal Host without its brackets and port, in Host and HostRegexp (Traefik)', async () => {
    assert.equal((await get('[::1]:8080', '/')).name, 'v6');
    assert.equal((await get('[::1]', '/')).name, 'v6');
    assert.equal((await get('[::2]:8080', '/')).name, 'v6re');
  });

  it('routes by PathPrefix, the longer rule winning', async () => {
    assert.equal((await get('b.test', '/api/users')).name, 'api');
    assert.equal((await get('b.test', '/api/v2/users')).name, 'apiv2');
    assert.equal((await get('b.test', '/api/v2')).name, 'apiv2');
  });

  it('routes by Method', async () => {
    const r = await curl(['-X', 'DELETE', '-H', 'Host: c.test', `${base}/thing`]);
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body.toString()) as Echo).name, 'method');
    assert.equal((JSON.parse(r.body.toString()) as Echo).method, 'DELETE');
  });

  it('routes by Header', async () => {
    assert.equal((await get('c.test', '/', ['-H', 'X-Env: canary'])).name, 'header');
  });

  it('routes by Query and forwards the query string unchanged', async () => {
    const r = await get('c.test', '/search?x=%20y&debug=1');
    assert.equal(r.name, 'query');
    assert.equal(r.url, '/search?x=%20y&debug=1');
  });

  it('lets an explicit priority beat a longer rule', async () => {
    assert.equal((await get('p.test', '/long/and/specific/x')).name, 'prio');
  });

  it('answers 404 when no router matches, and keeps the connection', async () => {
    const r = await curl([
      '-H',
      'Host: nowhere.test',
      `${base}/`,
      '-H',
      'Host: nowhere.test',
      `${base}/again`,
    ]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(
      r.transfers.map((t) => t.status),
      [404, 404],
    );
    assert.equal(connectsOf(r), 1);
    // A request that matches a Host but no rule of it is a 404 too; the answer is Traefik's
    // (Go's http.NotFound): its text with a newline, plain text, nosniff.
    const one = await curl(['-H', 'Host: c.test', `${base}/`]);
    assert.equal(one.status, 404);
    assert.equal(one.body.toString(), '404 page not found\n');
    assert.deepEqual(one.headers['x-content-type-options'], ['nosniff']);
    assert.match(String(one.headers['content-type']), /^text\/plain; charset=utf-8$/);
    for (const b of Object.values(be)) {
      assert.ok(!b.seen.some((s) => s.headers['host'] === 'nowhere.test'));
    }
  });

  it('strips a prefix before the backend sees the path', async () => {
    const r = await get('m.test', '/strip/inner/path?q=1');
    assert.equal(r.name, 'mw');
    assert.equal(r.url, '/inner/path?q=1');
    assert.equal(r.headers['x-forwarded-prefix'], '/strip');
  });

  it('redirects to https with a Location built from the request', async () => {
    const seenBefore = be['mw']!.seen.length;
    const r = await curl(['-H', 'Host: m.test:8080', `${base}/secure/page?a=b`]);
    assert.equal(r.status, 302);
    assert.deepEqual(r.headers['location'], ['https://m.test/secure/page?a=b']);
    const post = await curl(['-X', 'POST', '-d', 'x', '-H', 'Host: m.test', `${base}/secure/form`]);
    assert.equal(post.status, 307);
    assert.deepEqual(post.headers['location'], ['https://m.test/secure/form']);
    assert.equal(be['mw']!.seen.length, seenBefore, 'a redirect never reaches the backend');
  });

  it('adds and removes request and response headers', async () => {
    const r = await curl(['-H', 'Host: m.test', '-H', 'X-Remove-Me: secret', `${base}/hdr`]);
    assert.equal(r.status, 200);
    const echo = JSON.parse(r.body.toString()) as Echo;
    assert.equal(echo.headers['x-added'], 'from-proxy');
    assert.equal(echo.headers['x-remove-me'], undefined);
    assert.deepEqual(r.headers['x-resp-added'], ['yes']);
    assert.equal(r.headers['x-backend'], undefined, 'an empty customResponseHeaders value removes the field');
  });

  it('distributes 3:1 between servers of weights 3 and 1', async () => {
    const n = 400;
    const args: string[] = [];
    for (let i = 0; i < n; i++) args.push('-H', 'Host: w.test', `${base}/w/${i}`);
    const before3 = be['w3']!.seen.length;
    const before1 = be['w1']!.seen.length;
    const r = await curl(args, { keepBody: true });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.ok(r.transfers.every((t) => t.status === 200));
    const to3 = be['w3']!.seen.length - before3;
    const to1 = be['w1']!.seen.length - before1;
    assert.equal(to3 + to1, n);
    // Within 10% of the 75% share.
    assert.ok(Math.abs(to3 / n - 0.75) <= 0.075, `weight-3 server got ${to3} of ${n}`);
    assert.equal(connectsOf(r), 1, 'curl reused one client connection for every request');
  });
});

describe('entry point redirections through the proxy', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let web: number;
  let temp: number;
  let secure: number;

  before(async () => {
    backend = await echoBackend('fallback');
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1"] }
    http:
      redirections:
        entryPoint: { to: websecure, scheme: https }
  plain:
    address: "127.0.0.1:0"
  temp:
    address: "127.0.0.1:0"
    http:
      redirections:
        entryPoint: { to: websecure, scheme: https, permanent: false }
  websecure:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
api: {}
log: { level: DEBUG }
http:
  routers:
    fallback: { rule: "PathPrefix(\`/\`)", service: fallback }
    only-redirect:
      rule: "Host(\`redirect.test\`)"
      entryPoints: [plain]
      middlewares: [to-https]
      service: noop@internal
    teapot: { rule: "Host(\`teapot.test\`)", entryPoints: [plain], service: noop@internal }
  middlewares:
    to-https: { redirectScheme: { scheme: https, port: "8443" } }
  services:
    fallback:
      loadBalancer:
        servers:
          - url: "${backend.url}"
`,
    });
    web = proxy.ports['web']!;
    temp = proxy.ports['temp']!;
    secure = proxy.ports['websecure']!;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('answers 301 to a GET and 308 to other methods (Traefik redirectScheme), 302 and 307 when not permanent', async () => {
    const expect = async (port: number, method: string, status: number) => {
      const args = method === 'GET' ? [] : ['-X', method, ...(method === 'HEAD' ? ['-I'] : ['-d', 'x'])];
      const r = await curl([...args, '-H', 'Host: a.test:1234', `http://127.0.0.1:${port}/p%20q/r?x=1`]);
      assert.equal(r.status, status, `${method} on ${port}`);
      assert.deepEqual(r.headers['location'], [`https://a.test:${secure}/p%20q/r?x=1`]);
    };
    await expect(web, 'GET', 301);
    await expect(web, 'POST', 308);
    await expect(web, 'HEAD', 308);
    await expect(temp, 'GET', 302);
    await expect(temp, 'PUT', 307);
    assert.equal(backend.seen.length, 0, 'a redirected request never reaches a backend');
  });

  it('names the redirection router as Traefik does: <entry point>-to-<to>@internal', async () => {
    const admin = `http://127.0.0.1:${proxy.ports['traefik']}/api/explain`;
    for (const ep of ['web', 'temp']) {
      const r = await fetch(`${admin}?entryPoint=${ep}&url=${encodeURIComponent('http://a.test/x')}`);
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as { matched: string }).matched, `${ep}-to-websecure@internal`);
    }
  });

  it("sends a request already on the target scheme and port to Traefik's noop@internal: 418", async () => {
    // From a trusted proxy that terminated TLS (X-Forwarded-Proto: https), for the target's port.
    const r = await curl([
      '-H',
      `Host: a.test:${secure}`,
      '-H',
      'X-Forwarded-Proto: https',
      `http://127.0.0.1:${web}/x`,
    ]);
    assert.equal(r.status, 418);
    assert.equal(r.body.toString(), '');
    assert.equal(r.headers['location'], undefined);
    // Another port is still redirected.
    const other = await curl([
      '-H',
      'Host: a.test:1',
      '-H',
      'X-Forwarded-Proto: https',
      `http://127.0.0.1:${web}/x`,
    ]);
    assert.equal(other.status, 301);
    assert.equal(backend.seen.length, 0);
  });

  it('lets any router name noop@internal, as Traefik defines it in every configuration', async () => {
    const plain = proxy.ports['plain']!;
    const r = await curl(['-H', 'Host: redirect.test', `http://127.0.0.1:${plain}/a?b=1`]);
    assert.equal(r.status, 302);
    assert.deepEqual(r.headers['location'], ['https://redirect.test:8443/a?b=1']);
    const t = await curl(['-H', 'Host: teapot.test', `http://127.0.0.1:${plain}/`]);
    assert.equal(t.status, 418);
    assert.equal(t.body.toString(), '');
    assert.deepEqual(t.headers['content-length'], ['0']);
    assert.equal(backend.seen.length, 0);
    assert.doesNotMatch(JSON.stringify(proxy.logs), /noop@internal/, 'no error names the service');
  });

  it('leaves a request without Host to the other routers (Traefik: HostRegexp(`^.+$`))', async () => {
    const r = await rawRequest(web, 'GET /nohost HTTP/1.0\r\n\r\n');
    assert.equal(r.responses[0]?.status, 200, r.data.toString('latin1'));
    assert.equal(backend.seen.at(-1)?.url, '/nohost');
  });
});

describe('ruleSyntax on a router', () => {
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await echoBackend('syntax');
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
log: { level: DEBUG }
http:
  routers:
    v3:     { rule: "Host(\`v3.test\`)", ruleSyntax: v3, service: s }
    v2:     { rule: "Host(\`v2.test\`, \`v2b.test\`)", ruleSyntax: v2, service: s }
    tcpish: { rule: "Host(\`other.test\`)", ruleSyntax: "", service: s }
  services:
    s:
      loadBalancer:
        servers:
          - url: "${backend.url}"
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('reads v3 (and, as Traefik falls back, any other value) as v3, and v2 as Traefik v2 matchers', async () => {
    const base = `http://127.0.0.1:${proxy.port}`;
    assert.equal((await curl(['-H', 'Host: v3.test', `${base}/`])).status, 200);
    assert.equal((await curl(['-H', 'Host: other.test', `${base}/`])).status, 200);
    // v2's Host takes several names (pkg/muxer/http/matcher_v2.go hostV2).
    assert.equal((await curl(['-H', 'Host: v2.test', `${base}/`])).status, 200);
    assert.equal((await curl(['-H', 'Host: v2b.test', `${base}/`])).status, 200);
    const logged = JSON.stringify(proxy.logs);
    assert.doesNotMatch(logged, /http\.routers\.v[23]\.rule:/);
  });
});

describe('router priorities above the user maximum', () => {
  let backend: Backend;
  let proxy: ProxyProcess;

  before(async () => {
    backend = await echoBackend('greedy');
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
    http:
      redirections:
        entryPoint: { to: ":8443", scheme: https }
log: { level: DEBUG }
http:
  routers:
    greedy: { rule: "PathPrefix(\`/\`)", priority: 9007199254740991, service: s }
    high:   { rule: "Path(\`/high\`)", priority: 9007199254739991, service: s }
  services:
    s:
      loadBalancer:
        servers:
          - url: "${backend.url}"
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('disable the router (Traefik maxUserPriority), so it cannot outrank the entry point redirection', async () => {
    const base = `http://127.0.0.1:${proxy.port}`;
    const r = await curl(['-H', 'Host: a.test', `${base}/x`]);
    assert.equal(r.status, 301);
    assert.deepEqual(r.headers['location'], ['https://a.test:8443/x']);
    assert.equal(backend.seen.length, 0);
    assert.match(
      JSON.stringify(proxy.logs),
      /http\.routers\.greedy\.priority: the router priority 9007199254740991 exceeds the max user-defined priority 9007199254739991/,
    );
    assert.doesNotMatch(JSON.stringify(proxy.logs), /http\.routers\.high\.priority/);
  });
});
