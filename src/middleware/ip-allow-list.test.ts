import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { middlewareSchemas } from '../config/dynamic/middlewares.ts';
import { hostOf, rejectingIp } from './ip-allow-list.ts';
import { maskIPv6 } from './source-key.ts';
import { build, makeRequest } from './test-request.ts';

/**
 * A request from `peer` with X-Forwarded-For as the entry point leaves it: a trusted peer's own,
 * without the peer (Traefik's proxy appends that only to the request it sends upstream).
 */
/** A refusal's status and body (its span error is a function, checked on its own). */
function answer(r: unknown) {
  if (r === undefined) return undefined;
  const { status, body } = r as { status: number; body: string };
  return { status, body };
}

function from(peer: string, forwardedFor: readonly string[] = []) {
  const headers: [string, string][] =
    forwardedFor.length === 0 ? [] : [['X-Forwarded-For', forwardedFor.join(', ')]];
  return makeRequest('http://app.test/', { clientIp: peer, headers });
}

describe('ipAllowList', () => {
  it('lets in addresses of the source ranges and refuses others with 403 and its reason', () => {
    const m = build('ipAllowList', { sourceRange: ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'] });
    assert.equal(m.onRequest?.(from('10.1.2.3')), undefined);
    assert.equal(m.onRequest?.(from('192.0.2.7')), undefined);
    assert.equal(m.onRequest?.(from('2001:db8:1::9')), undefined);
    assert.deepEqual(answer(m.onRequest?.(from('192.0.2.8'))), { status: 403, body: 'Forbidden' });
    assert.deepEqual(answer(m.onRequest?.(from('2001:db9::1'))), { status: 403, body: 'Forbidden' });
  });

  it("marks a traced request's span as Traefik's ipAllowLister, with pkg/ip/checker.go's error", () => {
    const m = build('ipAllowList', { sourceRange: ['10.0.0.0/8'] });
    const req = from('192.0.2.8');
    const r = m.onRequest?.(req) as { spanError: (r: unknown) => string };
    assert.equal(r.spanError(req), 'Rejecting IP 192.0.2.8: "192.0.2.8" matched none of the trusted IPs');
    assert.equal(
      rejectingIp('192.0.2.8:443'),
      'Rejecting IP 192.0.2.8:443: "192.0.2.8:443" matched none of the trusted IPs',
    );
    assert.equal(rejectingIp(''), 'Rejecting IP : empty IP address');
    assert.equal(
      rejectingIp('x:80'),
      "Rejecting IP x:80: unable to parse address: x: can't parse IP from address x",
    );
  });

  it('answers rejectStatusCode when given', () => {
    const m = build('ipAllowList', { sourceRange: ['10.0.0.0/8'], rejectStatusCode: 404 });
    assert.deepEqual(answer(m.onRequest?.(from('11.0.0.1'))), { status: 404, body: 'Not Found' });
  });

  it("answers Go's reason phrase as the body for any status Go names (Traefik writes http.StatusText)", () => {
    for (const [status, body] of [
      [451, 'Unavailable For Legal Reasons'],
      [402, 'Payment Required'],
      [413, 'Request Entity Too Large'],
      [422, 'Unprocessable Entity'],
      [511, 'Network Authentication Required'],
    ] as const) {
      const m = build('ipAllowList', { sourceRange: ['10.0.0.0/8'], rejectStatusCode: status });
      assert.deepEqual(answer(m.onRequest?.(from('11.0.0.1'))), { status, body });
    }
  });

  it('checks the depth-th address from the right of X-Forwarded-For, and refuses when there is none', () => {
    const m = build('ipAllowList', { sourceRange: ['198.51.100.0/24'], ipStrategy: { depth: 2 } });
    // The peer (a trusted proxy) is not in the field: depth 1 is its rightmost entry.
    assert.equal(m.onRequest?.(from('10.0.0.1', ['198.51.100.4', '203.0.113.9'])), undefined);
    assert.equal(m.onRequest?.(from('10.0.0.1', ['203.0.113.9', '198.51.100.4']))?.status, 403);
    // Too short: Traefik's strategy gives "" and the request is refused, never checked by its peer.
    assert.equal(m.onRequest?.(from('198.51.100.1', ['198.51.100.4']))?.status, 403);
  });

  it('counts every X-Forwarded-For entry: the field as the trusted peer sent it, without the peer', () => {
    // Traefik's ipStrategy reads the field before its proxy appends the peer (to the upstream
    // request only), notAppendXForwardedFor or not: depth 1 is the trusted peer's rightmost entry.
    const peerless = (xff: string) =>
      makeRequest('http://app.test/', {
        clientIp: '10.0.0.1',
        headers: [['X-Forwarded-For', xff]],
      });
    const depth = build('ipAllowList', { sourceRange: ['198.51.100.0/24'], ipStrategy: { depth: 1 } });
    assert.equal(depth.onRequest?.(peerless('203.0.113.9, 198.51.100.4')), undefined);
    assert.equal(depth.onRequest?.(peerless('198.51.100.4, 203.0.113.9'))?.status, 403);
    const two = build('ipAllowList', { sourceRange: ['198.51.100.0/24'], ipStrategy: { depth: 2 } });
    assert.equal(two.onRequest?.(peerless('198.51.100.4, 203.0.113.9')), undefined);
    assert.equal(two.onRequest?.(peerless('198.51.100.4'))?.status, 403);
    const ex = build('ipAllowList', {
      sourceRange: ['198.51.100.0/24'],
      ipStrategy: { excludedIPs: ['203.0.113.0/24'] },
    });
    assert.equal(ex.onRequest?.(peerless('198.51.100.4, 203.0.113.9')), undefined);
    assert.equal(ex.onRequest?.(peerless('203.0.113.9'))?.status, 403);
    // An untrusted peer's field was dropped, and none was added: nothing to find.
    const none = makeRequest('http://app.test/', { clientIp: '198.51.100.4' });
    assert.equal(depth.onRequest?.(none)?.status, 403);
  });

  it('checks an X-Forwarded-For entry with a port by its address, as Traefik (SplitHostPort)', () => {
    const m = build('ipAllowList', {
      sourceRange: ['198.51.100.0/24', '2001:db8::/32'],
      ipStrategy: { depth: 1 },
    });
    assert.equal(m.onRequest?.(from('10.0.0.1', ['198.51.100.4:5678'])), undefined);
    assert.equal(m.onRequest?.(from('10.0.0.1', ['[2001:db8::7]:443'])), undefined);
    assert.equal(m.onRequest?.(from('10.0.0.1', ['203.0.113.9:5678']))?.status, 403);
    const ex = build('ipAllowList', {
      sourceRange: ['198.51.100.0/24'],
      ipStrategy: { excludedIPs: ['203.0.113.0/24'] },
    });
    assert.equal(ex.onRequest?.(from('10.0.0.1', ['198.51.100.4:80', '203.0.113.9'])), undefined);
    assert.equal(hostOf('192.0.2.1:80'), '192.0.2.1');
    assert.equal(hostOf('192.0.2.1:'), '192.0.2.1');
    assert.equal(hostOf('[::1]:80'), '::1');
    assert.equal(hostOf('2001:db8::1'), '2001:db8::1');
    assert.equal(hostOf('[::1]'), '[::1]');
    assert.equal(hostOf('192.0.2.1'), '192.0.2.1');
  });

  it('skips excludedIPs from the right and refuses when every hop is excluded', () => {
    const m = build('ipAllowList', {
      sourceRange: ['198.51.100.0/24'],
      ipStrategy: { excludedIPs: ['203.0.113.0/24'] },
    });
    assert.equal(m.onRequest?.(from('10.0.0.1', ['198.51.100.4', '203.0.113.9'])), undefined);
    assert.equal(m.onRequest?.(from('10.0.0.1', ['192.0.2.1', '203.0.113.9']))?.status, 403);
    assert.equal(m.onRequest?.(from('198.51.100.1', ['203.0.113.9']))?.status, 403);
  });

  it('masks IPv6 peers to ipv6Subnet before checking', () => {
    const m = build('ipAllowList', { sourceRange: ['2001:db8:1:2::/64'], ipStrategy: { ipv6Subnet: 48 } });
    // Masked to 2001:db8:1::, which is outside the /64.
    assert.equal(m.onRequest?.(from('2001:db8:1:2::5'))?.status, 403);
    const wide = build('ipAllowList', { sourceRange: ['2001:db8:1::/48'], ipStrategy: { ipv6Subnet: 64 } });
    assert.equal(wide.onRequest?.(from('2001:db8:1:2::5')), undefined);
    assert.equal(maskIPv6('2001:db8:1:2::5', 64), '2001:db8:1:2:0:0:0:0');
    assert.equal(maskIPv6('192.0.2.1', 64), '192.0.2.1');
    assert.equal(maskIPv6('2001:db8:1:2::5', 64, true), '2001:db8:1:2:0:0:0:0/64');
    assert.equal(maskIPv6('192.0.2.1', 64, true), '192.0.2.1');
  });

  it('refuses an empty sourceRange, bad ranges and bad statuses in the schema', () => {
    assert.equal(middlewareSchemas.ipAllowList.safeParse({ sourceRange: [] }).success, false);
    assert.equal(middlewareSchemas.ipAllowList.safeParse({ sourceRange: ['10.0.0.0/33'] }).success, false);
    assert.equal(
      middlewareSchemas.ipAllowList.safeParse({ sourceRange: ['10.0.0.0/8'], rejectStatusCode: 42 }).success,
      false,
    );
    // Traefik's ipallowlist.New refuses codes without a Go reason phrase.
    for (const code of [499, 299, 306, 599, -403])
      assert.equal(
        middlewareSchemas.ipAllowList.safeParse({ sourceRange: ['10.0.0.0/8'], rejectStatusCode: code })
          .success,
        false,
        String(code),
      );
    assert.equal(
      middlewareSchemas.ipAllowList.safeParse({ sourceRange: ['10.0.0.0/8'], rejectStatusCode: 451 }).success,
      true,
    );
  });
});
