import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConnectionMeta, compileTcpRule } from './index.ts';

// Cases of Traefik's pkg/muxer/tcp/matcher_v2_test.go (Test_addTCPRouteV2, traefik/traefik v3), as
// data: [rule, server name, client IP, ALPN, matches?]; `error` for a route Traefik refuses.
const cases: [rule: string, sni: string, ip: string, alpn: string[], expect: boolean | 'error'][] = [
  ['rulewithnotmatcher', '', '10.0.0.1', [], 'error'],
  ['HostSNI()', 'foobar', '10.0.0.1', [], 'error'],
  ['HostSNI(``)', 'foobar', '10.0.0.1', [], 'error'],
  ['HostSNI(`foobar`)', 'foobar', '10.0.0.1', [], true],
  ['!HostSNI(`bar`)', 'foobar', '10.0.0.1', [], true],
  ['hostsni(`foobar`)', 'foobar', '10.0.0.1', [], true],
  ['HOSTSNI(`foobar`)', 'foobar', '10.0.0.1', [], true],
  ['HostSNI(`foobar`)', 'bar', '10.0.0.1', [], false],
  ['HostSNIRegexp()', 'foobar', '10.0.0.1', [], 'error'],
  ['HostSNIRegexp(``)', 'foobar', '10.0.0.1', [], 'error'],
  ['HostSNIRegexp(`{subdomain:[a-z]+}.foobar`)', 'sub.foobar', '10.0.0.1', [], true],
  ['!HostSNIRegexp(`bar`)', 'foobar', '10.0.0.1', [], true],
  ['hostsniregexp(`foobar`)', 'foobar', '10.0.0.1', [], true],
  ['HostSNIRegexp(`foobar`)', 'bar', '10.0.0.1', [], false],
  ['HostSNIRegexp(`{subdomain:[a-z]*}`)', '', '10.0.0.1', [], true],
  ['HostSNIRegexp(`{dummy}`)', 'toto', '10.0.0.1', [], true],
  ['HostSNIRegexp(`{dummy}`)', 'toto.com', '10.0.0.1', [], false],
  ['ClientIP()', '', '10.0.0.1', [], 'error'],
  ['ClientIP(``)', '', '10.0.0.1', [], 'error'],
  ['ClientIP(`invalid`)', '', '10.0.0.1', [], 'error'],
  ['ClientIP(`10.0.0.1`, `10.0.0.0`)', '', '10.0.0.0', [], true],
  ['ClientIP(`11.0.0.0/16`, `10.0.0.0/16`)', '', '10.0.0.0', [], true],
  ['ClientIP(`11.0.0.0`, `10.0.0.0/16`)', '', '10.0.0.0', [], true],
  ['ClientIP(`11::/16`)', '', '10::', [], false],
  ['!(HostSNI(`bar`) && ClientIP(`10.0.0.2`))', 'bar', '10.0.0.2', [], false],
  ['HostSNI(`foobar`) || HostSNI(`bar`) && ClientIP(`10.0.0.1`)', 'bar', '10.0.0.2', [], false],
  ['ALPN(`acme-tls/1`)', '', '10.0.0.1', ['foo'], 'error'],
  ['ALPN(`foo`)', '', '10.0.0.1', ['acme-tls/1'], false],
  ['ALPN(`foo`) && !alpn(`h2`)', '', '10.0.0.1', ['foo', 'bar'], true],
  ['ALPN(`foo`) && (!alpn(`h2`) || hostsni(`foo`))', 'bar', '10.0.0.1', ['foo', 'bar', 'h2'], false],
  // hostSNIV2: several names; a first `*` matches everything, a later one any SNI; no `*.a` wildcard.
  ['HostSNI(`foo.bar`, `test.bar`)', 'test.bar', '10.0.0.1', [], true],
  ['HostSNI(`*`, `foo.bar`)', '', '10.0.0.1', [], true],
  ['HostSNI(`foo.bar`, `*`)', '', '10.0.0.1', [], false],
  ['HostSNI(`foo.bar`, `*`)', 'other', '10.0.0.1', [], true],
  ['HostSNI(`*.foo.bar`)', 'a.foo.bar', '10.0.0.1', [], 'error'],
  ['ALPN(`h2`, `foo`)', '', '10.0.0.1', ['foo'], true],
];

describe("TCP ruleSyntax v2, as Traefik's matcher_v2_test.go", () => {
  for (const [rule, serverName, clientIp, alpn, expect] of cases) {
    it(`${rule} (sni ${JSON.stringify(serverName)}, ${clientIp}, [${alpn}]) → ${expect}`, () => {
      const c = compileTcpRule(rule, 'v2');
      if (expect === 'error') {
        assert.equal(c.ok, false);
        return;
      }
      assert.ok(c.ok, c.ok ? '' : c.error.message);
      const meta: ConnectionMeta = { serverName, clientIp, alpn };
      assert.equal(c.match(meta), expect);
    });
  }

  it('only HostSNI(`*`) alone is the catch-all (priority -1); its names are the certificates', () => {
    const one = compileTcpRule('HostSNI(`*`)', 'v2');
    const two = compileTcpRule('HostSNI(`*`, `a.com`)', 'v2');
    const names = compileTcpRule('HostSNI(`Foo.Bar`, `test.bar`) && ClientIP(`10.1.0.0/16`)', 'v2');
    assert.ok(one.ok && two.ok && names.ok);
    assert.equal(one.catchAll, true);
    assert.equal(two.catchAll, false);
    assert.deepEqual(names.hostSNIs, ['foo.bar', 'test.bar']);
  });

  it('is a v3 rule without ruleSyntax v2', () => {
    assert.equal(compileTcpRule('HostSNI(`a.com`, `b.com`)').ok, false);
    assert.equal(compileTcpRule('HostSNI(`a.com`, `b.com`)', 'v2').ok, true);
  });
});
