import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from '../request-fixture.ts';
import { type CompiledRule, compileRule, createCompileContext, defaultPriority } from './compile.ts';
import { hostMatcherValues } from './hints.ts';
import { parseRule } from './parser.ts';

function compiled(rule: string): CompiledRule {
  const c = compileRule(rule);
  assert.ok(c.ok, c.ok ? '' : c.error.message);
  return c;
}

function hosts(rule: string): unknown {
  const h = compiled(rule).hosts;
  return h.kind === 'any' ? 'any' : { exact: [...h.exact].sort(), wild: [...h.wildcardParents].sort() };
}

describe('host hints', () => {
  it('requires the host of a Host matcher', () => {
    assert.deepEqual(hosts('Host(`A.com.`) && PathPrefix(`/x`)'), { exact: ['a.com'], wild: [] });
  });

  it('requires one of the hosts of a disjunction of Host matchers', () => {
    assert.deepEqual(hosts('Host(`a.com`) || Host(`*.b.com`)'), { exact: ['a.com'], wild: ['b.com'] });
  });

  it('has no requirement when one side of || has none', () => {
    assert.equal(hosts('Host(`a.com`) || PathPrefix(`/x`)'), 'any');
  });

  it('takes the narrowest operand of &&', () => {
    assert.deepEqual(hosts('(Host(`a.com`) || Host(`b.com`)) && Host(`a.com`)'), {
      exact: ['a.com'],
      wild: [],
    });
  });

  it('has no requirement for negated hosts, HostRegexp or Host(`*`)', () => {
    assert.equal(hosts('!Host(`a.com`)'), 'any');
    assert.equal(hosts('HostRegexp(`^a`)'), 'any');
    assert.equal(hosts('Host(`*`)'), 'any');
  });

  it('files a double wildcard (Traefik v3.8) as any host', () => {
    assert.equal(hosts('Host(`**.a.com`)'), 'any');
    assert.equal(hosts('Host(`b.com`) || Host(`**.a.com`)'), 'any');
    assert.deepEqual(hosts('Host(`**.a.com`) && Host(`x.a.com`)'), { exact: ['x.a.com'], wild: [] });
  });

  it('follows De Morgan through double negation', () => {
    assert.deepEqual(hosts('!(!Host(`a.com`) || !Path(`/x`))'), { exact: ['a.com'], wild: [] });
    assert.deepEqual(hosts('!(!Host(`a.com`) && !Host(`b.com`))'), { exact: ['a.com', 'b.com'], wild: [] });
  });
});

describe('path and header hints', () => {
  it('requires path prefixes from Path and PathPrefix', () => {
    assert.deepEqual(compiled('Path(`/a`) || PathPrefix(`/b/`)').hints.paths, {
      kind: 'prefixes',
      prefixes: ['/a', '/b/'],
    });
    assert.deepEqual(compiled('PathPrefix(`/é`)').hints.paths, { kind: 'prefixes', prefixes: ['/\xc3\xa9'] });
    assert.equal(compiled('PathRegexp(`^/a`)').hints.paths.kind, 'any');
  });

  it('requires header values from Header', () => {
    assert.deepEqual(compiled('Header(`X-T`, `1`) && Method(`GET`)').hints.headers, {
      kind: 'values',
      values: [['x-t', '1']],
    });
    assert.equal(compiled('!Header(`X-T`, `1`)').hints.headers.kind, 'any');
  });
});

describe('forHost folding', () => {
  it('reduces Host(h) && X to X for host h', () => {
    const c = compiled('Host(`a.com`) && PathPrefix(`/api`)');
    const m = c.forHost('a.com');
    assert.equal(typeof m, 'function');
    if (typeof m === 'function') {
      assert.ok(m(request({ host: 'ignored', path: '/api/x' })));
      assert.ok(!m(request({ host: 'a.com', path: '/x' })));
    }
  });

  it('folds to constants when the host decides the rule', () => {
    assert.equal(compiled('Host(`a.com`)').forHost('a.com'), true);
    assert.equal(compiled('Host(`a.com`) && Path(`/`)').forHost('b.com'), false);
    assert.equal(compiled('Host(`a.com`) || Path(`/`)').forHost('a.com'), true);
    assert.equal(compiled('!Host(`a.com`)').forHost('a.com'), false);
    assert.equal(compiled('Host(`*.a.com`)').forHost('x.a.com'), true);
    assert.equal(compiled('HostRegexp(`^x`)').forHost('x.a.com'), true);
  });

  it('keeps the rest of a disjunction that the host does not decide', () => {
    const m = compiled('Host(`a.com`) || Path(`/p`)').forHost('b.com');
    assert.equal(typeof m, 'function');
    if (typeof m === 'function') assert.ok(m(request({ path: '/p' })));
  });
});

describe('forWildcardParent folding', () => {
  it('decides Host leaves for a host one label under the parent', () => {
    assert.equal(compiled('Host(`*.a.com`)').forWildcardParent('a.com'), true);
    assert.equal(compiled('Host(`*.b.com`)').forWildcardParent('a.com'), false);
    assert.equal(compiled('Host(`*`)').forWildcardParent('a.com'), true);
    assert.equal(compiled('Host(`a.com`)').forWildcardParent('a.com'), false);
    assert.equal(compiled('Host(`x.b.com`)').forWildcardParent('a.com'), false);
    // `**.s`: any depth under s, so one label under `a.com` when a.com is s or under it.
    assert.equal(compiled('Host(`**.a.com`)').forWildcardParent('a.com'), true);
    assert.equal(compiled('Host(`**.com`)').forWildcardParent('a.com'), true);
    assert.equal(compiled('Host(`**.b.com`)').forWildcardParent('a.com'), false);
    assert.equal(compiled('Host(`**.x.a.com`)').forWildcardParent('a.com'), false);
    assert.equal(compiled('Host(`**.ba.com`)').forWildcardParent('a.com'), false);
  });

  it('keeps what the parent does not decide', () => {
    const m = compiled('Host(`*.a.com`) && !Host(`admin.a.com`)').forWildcardParent('a.com');
    assert.equal(typeof m, 'function');
    if (typeof m === 'function') {
      assert.ok(m(request({ host: 'www.a.com' })));
      assert.ok(!m(request({ host: 'admin.a.com' })));
    }
    assert.equal(
      typeof compiled('HostRegexp(`^w`) || Host(`*.q.com`)').forWildcardParent('a.com'),
      'function',
    );
  });
});

describe('compile context', () => {
  it('shares one closure between rules with the same matcher', () => {
    const ctx = createCompileContext();
    const a = compileRule('Host(`a.com`) && PathPrefix(`/api`)', ctx);
    const b = compileRule('Host(`b.com`) && PathPrefix(`/api`)', ctx);
    assert.ok(a.ok && b.ok);
    assert.equal(a.forHost('a.com'), b.forHost('b.com'));
  });

  it('reports a cached bad regex at the offset within each rule', () => {
    const ctx = createCompileContext();
    const a = compileRule('PathRegexp(`(x`)', ctx);
    const b = compileRule('Host(`a`) && PathRegexp(`(x`)', ctx);
    assert.ok(!a.ok && !b.ok);
    assert.equal(a.error.offset, 12);
    assert.equal(b.error.offset, 25);
  });
});

describe('defaultPriority', () => {
  it('is the rule length in UTF-8 bytes, as Go len()', () => {
    assert.equal(defaultPriority('Host(`a`)'), 9);
    assert.equal(defaultPriority('Path(`/é`)'), 11);
  });

  it('counts no star of a positive double wildcard Host (Traefik v3.8 GetRulePriority, #13882)', () => {
    // 22 bytes less 2: below Host(`*.example.com`) (21) and any exact host it covers.
    assert.equal(defaultPriority('Host(`**.example.com`)'), 20);
    assert.equal(defaultPriority('Host(`*.example.com`)'), 21);
    assert.equal(defaultPriority('Host(`**.a.com`) || Host(`**.b.com`)'), 36 - 4);
    // A negated one, or one of HostRegexp, counts whole (ParseDomains skips them).
    assert.equal(defaultPriority('PathPrefix(`/`) && !Host(`**.a.com`)'), 36);
    assert.equal(defaultPriority('HostRegexp(`**.a.com`)'), 22);
    // A rule ParseDomains cannot read keeps its length.
    assert.equal(defaultPriority('Host(`**.a.com`'), 15);
  });
});

describe('hostMatcherValues (Traefik ParseDomains)', () => {
  const values = (rule: string): string[] => {
    const p = parseRule(rule);
    assert.ok(p.ok);
    return hostMatcherValues(p.ast);
  };

  it('lists every Host value, under || too, lower-cased, in rule order', () => {
    assert.deepEqual(values('Host(`A.com`) || PathPrefix(`/x`)'), ['a.com']);
    assert.deepEqual(values('(Host(`b.com`) || Host(`c.com`)) || Host(`*.d.com`)'), [
      'b.com',
      'c.com',
      '*.d.com',
    ]);
    assert.deepEqual(values('HostRegexp(`^e\\.com$`) && PathPrefix(`/`)'), []);
  });

  it('skips a negated Host, as Traefik v3.7.13 (a leaf under an odd number of !)', () => {
    assert.deepEqual(values('(Host(`b.com`) && !Host(`c.com`)) || Host(`*.d.com`)'), ['b.com', '*.d.com']);
    assert.deepEqual(values('Host(`a.com`) && !(Host(`x.com`) || Host(`y.com`))'), ['a.com']);
    assert.deepEqual(values('!(!Host(`twice.com`)) && !PathPrefix(`/p`)'), ['twice.com']);
  });
});

describe("a regexp Go refuses, in our words and Go's (core/re2/go-errors.ts)", () => {
  it("adds Go's regexp.Compile text where ours differs, and gives Go's alone where JS had none", () => {
    const look = compileRule('PathRegexp(`^/(?=a)`)');
    assert.ok(!look.ok);
    assert.match(look.error.message, /^PathRegexp: lookahead and lookbehind are not supported by RE2/);
    assert.ok(
      look.error.message.endsWith(' (Go: error parsing regexp: invalid or unsupported Perl syntax: `(?=`)'),
      look.error.message,
    );
    const nested = compileRule('HostRegexp(`(x{2}){501}`)');
    assert.ok(!nested.ok);
    assert.equal(
      nested.error.message,
      'HostRegexp: error parsing regexp: invalid repeat count: `{501}` in regular expression "(x{2}){501}"',
    );
  });
});

describe("a ClientIP Traefik's checker refuses, in our words and its own (core/go-netip.ts)", () => {
  it("adds Traefik's ip checker text with Go's net/netip words", () => {
    const r = compileRule('ClientIP(`10.0.0.0/33`)');
    assert.ok(!r.ok);
    assert.equal(
      r.error.message,
      'ClientIP: "10.0.0.0/33" is not an IP address or CIDR block (Traefik: parsing CIDR trusted IPs 10.0.0.0/33: netip.ParsePrefix("10.0.0.0/33"): prefix length out of range)',
    );
  });
});
