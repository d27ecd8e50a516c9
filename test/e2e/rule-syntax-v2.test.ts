/**
 * Traefik v2's rule syntax through the real proxy (Traefik v3's pkg/muxer/http/matcher_v2.go and
 * pkg/muxer/tcp/matcher_v2.go): a router's `ruleSyntax: v2`, and the static
 * `core.defaultRuleSyntax: v2` that gives it to every router without its own (pkg/server/
 * aggregator.go applyModel), HTTP and TCP. node:http clients, a TCP echo server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { httpRequest } from '../helpers/http-request.ts';
import { startEchoServer, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { errorIssues } from '../helpers/wait.ts';

const routers = (v2: Backend, v3: Backend, tcp: TcpBackend, own: string) => `
http:
  routers:
    items:
      rule: "Host(\`a.test\`, \`B.test\`) && Path(\`/items/{id:[0-9]+}\`)"
      ${own}
      service: v2
      entryPoints: [web]
    query:
      rule: "Host(\`q.test\`) && Query(\`a=1\`) && Headers(\`X-A\`, \`1\`, \`X-B\`, \`2\`)"
      ${own}
      service: v2
      entryPoints: [web]
    modern:
      rule: "Host(\`c.test\`) && PathRegexp(\`^/v3/[0-9]+$\`)"
      ruleSyntax: v3
      service: v3
      entryPoints: [web]
  services:
    v2:
      loadBalancer:
        servers: [{ url: "${v2.url}" }]
    v3:
      loadBalancer:
        servers: [{ url: "${v3.url}" }]
tcp:
  routers:
    echo:
      rule: "ClientIP(\`192.0.2.1\`, \`127.0.0.1\`)"
      ${own}
      service: echo
      entryPoints: [tcp]
  services:
    echo:
      loadBalancer:
        servers: [{ address: "127.0.0.1:${tcp.port}" }]
`;

const entryPoints = `entryPoints:
  web:
    address: "127.0.0.1:0"
  tcp:
    address: "127.0.0.1:0"
log: { level: DEBUG }
`;

describe('ruleSyntax v2 (Traefik v2 matchers)', () => {
  let v2: Backend;
  let v3: Backend;
  let echo: TcpBackend;
  let byDefault: ProxyProcess;
  let perRouter: ProxyProcess;
  let none: ProxyProcess;
  before(async () => {
    v2 = await startBackend((req, res) => res.end(`v2 ${req.url}`));
    v3 = await startBackend((req, res) => res.end(`v3 ${req.url}`));
    echo = await startEchoServer();
    [byDefault, perRouter, none] = await Promise.all([
      startProxy({ config: `${entryPoints}core:\n  defaultRuleSyntax: v2\n${routers(v2, v3, echo, '')}` }),
      startProxy({ config: `${entryPoints}${routers(v2, v3, echo, 'ruleSyntax: v2')}` }),
      startProxy({ config: `${entryPoints}${routers(v2, v3, echo, '')}` }),
    ]);
  });
  after(async () => {
    await Promise.all([byDefault?.stop(), perRouter?.stop(), none?.stop()]);
    await Promise.all([v2?.close(), v3?.close(), new Promise((r) => echo?.server.close(r))]);
  });

  const get = (p: ProxyProcess, host: string, path: string, headers: Record<string, string> = {}) =>
    httpRequest(p.ports['web']!, { path, headers: { host, ...headers } });

  for (const which of ['core.defaultRuleSyntax: v2', 'ruleSyntax: v2'] as const) {
    const proxy = () => (which === 'ruleSyntax: v2' ? perRouter : byDefault);

    it(`${which}: Host with several names, Path with a {name:regexp} variable`, async () => {
      assert.equal((await get(proxy(), 'a.test', '/items/42')).text, 'v2 /items/42');
      assert.equal((await get(proxy(), 'b.test:8080', '/items/7')).text, 'v2 /items/7');
      assert.equal((await get(proxy(), 'a.test', '/items/x')).status, 404);
      assert.equal((await get(proxy(), 'a.test', '/items/42/more')).status, 404);
      assert.equal((await get(proxy(), 'd.test', '/items/42')).status, 404);
    });

    it(`${which}: Query(k=v) reads the key's first value; Headers takes pairs`, async () => {
      const both = { 'x-a': '1', 'x-b': '2' };
      assert.equal((await get(proxy(), 'q.test', '/?a=1&a=2', both)).status, 200);
      // gorilla/mux Queries: the first `a` decides.
      assert.equal((await get(proxy(), 'q.test', '/?a=2&a=1', both)).status, 404);
      assert.equal((await get(proxy(), 'q.test', '/?a=1', { 'x-a': '1' })).status, 404);
    });

    it(`${which}: a router's own ruleSyntax v3 stays v3`, async () => {
      assert.equal((await get(proxy(), 'c.test', '/v3/1')).text, 'v3 /v3/1');
    });

    it(`${which}: a TCP router's ClientIP with several addresses`, async () => {
      const r = await tcpExchange(proxy().ports['tcp']!, 'ping', { untilData: 'ping' });
      assert.equal(r.data.toString(), 'ping');
    });
  }

  it("a router's own ruleSyntax is deprecated: a warning names each HTTP one (Traefik's mergeConfiguration)", () => {
    const warned = (p: ProxyProcess) =>
      p.logs
        .map((l) => String(l.issue ?? ''))
        .filter((i) => i.includes("Router's `ruleSyntax` option is deprecated"));
    const own = warned(perRouter).join('\n');
    for (const r of ['items', 'query', 'modern'])
      assert.match(own, new RegExp(`http\\.routers\\.${r}\\.ruleSyntax`));
    // Not the TCP router's (Traefik warns for HTTP routers only), nor routers that have none.
    assert.doesNotMatch(own, /tcp\.routers/);
    assert.deepEqual(
      warned(byDefault).map((i) => /http\.routers\.(\w+)\.ruleSyntax/.exec(i)?.[1]),
      ['modern'],
    );
  });

  it('without either, the same rules are v3 rules, refused as Traefik v3 refuses them', async () => {
    // Found when the file is loaded, at their place in it: the check reads them in the syntax the
    // build will (v3 without `core`), HTTP and TCP alike.
    const issues = errorIssues(none, 0).join('\n');
    assert.match(
      issues,
      /traffic\.yaml:\d+:\d+: http\.routers\.items\.rule: invalid rule: Host expects 1 argument, got 2/,
    );
    assert.match(
      issues,
      /traffic\.yaml:\d+:\d+: http\.routers\.query\.rule: invalid rule: unknown matcher "Headers"/,
    );
    assert.match(
      issues,
      /traffic\.yaml:\d+:\d+: tcp\.routers\.echo\.rule: invalid rule: ClientIP expects 1 argument, got 2/,
    );
    assert.equal((await get(none, 'a.test', '/items/42')).status, 404);
    // The v3 router is the same in all three.
    assert.equal((await get(none, 'c.test', '/v3/1')).text, 'v3 /v3/1');
  });
});
