import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from '../request-fixture.ts';
import type { MatcherName, RuleAst } from './ast.ts';
import { compileRule, createCompileContext } from './compile.ts';
import { parseRuleV2 } from './parser-v2.ts';

/** A parsed rule as v3 text (what the v2 rule was rewritten into). */
function text(ast: RuleAst<MatcherName>): string {
  switch (ast.type) {
    case 'matcher':
      return `${ast.name}(${ast.args.map((a) => `\`${a.value}\``).join(', ')})`;
    case 'not':
      return `!${text(ast.operand)}`;
    default:
      return `(${ast.children.map(text).join(ast.type === 'and' ? ' && ' : ' || ')})`;
  }
}

function v3Of(rule: string): string {
  const p = parseRuleV2(rule);
  assert.ok(p.ok, p.ok ? '' : p.error.message);
  return text(p.ast);
}

/** `http://host:port/path?query` as our codec gives it to the router (host lower-cased, no port, no final dot). */
function req(url: string, extra: { method?: string; headers?: [string, string][]; clientIp?: string } = {}) {
  const m = /^https?:\/\/([^/?]*)([^?]*)(?:\?(.*))?$/.exec(url)!;
  let host = m[1]!.toLowerCase();
  const port = /:(\d+)$/.exec(host)?.[1] ?? '';
  if (port !== '') host = host.slice(0, -port.length - 1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return { ...request({ host, path: m[2] || '/', query: m[3] ?? '', ...extra }), hostPort: port };
}

function matches(rule: string, cases: Record<string, boolean>): void {
  const c = compileRule(rule, createCompileContext(), 'v2');
  assert.ok(c.ok, c.ok ? '' : `${rule}: ${c.error.message}`);
  const got: Record<string, boolean> = {};
  for (const url of Object.keys(cases)) got[url] = c.match(req(url));
  assert.deepEqual(got, cases, rule);
}

function refused(rule: string): void {
  const c = compileRule(rule, createCompileContext(), 'v2');
  assert.equal(c.ok, false, `${rule} should be refused`);
}

describe('ruleSyntax v2: what each v2 matcher means in v3 (pkg/muxer/http/matcher_v2.go)', () => {
  const table: [v2: string, v3: string][] = [
    ['Host(`a.com`)', 'Host(`a.com`)'],
    ['Host(`a.com`, `B.org`)', '(Host(`a.com`) || Host(`B.org`))'],
    ['HostHeader(`a.com`)', 'Host(`a.com`)'],
    // v2's Host has no wildcard: the name is compared as written.
    ['Host(`*.a.com`)', 'HostRegexp(`^\\*\\.a\\.com$`)'],
    ['HostRegexp(`{sub:[a-z]+}.a.com`)', 'HostRegexp(`(?i)^(?:[a-z]+)\\.a\\.com$`)'],
    ['HostRegexp(`{sub}.a.com`)', 'HostRegexp(`(?i)^(?:[^.]+)\\.a\\.com$`)'],
    ['HostRegexp(`(example.com`)', 'HostRegexp(`(?i)^\\(example\\.com$`)'],
    // A `:` in the template: gorilla matches the host with its port (wildcardHostPort false).
    ['HostRegexp(`{sub:(?:foo\\.)?bar\\.com}`)', 'HostRegexpV2Port(`(?i)^(?:(?:foo\\.)?bar\\.com)$`)'],
    ['HostRegexp(`{h}:8080`)', 'HostRegexpV2Port(`(?i)^(?:[^.]+):8080$`)'],
    ['Path(`/css`, `/js`)', '(Path(`/css`) || Path(`/js`))'],
    ['Path(`/css{path:(/.*)?}`)', 'PathRegexp(`^/css(?:(/.*)?)$`)'],
    ['PathPrefix(`/css-{name:[0-9]?}`)', 'PathRegexp(`^/css-(?:[0-9]?)`)'],
    ['PathPrefix(`/a/{id}/b`)', 'PathRegexp(`^/a/(?:[^/]+)/b`)'],
    ['Method(`GET`, `post`)', '(Method(`GET`) || Method(`post`))'],
    ['Headers(`X-A`, `1`, `X-B`, `2`)', '(Header(`X-A`, `1`) && Header(`X-B`, `2`))'],
    ['HeadersRegexp(`X-Forwarded-Proto`, `^https?$`)', 'HeaderRegexp(`X-Forwarded-Proto`, `^https?$`)'],
    ['Query(`foo=bar`, `bar=baz`)', '(QueryV2(`foo`, `bar`) && QueryV2(`bar`, `baz`))'],
    ['Query(`foo=b=ar`)', 'QueryV2(`foo`, `b=ar`)'],
    ['Query(`foo=`)', 'QueryV2Regexp(`foo`, `^foo=.*$`)'],
    ['Query(`id={id:[0-9]+}`)', 'QueryV2Regexp(`id`, `^id=(?:[0-9]+)$`)'],
    // queryV2 splits every argument at its first `=` and reads the pieces as pairs.
    ['Query(`foo`, `bar`)', 'QueryV2(`foo`, `bar`)'],
    ['ClientIP(`10.0.0.0/8`, `::1`)', '(ClientIP(`10.0.0.0/8`) || ClientIP(`::1`))'],
    ['!(Host(`a`, `b`) && PATHPREFIX(`/x`))', '!((Host(`a`) || Host(`b`)) && PathPrefix(`/x`))'],
  ];
  for (const [v2, v3] of table) it(`${v2} → ${v3}`, () => assert.equal(v3Of(v2), v3));
});

// The cases of Traefik's pkg/muxer/http/matcher_v2_test.go (traefik/traefik v3), as data.
describe("ruleSyntax v2 matches as Traefik's matcher_v2_test.go", () => {
  it('refuses what Traefik refuses', () => {
    for (const rule of [
      'ClientIP(`1`)',
      'ClientIP()',
      'ClientIP(``)',
      'ClientIP(`invalid`)',
      'Method()',
      'Method(``)',
      'Host()',
      'Host(``)',
      'Host(`🦭.com`)',
      'Host(`locàlhost`)',
      'HostRegexp()',
      'HostRegexp(``)',
      'HostRegexp(`🦭.com`)',
      'HostRegexp(`locàlhost`)',
      'HostRegexp("{test")',
      'Path()',
      'Path(``)',
      'Path(`css`)',
      'PathPrefix()',
      'PathPrefix(``)',
      'PathPrefix(`css`)',
      'Headers()',
      'Headers(`X-Forwarded-Host`)',
      'Headers(`X-Forwarded-Host`, ``)',
      'Headers(``, `example.com`)',
      'Headers(`X-Forwarded-Host`, `example.com`, `example.org`)',
      'HeaderRegexp()',
      'HeadersRegexp(`X-Forwarded-Host`)',
      'HeadersRegexp(`X-Forwarded-Host`, ``)',
      'HeadersRegexp(``, `example.com`)',
      'HeadersRegexp(`X-Forwarded-Host`,`(example.com`)',
      'HeadersRegexp(`X-Forwarded-Host`, `example.com`, `example.org`)',
      'Query("titi")',
      'Query("titi={test")',
      'Host(tchouk)',
      'Host("tchouk") && Path()',
      'Host("tchouk") && Path("")',
      'Host("tchouk") && Path("", "/titi")',
      'rulewithnotmatcher',
      '',
      // v3's names are not v2's.
      'Header(`X-A`, `1`)',
      'PathRegexp(`^/a`)',
    ]) {
      refused(rule);
    }
  });

  it('Host: several names, any case, a final dot on either side', () => {
    matches('Host(`example.com`, `example.org`)', {
      'https://example.com': true,
      'https://example.com:8080': true,
      'https://EXAMPLE.COM/path': true,
      'https://example.org/path': true,
      'https://example.net': false,
    });
    matches('Host(`example.com.`)', {
      'https://example.com': true,
      'https://example.com./path': true,
      'https://example.org.': false,
    });
    matches('Host(`EXAMPLE.COM`)', { 'https://example.com/path': true, 'https://example.org': false });
    matches('HostHeader(`localhost`)', { 'http://localhost/foo': true, 'http://bar/foo': false });
    matches('Host(`xn--9t9h.com`)', { 'https://xn--9t9h.com/path': true, 'https://example.com': false });
    matches('Host(`*.example.com`)', { 'https://a.example.com': false });
  });

  it('HostRegexp: mux templates, case-insensitive; text outside braces is literal', () => {
    matches('HostRegexp(`(example.com`)', { 'https://example.com': false, 'https://example.org': false });
    matches('HostRegexp(`example.com`, `example.org`)', {
      'https://example.com': true,
      'https://example.com:8080': true,
      'https://example.org/path': true,
    });
    matches('HostRegexp(`^[A-Z]+\\.com$`)', { 'https://example.com': false, 'https://EXAMPLE.com': false });
    matches('HostRegexp(`{domain:[a-zA-Z-]+\\.com}`)', {
      'https://example.com/path': true,
      'https://example.org': false,
    });
    for (const rule of [
      'HostRegexp(`{subdomain:(foo\\.)?bar\\.com}`)',
      'HostRegexp(`{subdomain:(?:foo\\.)?bar\\.com}`)',
    ]) {
      matches(rule, {
        'http://foo.bar.com': true,
        'http://bar.com': true,
        'http://fooubar.com': false,
        'http://barucom': false,
        'http://barcom': false,
      });
    }
    matches('HostRegexp(`{dummy:[a-z-]+\\.bar\\.com}`)', {
      'http://FOO.bar.com': true,
      'http://fooubar.com': false,
    });
    matches('HostRegexp(`foo.bar.com`)', { 'http://FOO.bar.com': true, 'http://fooubar.com': false });
    // Without a `:` in the template the port is left out; with one (`(?:`), it is matched too.
    matches('HostRegexp(`{sub:[a-z]+}.bar.com`)', { 'http://foo.bar.com:8080': true });
    matches('HostRegexp(`{subdomain:(?:foo\\.)?bar\\.com}`)', {
      'http://foo.bar.com': true,
      'http://foo.bar.com:8080': false,
    });
    matches('HostRegexp(`{host:[a-z.]+}:8080`)', { 'http://a.com:8080': true, 'http://a.com': false });
  });

  it('Path and PathPrefix: several, literal or with {name:regexp}', () => {
    matches('Path(`/css`, `/js`)', {
      'https://example.com': false,
      'https://example.org/css': true,
      'https://example.com/css/': false,
      'https://example.com/js': true,
      'https://example.com/js/main.js': false,
    });
    matches('Path(`/css{path:(/.*)?}`)', {
      'https://example.com/css/main.css': true,
      'https://example.com/css/components/component.css': true,
      'https://example.com/css.css': false,
      'https://example.com/js/main.js': false,
    });
    matches('PathPrefix(`/css`, `/js`)', {
      'https://example.com/html': false,
      'https://example.com/css/': true,
      'https://example.com/js/main.js': true,
    });
    matches('PathPrefix("/css")', { 'https://example.com/css/main.css': true, 'https://example.com': false });
    matches('PathPrefix(`/css-{name:[0-9]?}`)', {
      'https://example.com/css-1/main.css': true,
      'https://example.org/css-222/main.css': true,
      'https://example.com/css.css': false,
      'https://example.com/js/main.js': false,
    });
  });

  it('Method: several, the request method as sent', () => {
    matches('Method(`GET`, `POST`)', {});
    const c = compileRule('Method(`get`)', createCompileContext(), 'v2');
    assert.ok(c.ok);
    assert.equal(c.match(request({ method: 'GET' })), true);
    assert.equal(c.match(request({ method: 'POST' })), false);
    assert.equal(c.match(request({ method: 'get' })), false);
  });

  it('Headers and HeadersRegexp: name, value pairs; any value of the field', () => {
    const c = compileRule('Headers(`x-forwarded-proto`, `https`)', createCompileContext(), 'v2');
    const r = compileRule(
      'HeadersRegexp(`X-Forwarded-Proto`, `http{secure:s?}`)',
      createCompileContext(),
      'v2',
    );
    assert.ok(c.ok && r.ok);
    const h = (...vs: string[]) =>
      request({ headers: vs.map((v) => ['X-Forwarded-Proto', v] as [string, string]) });
    assert.equal(c.match(h('https')), true);
    assert.equal(c.match(h('http', 'https')), true);
    assert.equal(c.match(h('http')), false);
    // The braces of a HeadersRegexp value are the regexp's own (Go reads `{secure:s?}` literally).
    assert.equal(r.match(h('https')), false);
    assert.equal(r.match(h('http{secure:}')), true);
    assert.equal(r.match(h('ws', 'http{secure:s}')), true);
    assert.equal(r.match(h('http{secure:S}')), false);
  });

  it("Query: pairs, the key's first value only (gorilla/mux Queries)", () => {
    matches('Query(`foo=bar`, `bar=baz`)', {
      'http://localhost/foo?foo=bar&bar=baz': true,
      'http://localhost/foo?bar=baz': false,
    });
    matches('Query(`foo=b=ar`)', {
      'http://localhost/foo?foo=b=ar': true,
      'http://localhost/foo?foo=bar': false,
    });
    // gorilla's findFirstQueryKey: the first pair of the key decides, `;` separates too.
    matches('Query(`a=1`)', {
      'http://h/?a=2&a=1': false,
      'http://h/?a=1&a=2': true,
      'http://h/?b=0;a=1': true,
    });
    matches('Query(`a=`)', { 'http://h/?a': true, 'http://h/?a=x': true, 'http://h/?b=1': false });
    matches('Query(`id={id:[0-9]+}`)', {
      'http://h/?id=42': true,
      'http://h/?id=x': false,
      'http://h/?id=%34%32': true,
    });
  });

  it('combines matchers with &&, || and ! in any spelling', () => {
    matches('Host("tchouk") || (Host("pouet") && Path("/powpow"))', {
      'http://tchouk/toto': true,
      'http://pouet/powpow': true,
      'http://pouet/toto': false,
    });
    matches('(HOST("tchouk") && PATHPREFIX("/titi"))', {
      'http://tchouk/titi': true,
      'http://tchouk/powpow': false,
    });
    matches('(host("tchouk") && pathprefix("/titi"))', { 'http://tchouk/titi': true });
    matches('(Host("tchouk") && Pathprefix("/titi"))', { 'http://tchouk/titi': true });
    matches('!(Host("tchouk") && !Path("/titi"))', {
      'http://tchouk/titi': true,
      'http://toto/titi': true,
      'http://tchouk/toto': false,
    });
    matches('!(Host("tchouk","pouet") && Path("/powpow", "/titi"))', {
      'http://tchouk/toto': true,
      'http://tchouk/powpow': false,
      'http://pouet/titi': false,
      'http://plopi/a': true,
    });
  });

  it('ClientIP: several addresses or ranges', () => {
    const c = compileRule('ClientIP(`11.0.0.0/16`, `10.0.0.0`)', createCompileContext(), 'v2');
    assert.ok(c.ok);
    assert.equal(c.match(request({ clientIp: '10.0.0.0' })), true);
    assert.equal(c.match(request({ clientIp: '11.0.3.4' })), true);
    assert.equal(c.match(request({ clientIp: '12.0.0.1' })), false);
  });

  it('the same text is a v3 rule without ruleSyntax v2', () => {
    assert.equal(compileRule('Host(`a`, `b`)').ok, false);
    assert.equal(compileRule('Host(`a`, `b`)', createCompileContext(), 'v3').ok, false);
    assert.equal(compileRule('Host(`a`, `b`)', createCompileContext(), 'V2').ok, false);
  });
});
