/**
 * A router's rule error in the API's `error` is Traefik's text, through the real proxy: the rule is
 * read again as Traefik reads it (src/admin/traefik-rule-errors.ts): Go's go/parser for a syntax
 * error, vulcand/predicate, pkg/muxer/http mux.go addRule and matcher.go (Go's regexp errors,
 * pkg/ip/checker.go with Go's net/netip texts, empty arguments, a value before a wrong count), and
 * for TCP routers pkg/server/router/tcp/manager.go and pkg/muxer/tcp. Our located `issues` stay.
 * A Go regexp that JavaScript reads otherwise is served as Go reads it; one Go refuses is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { startEchoServer, type TcpBackend } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

const parsing = (r: string) => `error while parsing rule ${r}: error while parsing rule ${r}`;
const adding = (r: string) => `error while parsing rule ${r}: error while adding rule ${r}: `;

describe("API: rule errors in Traefik's words", () => {
  let proxy: ProxyProcess;
  let backend: Backend;
  let echo: TcpBackend;
  before(async () => {
    backend = await startBackend((_req, res) => res.end('ok'));
    echo = await startEchoServer();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  tcp:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
http:
  routers:
    syntax:
      rule: "Host(\`a\`) &&"
      service: s
    quotes:
      rule: "Host('example.com')"
      service: s
    bare:
      rule: "Host(example.com)"
      service: s
    number:
      rule: "Host(443)"
      service: s
    notree:
      rule: "Host(\`a\`) && 1"
      service: s
    keyword:
      rule: "Host(\`a\`) && if"
      service: s
    v2path:
      rule: "PathPrefix(\`/{id:[0-9}\`)"
      ruleSyntax: v2
      service: s
    v2headers:
      rule: "Headers(\`a\`, \`b\`, \`c\`)"
      ruleSyntax: v2
      service: s
    regexp:
      rule: "PathRegexp(\`^/(?=a)\`)"
      service: s
    nested:
      rule: "PathRegexp(\`^/(x{2}){501}$\`)"
      service: s
    clientip:
      rule: "ClientIP(\`10.0.0.0/33\`)"
      service: s
    empty:
      rule: "Path(\`/e\`) && Header(\`X-A\`, \`\`)"
      service: s
    order:
      rule: "PathPrefix(\`api\`) && Host(\`a\`, \`b\`)"
      service: s
    gonames:
      rule: "PathRegexp(\`^/(?P<n>a)(?P<n>b)$\`)"
      service: s
    lines:
      rule: |
        Path(\`/lines\`)
        && Host(\`a\`)
      service: s
    commented:
      rule: "Path(\`/commented\`) /* Go comments are skipped */ && Method(\`GET\`) // as Traefik"
      service: s
    folded:
      rule: >-
        Path(\`/folded\`)
        && Method(\`GET\`)
      service: s
  services:
    s:
      loadBalancer:
        servers: [{ url: "${backend.url}" }]
tcp:
  routers:
    tcpsyntax: { entryPoints: [tcp], rule: "HostSNI(\`*\`) ||", service: echo }
    tcpip: { entryPoints: [tcp], rule: "ClientIP(\`10.0.0.256\`)", service: echo }
  services:
    echo:
      loadBalancer:
        servers: [{ address: "${echo.address}" }]
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await backend?.close();
    await echo?.close();
  });

  const get = async (path: string) => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}${path}`);
    assert.equal(r.status, 200, path);
    return (await r.json()) as Record<string, unknown>;
  };
  const errorOf = async (kind: 'http' | 'tcp', name: string) => {
    const r = await get(`/api/${kind}/routers/${name}@file`);
    assert.equal(r['status'], 'disabled', name);
    assert.ok((r['issues'] as string[]).length > 0, `${name}: our located issues are kept`);
    return r['error'];
  };

  it("words a syntax error as Go's parser (vulcand/predicate over go/parser.ParseExpr)", async () => {
    const rule = 'Host(`a`) &&';
    assert.deepEqual(await errorOf('http', 'syntax'), [
      `${parsing(rule)}: 1:13: expected operand, found 'EOF'`,
    ]);
  });

  it("refuses a rule whose next line starts with && (Go inserts a semicolon after ')'), as Traefik; a folded one serves", async () => {
    const rule = 'Path(`/lines`)\n&& Host(`a`)\n';
    assert.deepEqual(await errorOf('http', 'lines'), [`${parsing(rule)}: 2:1: expected 'EOF', found '&&'`]);
    const refused = await fetch(`http://127.0.0.1:${proxy.ports['web']}/lines`, { headers: { host: 'a' } });
    assert.equal(refused.status, 404);
    await refused.arrayBuffer();
    const folded = await fetch(`http://127.0.0.1:${proxy.ports['web']}/folded`);
    assert.equal(folded.status, 200);
    assert.equal(await folded.text(), 'ok');
  });

  it('words the common mistakes as Traefik: single quotes, a host without quotes', async () => {
    let rule = "Host('example.com')";
    assert.deepEqual(await errorOf('http', 'quotes'), [`${parsing(rule)}: 1:6: illegal rune literal`]);
    rule = 'Host(example.com)';
    assert.deepEqual(await errorOf('http', 'bare'), [`${parsing(rule)}: example.com is not defined`]);
  });

  it("words a value of another Go type as reflect's panic that predicate's callFunction recovers", async () => {
    let rule = 'Host(443)';
    assert.deepEqual(await errorOf('http', 'number'), [
      `${parsing(rule)}: reflect: cannot use int as type string in Call`,
    ]);
    rule = 'Host(`a`) && 1';
    assert.deepEqual(await errorOf('http', 'notree'), [
      `${parsing(rule)}: reflect: Call using int as type rules.TreeBuilder`,
    ]);
    // A Go keyword where an operand belongs: go/parser's text.
    rule = 'Host(`a`) && if';
    assert.deepEqual(await errorOf('http', 'keyword'), [
      `${parsing(rule)}: 1:14: expected operand, found 'if'`,
    ]);
  });

  it("words a ruleSyntax v2 matcher's values as matcher_v2.go and gorilla/mux", async () => {
    let rule = 'PathPrefix(`/{id:[0-9}`)';
    assert.deepEqual(await errorOf('http', 'v2path'), [
      `${adding(rule)}error while adding rule PathPrefix: error parsing regexp: missing closing ]: \`[0-9$\``,
    ]);
    rule = 'Headers(`a`, `b`, `c`)';
    assert.deepEqual(await errorOf('http', 'v2headers'), [
      `${adding(rule)}error while adding rule Headers: mux: number of parameters must be multiple of 2, got [a b c]`,
    ]);
  });

  it("words a bad regexp as Go's regexp/syntax, wrapped by Traefik's matcher", async () => {
    let rule = 'PathRegexp(`^/(?=a)`)';
    const issues = (await get('/api/http/routers/regexp@file'))['issues'] as string[];
    // Our located issue keeps our words and names Go's.
    assert.ok(
      issues.some(
        (i) =>
          i.includes('lookahead and lookbehind are not supported by RE2') &&
          i.includes('(Go: error parsing regexp: invalid or unsupported Perl syntax: `(?=`)'),
      ),
      JSON.stringify(issues),
    );
    assert.deepEqual(await errorOf('http', 'regexp'), [
      `${adding(rule)}error while adding rule PathRegexp: compiling PathPrefix matcher: error parsing regexp: invalid or unsupported Perl syntax: \`(?=\``,
    ]);
    // JavaScript would read this one; Go refuses it, so does the proxy.
    rule = 'PathRegexp(`^/(x{2}){501}$`)';
    assert.deepEqual(await errorOf('http', 'nested'), [
      `${adding(rule)}error while adding rule PathRegexp: compiling PathPrefix matcher: error parsing regexp: invalid repeat count: \`{501}\``,
    ]);
  });

  it("words a bad ClientIP as Traefik's ip checker (Go's net/netip text)", async () => {
    const rule = 'ClientIP(`10.0.0.0/33`)';
    assert.deepEqual(await errorOf('http', 'clientip'), [
      `${adding(rule)}error while adding rule ClientIP: initializing IP checker for ClientIP matcher: parsing CIDR trusted IPs 10.0.0.0/33: netip.ParsePrefix("10.0.0.0/33"): prefix length out of range`,
    ]);
  });

  it('words an empty argument as rules.CheckRule, and a bad value before a wrong count as Traefik', async () => {
    let rule = 'Path(`/e`) && Header(`X-A`, ``)';
    assert.deepEqual(await errorOf('http', 'empty'), [
      `${adding(rule)}error while checking rule Header: empty args for matcher Header, [X-A ]`,
    ]);
    rule = 'PathPrefix(`api`) && Host(`a`, `b`)';
    assert.deepEqual(await errorOf('http', 'order'), [
      `${adding(rule)}error while adding rule and: error while adding rule PathPrefix: path "api" does not start with a '/'`,
    ]);
  });

  it("serves a rule with Go comments, which Go's scanner skips", async () => {
    const r = await get('/api/http/routers/commented@file');
    assert.equal(r['status'], 'enabled');
    const web = await fetch(`http://127.0.0.1:${proxy.ports['web']}/commented`);
    assert.equal(web.status, 200);
    assert.equal(await web.text(), 'ok');
  });

  it('serves a Go regexp JavaScript would refuse (a capture name given twice)', async () => {
    const r = await get('/api/http/routers/gonames@file');
    assert.equal(r['status'], 'enabled');
    const web = await fetch(`http://127.0.0.1:${proxy.ports['web']}/ab`);
    assert.equal(web.status, 200);
    assert.equal(await web.text(), 'ok');
  });

  it("words a TCP rule's errors as the TCP manager (a parse error) and muxer (a bad value)", async () => {
    assert.deepEqual(await errorOf('tcp', 'tcpsyntax'), [
      `invalid rule: "HostSNI(\`*\`) ||" , 1:16: expected operand, found 'EOF'`,
    ]);
    const rule = 'ClientIP(`10.0.0.256`)';
    assert.deepEqual(await errorOf('tcp', 'tcpip'), [
      `error while adding rule ${rule}: initializing IP checker for ClientIP matcher: parsing CIDR trusted IPs 10.0.0.256: netip.ParsePrefix("10.0.0.256"): no '/'`,
    ]);
  });
});
