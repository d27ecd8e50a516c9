import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RequestSpec, request } from '../request-fixture.ts';
import { compileRule } from './compile.ts';

function matches(rule: string, spec: RequestSpec): boolean {
  const c = compileRule(rule);
  assert.ok(c.ok, c.ok ? '' : `${c.error.message} @${c.error.offset}`);
  return c.match(request(spec));
}

function compileError(rule: string): { message: string; offset: number } {
  const c = compileRule(rule);
  assert.ok(!c.ok, `expected ${rule} to fail`);
  return c.error;
}

describe('Host', () => {
  it('matches the host case-insensitively', () => {
    assert.ok(matches('Host(`Example.COM`)', { host: 'example.com' }));
    assert.ok(!matches('Host(`example.com`)', { host: 'example.org' }));
    assert.ok(!matches('Host(`example.com`)', { host: 'www.example.com' }));
  });

  it('ignores a trailing dot in the rule', () => {
    assert.ok(matches('Host(`example.com.`)', { host: 'example.com' }));
  });

  it('never matches a request without a host', () => {
    assert.ok(!matches('Host(`example.com`)', { host: '' }));
  });

  it('matches exactly one label under a *. wildcard', () => {
    const rule = 'Host(`*.example.com`)';
    assert.ok(matches(rule, { host: 'a.example.com' }));
    assert.ok(!matches(rule, { host: 'b.a.example.com' }));
    assert.ok(!matches(rule, { host: 'example.com' }));
    assert.ok(!matches(rule, { host: 'aexample.com' }));
    assert.ok(!matches(rule, { host: '.example.com' }));
  });

  it('matches one label or more under a **. double wildcard (Traefik v3.8, #13882)', () => {
    const rule = 'Host(`**.Example.com`)';
    assert.ok(matches(rule, { host: 'a.example.com' }));
    assert.ok(matches(rule, { host: 'b.a.example.com' }));
    assert.ok(matches(rule, { host: 'c.b.a.example.com' }));
    assert.ok(!matches(rule, { host: 'example.com' }));
    assert.ok(!matches(rule, { host: 'aexample.com' }));
    assert.ok(!matches(rule, { host: '.example.com' }));
    assert.ok(!matches(rule, { host: 'a.example.org' }));
    assert.ok(matches('Host(`**.example.com.`)', { host: 'a.b.example.com' }));
    assert.ok(matches('Host(`**.example.com`) && !Host(`*.example.com`)', { host: 'a.b.example.com' }));
    assert.ok(!matches('Host(`**.example.com`) && !Host(`*.example.com`)', { host: 'b.example.com' }));
  });

  it('matches everything with Host(`*`)', () => {
    assert.ok(matches('Host(`*`)', { host: 'a.b.c' }));
    assert.ok(matches('Host(`*`)', { host: '' }));
  });

  it('rejects non-ASCII hosts and misplaced wildcards at the argument', () => {
    const e = compileError('Path(`/`) && Host(`bücher.de`)');
    assert.equal(e.offset, 18);
    assert.match(e.message, /non-ASCII/);
    for (const h of [
      'a.*.com',
      '*example.com',
      'x*',
      '***.example.com',
      '**example.com',
      '**.',
      '**.*.com',
    ]) {
      assert.match(compileError(`Host(\`${h}\`)`).message, /wildcard must be the whole first label/);
    }
  });
});

describe('HostRegexp', () => {
  it('matches the lowercased host with an RE2 pattern', () => {
    assert.ok(matches('HostRegexp(`^[a-z]+\\.example\\.com$`)', { host: 'api.example.com' }));
    assert.ok(!matches('HostRegexp(`^[a-z]+\\.example\\.com$`)', { host: 'api1.example.com' }));
    assert.ok(matches('HostRegexp(`example`)', { host: 'www.example.org' }));
  });

  it('reports a bad regex at the offending character of a backtick argument', () => {
    const e = compileError('HostRegexp(`ab(c`)');
    assert.equal(e.offset, 14);
    assert.match(e.message, /HostRegexp: missing closing "\)"/);
  });

  it('reports a bad regex in a double-quoted argument at the argument', () => {
    assert.equal(compileError('HostRegexp("a(?=b)")').offset, 11);
  });
});

describe('Path and PathPrefix', () => {
  it('matches the exact path', () => {
    assert.ok(matches('Path(`/css`)', { path: '/css' }));
    assert.ok(!matches('Path(`/css`)', { path: '/css/' }));
    assert.ok(!matches('Path(`/css`)', { path: '/CSS' }));
  });

  it('matches a plain prefix, with no regex meaning', () => {
    assert.ok(matches('PathPrefix(`/api`)', { path: '/api' }));
    assert.ok(matches('PathPrefix(`/api`)', { path: '/apiv2/x' }));
    assert.ok(!matches('PathPrefix(`/api`)', { path: '/ap' }));
    assert.ok(matches('PathPrefix(`/a.c`)', { path: '/a.c' }));
    assert.ok(!matches('PathPrefix(`/a.c`)', { path: '/abc' }));
    assert.ok(matches('PathPrefix(`/{id}`)', { path: '/{id}/x' }));
  });

  it('compares with the routing path: unreserved escapes decoded, reserved ones kept', () => {
    assert.ok(matches('PathPrefix(`/foo bar`)', { path: '/foo%20bar/x' }));
    assert.ok(matches('Path(`/café`)', { path: '/caf%C3%A9' }));
    assert.ok(!matches('PathPrefix(`/a/b`)', { path: '/a%2Fb' }));
    assert.ok(matches('PathPrefix(`/a%2Fb`)', { path: '/a%2Fb' }));
  });

  it('requires a leading slash', () => {
    const e = compileError('PathPrefix(`api`)');
    assert.equal(e.offset, 11);
    assert.match(e.message, /must start with "\/"/);
  });
});

describe('PathRegexp', () => {
  it('matches the full routing path, unanchored unless anchored', () => {
    assert.ok(matches('PathRegexp(`^/(css|js)`)', { path: '/css/main.css' }));
    assert.ok(!matches('PathRegexp(`^/(css|js)`)', { path: '/html' }));
    assert.ok(matches('PathRegexp(`\\.css$`)', { path: '/a/b.css' }));
    assert.ok(matches('PathRegexp(`(?i)^/CSS`)', { path: '/css' }));
  });

  it('sees non-ASCII as code points', () => {
    assert.ok(matches('PathRegexp(`^/caf.$`)', { path: '/caf%C3%A9' }));
  });
});

describe('Method', () => {
  it('compares with the upper-cased argument, case-sensitively', () => {
    assert.ok(matches('Method(`get`)', { method: 'GET' }));
    assert.ok(!matches('Method(`GET`)', { method: 'get' }));
    assert.ok(!matches('Method(`GET`)', { method: 'POST' }));
  });
});

describe('Header and HeaderRegexp', () => {
  it('matches any value of the field, name case-insensitive, value exact', () => {
    const headers: [string, string][] = [
      ['X-Forwarded-Proto', 'http'],
      ['x-forwarded-proto', 'https'],
    ];
    assert.ok(matches('Header(`X-Forwarded-Proto`, `https`)', { headers }));
    assert.ok(matches('Header(`x-FORWARDED-proto`, `http`)', { headers }));
    assert.ok(!matches('Header(`X-Forwarded-Proto`, `HTTPS`)', { headers }));
    assert.ok(!matches('Header(`X-Forwarded-Host`, `https`)', { headers }));
  });

  it('compares non-ASCII values as UTF-8 bytes', () => {
    assert.ok(matches('Header(`X-Name`, `é`)', { headers: [['X-Name', '\xc3\xa9']] }));
  });

  it('matches a regex against each value', () => {
    const rule = 'HeaderRegexp(`X-Proto`, `^https?$`)';
    assert.ok(
      matches(rule, {
        headers: [
          ['X-Proto', 'ws'],
          ['X-Proto', 'https'],
        ],
      }),
    );
    assert.ok(!matches(rule, { headers: [['X-Proto', 'HTTPS']] }));
    assert.ok(!matches(rule, {}));
  });
});

describe('Query and QueryRegexp', () => {
  it('with one argument, matches a key present with an empty value', () => {
    assert.ok(matches('Query(`mobile`)', { query: 'mobile' }));
    assert.ok(matches('Query(`mobile`)', { query: 'a=1&mobile=' }));
    assert.ok(!matches('Query(`mobile`)', { query: 'mobile=true' }));
    assert.ok(!matches('Query(`mobile`)', { query: '' }));
  });

  it('with two arguments, matches any value exactly', () => {
    const rule = 'Query(`q`, `traefik`)';
    assert.ok(matches(rule, { query: 'rel=ddg&q=traefik' }));
    assert.ok(matches(rule, { query: 'q=awesome&q=traefik' }));
    assert.ok(!matches(rule, { query: 'q=TRAEFIK' }));
    assert.ok(!matches(rule, { query: 'Q=traefik' }));
    assert.ok(matches('Query(`q`, `a b`)', { query: 'q=a+b' }));
    assert.ok(matches('Query(`q`, `a b`)', { query: 'q=a%20b' }));
  });

  it('matches values against a regex', () => {
    const rule = 'QueryRegexp(`q`, `^(traefik|nginx)$`)';
    assert.ok(matches(rule, { query: 'q=nginx' }));
    assert.ok(!matches(rule, { query: 'q=haproxy' }));
    assert.ok(!matches(rule, { query: 'x=nginx' }));
    assert.ok(matches('QueryRegexp(`q`)', { query: 'q' }));
  });
});

describe('ClientIP', () => {
  it('matches the socket address against an IP or CIDR', () => {
    assert.ok(matches('ClientIP(`10.0.0.0/8`)', { clientIp: '10.1.2.3' }));
    assert.ok(!matches('ClientIP(`10.0.0.0/8`)', { clientIp: '11.1.2.3' }));
    assert.ok(matches('ClientIP(`2001:db8::/32`)', { clientIp: '2001:db8::5' }));
    assert.ok(matches('ClientIP(`::1`)', { clientIp: '::1' }));
  });

  it('never looks at X-Forwarded-For', () => {
    assert.ok(
      !matches('ClientIP(`10.0.0.1`)', { clientIp: '192.0.2.1', headers: [['X-Forwarded-For', '10.0.0.1']] }),
    );
  });

  it('rejects a bad address at the argument', () => {
    const e = compileError('Host(`a`) && ClientIP(`10.0.0.0/33`)');
    assert.equal(e.offset, 22);
    assert.match(e.message, /not an IP address or CIDR block/);
  });
});

describe('combinators', () => {
  it('evaluates &&, || and ! as boolean logic', () => {
    const rule = '(Host(`a.com`) || Host(`b.com`)) && !PathPrefix(`/admin`)';
    assert.ok(matches(rule, { host: 'b.com', path: '/x' }));
    assert.ok(!matches(rule, { host: 'b.com', path: '/admin/x' }));
    assert.ok(!matches(rule, { host: 'c.com', path: '/x' }));
    assert.ok(matches('!Host(`a.com`)', { host: 'c.com' }));
  });

  it('reports the first error in source order', () => {
    assert.equal(compileError('Path(`x`) || ClientIP(`nope`)').offset, 5);
  });
});
