import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConnectionMeta, compileTcpRule, TcpRouter } from './index.ts';

const conn = (serverName: string, clientIp = '10.0.0.1', alpn: string[] = []): ConnectionMeta => ({
  serverName,
  clientIp,
  alpn,
});

function matches(rule: string, c: ConnectionMeta): boolean {
  const r = compileTcpRule(rule);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.match(c);
}

describe('TCP rules', () => {
  it('matches HostSNI on the exact server name, case-insensitively, and never a connection without SNI', () => {
    assert.equal(matches('HostSNI(`db.example.com`)', conn('db.example.com')), true);
    assert.equal(matches('HostSNI(`DB.Example.com`)', conn('db.example.com')), true);
    assert.equal(matches('HostSNI(`db.example.com.`)', conn('db.example.com')), true);
    assert.equal(matches('HostSNI(`db.example.com`)', conn('other.example.com')), false);
    assert.equal(matches('HostSNI(`db.example.com`)', conn('')), false);
  });

  it('matches HostSNI(`*`) on every connection, TLS or cleartext, and marks it as the catch-all', () => {
    const r = compileTcpRule('HostSNI(`*`)');
    assert.ok(r.ok);
    assert.equal(r.catchAll, true);
    assert.equal(r.needsTls, false);
    assert.equal(r.match(conn('')), true);
    assert.equal(r.match(conn('x.test')), true);
    const and = compileTcpRule('HostSNI(`*`) && ClientIP(`10.0.0.0/8`)');
    assert.ok(and.ok);
    assert.equal(and.catchAll, false, 'only the bare HostSNI(`*`) is the catch-all');
  });

  it('matches a wildcard HostSNI on exactly one label under the parent', () => {
    assert.equal(matches('HostSNI(`*.example.com`)', conn('a.example.com')), true);
    assert.equal(matches('HostSNI(`*.example.com`)', conn('a.b.example.com')), false);
    assert.equal(matches('HostSNI(`*.example.com`)', conn('example.com')), false);
  });

  it('matches a double wildcard HostSNI on one label or more under the suffix (Traefik v3.8, #13882)', () => {
    assert.equal(matches('HostSNI(`**.example.com`)', conn('a.example.com')), true);
    assert.equal(matches('HostSNI(`**.example.com`)', conn('a.b.example.com')), true);
    assert.equal(matches('HostSNI(`**.Example.com.`)', conn('a.b.example.com')), true);
    assert.equal(matches('HostSNI(`**.example.com`)', conn('example.com')), false);
    assert.equal(matches('HostSNI(`**.example.com`)', conn('aexample.com')), false);
    assert.equal(matches('HostSNI(`**.example.com`)', conn('')), false);
    for (const bad of ['**.', '***.example.com', '**.*.example.com', '**example.com']) {
      const r = compileTcpRule(`HostSNI(\`${bad}\`)`);
      assert.ok(!r.ok, bad);
    }
  });

  it('matches HostSNIRegexp with Go regexp syntax, ClientIP by CIDR, ALPN by list membership', () => {
    assert.equal(matches('HostSNIRegexp(`^db-[0-9]+\\.example\\.com$`)', conn('db-12.example.com')), true);
    assert.equal(matches('HostSNIRegexp(`^db-[0-9]+\\.example\\.com$`)', conn('db-x.example.com')), false);
    assert.equal(matches('ClientIP(`10.0.0.0/8`)', conn('', '10.2.3.4')), true);
    assert.equal(matches('ClientIP(`10.0.0.0/8`)', conn('', '192.168.1.1')), false);
    assert.equal(matches('ClientIP(`::1`)', conn('', '::1')), true);
    assert.equal(matches('ALPN(`h2`)', conn('a', '1.1.1.1', ['http/1.1', 'h2'])), true);
    assert.equal(matches('ALPN(`h2`)', conn('a', '1.1.1.1', ['http/1.1'])), false);
  });

  it('combines matchers with &&, || and !', () => {
    const rule = '(HostSNI(`a.test`) || HostSNI(`b.test`)) && !ClientIP(`192.168.0.0/16`)';
    assert.equal(matches(rule, conn('a.test', '10.0.0.1')), true);
    assert.equal(matches(rule, conn('b.test', '192.168.3.3')), false);
    assert.equal(matches(rule, conn('c.test', '10.0.0.1')), false);
  });

  it('refuses HTTP matchers, ALPN acme-tls/1, invalid host names, CIDRs and regexps, with offsets', () => {
    const cases: [string, RegExp, number][] = [
      ['Host(`a.test`)', /HTTP matcher.*HostSNI/, 0],
      ['PathPrefix(`/`)', /HTTP matcher/, 0],
      ['ALPN(`acme-tls/1`)', /reserved for ACME/, 5],
      ['HostSNI(`a b`)', /not a valid host name/, 8],
      ['ClientIP(`10.0.0.0/33`)', /not an IP address or CIDR/, 9],
      ['HostSNIRegexp(`(`)', /HostSNIRegexp/, 14],
      ['HostSNI(`a`, `b`)', /expects 1 argument/, 13],
      ['HostSNI(`a.*.test`)', /not a valid host name/, 8],
    ];
    for (const [rule, message, offset] of cases) {
      const r = compileTcpRule(rule);
      assert.ok(!r.ok, rule);
      assert.match(r.error.message, message, rule);
      assert.equal(r.error.offset, offset, rule);
    }
  });

  it('lists its HostSNI names and whether only TLS connections can match it', () => {
    const r = compileTcpRule('HostSNI(`A.test`) || HostSNI(`*`)');
    assert.ok(r.ok);
    assert.deepEqual(r.hostSNIs, ['a.test', '*']);
    assert.equal(r.needsTls, true);
    const ip = compileTcpRule('ClientIP(`1.2.3.4`)');
    assert.ok(ip.ok);
    assert.equal(ip.needsTls, false);
  });
});

describe('TCP router table', () => {
  it('tries routers by priority, the rule length by default, HostSNI(`*`) last unless given one', () => {
    const { router, errors } = TcpRouter.build([
      { name: 'all', rule: 'HostSNI(`*`)', value: 'all' },
      { name: 'short', rule: 'HostSNI(`a.test`)', value: 'short' },
      { name: 'long', rule: 'HostSNI(`a.test`) && ClientIP(`10.0.0.0/8`)', value: 'long' },
    ]);
    assert.deepEqual(errors, []);
    assert.equal(router.match(conn('a.test', '10.1.1.1'))?.value, 'long');
    assert.equal(router.match(conn('a.test', '172.16.0.1'))?.value, 'short');
    const any = router.match(conn('b.test'));
    assert.equal(any?.value, 'all');
    assert.equal(any?.catchAll, true);
    assert.deepEqual(
      router.list().map((r) => [r.name, r.priority]),
      [
        ['long', 43],
        ['short', 17],
        ['all', -1],
      ],
    );
  });

  it('counts no star of a double wildcard HostSNI in the default priority: single wildcards and exact names first (Traefik v3.8)', () => {
    const { router } = TcpRouter.build([
      { name: 'deep', rule: 'HostSNI(`**.example.com`)', value: 'deep' },
      { name: 'one', rule: 'HostSNI(`*.example.com`)', value: 'one' },
      { name: 'exact', rule: 'HostSNI(`a.example.com`)', value: 'exact' },
    ]);
    assert.equal(router.match(conn('a.example.com'))?.value, 'exact');
    assert.equal(router.match(conn('b.example.com'))?.value, 'one');
    assert.equal(router.match(conn('c.b.example.com'))?.value, 'deep');
    assert.deepEqual(
      router.list().map((r) => [r.name, r.priority]),
      [
        ['exact', 'HostSNI(`a.example.com`)'.length],
        ['one', 'HostSNI(`*.example.com`)'.length],
        ['deep', 'HostSNI(`**.example.com`)'.length - 2],
      ],
    );
  });

  it('honours explicit priorities, negative ones included, and orders equal priorities by name', () => {
    const { router } = TcpRouter.build([
      { name: 'b', rule: 'HostSNI(`*`)', priority: 5, value: 'b' },
      { name: 'a', rule: 'HostSNI(`*`)', priority: 5, value: 'a' },
      { name: 'low', rule: 'HostSNI(`x.test`)', priority: -10, value: 'low' },
    ]);
    assert.equal(router.match(conn('x.test'))?.value, 'a');
  });

  it('orders equal priorities by the provider order of providers.precedence before the name (Traefik v3.7)', () => {
    const entries = [
      { name: 'a@rest', rule: 'HostSNI(`*`)', priority: 5, value: 'a@rest' },
      { name: 'z@file', rule: 'HostSNI(`*`)', priority: 5, value: 'z@file' },
      { name: 'high@rest', rule: 'HostSNI(`x.test`)', priority: 6, value: 'high@rest' },
    ];
    const first = (precedence?: readonly string[]) =>
      TcpRouter.build(entries, precedence).router.match(conn('y.test'))?.value;
    assert.equal(first(), 'a@rest');
    assert.equal(first(['docker', 'file', 'rest']), 'z@file');
    assert.equal(first(['rest', 'file']), 'a@rest');
    // Listed twice: its last place counts (Traefik indexes the list reversed).
    assert.equal(first(['rest', 'file', 'rest']), 'z@file');
    // A provider not listed comes after the listed ones; the priority still decides first.
    assert.equal(first(['file']), 'z@file');
    assert.equal(TcpRouter.build(entries, ['file']).router.match(conn('x.test'))?.value, 'high@rest');
  });

  it('reports routers whose rule does not compile and builds the others', () => {
    const { router, errors } = TcpRouter.build([
      { name: 'bad', rule: 'HostSNI(', value: 'bad' },
      { name: 'ok', rule: 'HostSNI(`*`)', value: 'ok' },
    ]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.name, 'bad');
    assert.equal(router.size, 1);
  });
});
