/**
 * ipAllowList (and its deprecated name ipWhiteList) and encodedCharacters through the real proxy,
 * with curl as the client: the peer address is 127.0.0.1; X-Forwarded-For counts only on the
 * entry point that trusts loopback peers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, startBackend } from '../helpers/backends.ts';
import { curl } from '../helpers/curl.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('ipAllowList and encodedCharacters through the proxy', () => {
  let backend: Backend;
  let proxy: ProxyProcess;
  let web: number;
  let trusted: number;

  before(async () => {
    backend = await startBackend();
    proxy = await startProxy({
      config: `entryPoints:
  web:
    address: "127.0.0.1:0"
  trusted:
    address: "127.0.0.1:0"
    forwardedHeaders: { trustedIPs: ["127.0.0.1/32"] }
log: { level: DEBUG }
http:
  middlewares:
    loopback: { ipAllowList: { sourceRange: ["127.0.0.0/8", "::1"] } }
    lan: { ipAllowList: { sourceRange: ["10.0.0.0/8"], rejectStatusCode: 404 } }
    old-name: { ipWhiteList: { sourceRange: ["10.0.0.0/8"] } }
    client: { ipAllowList: { sourceRange: ["203.0.113.0/24"], ipStrategy: { depth: 1 } } }
    client2: { ipAllowList: { sourceRange: ["203.0.113.0/24"], ipStrategy: { depth: 2 } } }
    zoned: { ipAllowList: { sourceRange: ["fe80::1%eth0"], ipStrategy: { depth: 1 } } }
    link-local: { ipAllowList: { sourceRange: ["fe80::/10"], ipStrategy: { depth: 1 } } }
    strict-path: { encodedCharacters: {} }
    slash-ok: { encodedCharacters: { allowEncodedSlash: true } }
  routers:
    loopback: { rule: "PathPrefix(\`/loopback\`)", middlewares: [loopback], service: be }
    lan: { rule: "PathPrefix(\`/lan\`)", middlewares: [lan], service: be }
    old: { rule: "PathPrefix(\`/old\`)", middlewares: [old-name], service: be }
    client: { rule: "PathPrefix(\`/client\`)", middlewares: [client], service: be }
    second: { rule: "PathPrefix(\`/second\`)", middlewares: [client2], service: be }
    strict: { rule: "PathPrefix(\`/strict\`)", middlewares: [strict-path], service: be }
    slash: { rule: "PathPrefix(\`/slash\`)", middlewares: [slash-ok], service: be }
    zoned: { rule: "PathPrefix(\`/zoned\`)", middlewares: [zoned], service: be }
    link-local: { rule: "PathPrefix(\`/link-local\`)", middlewares: [link-local], service: be }
    zoned-rule: { rule: "ClientIP(\`fe80::1%eth0\`) || PathPrefix(\`/zoned-rule\`)", service: be }
    plain: { rule: "PathPrefix(\`/plain\`)", service: be }
  services:
    be: { loadBalancer: { servers: [{ url: "${backend.url}" }] } }
`,
    });
    web = proxy.ports['web']!;
    trusted = proxy.ports['trusted']!;
  });

  after(async () => {
    await proxy?.stop();
    await backend?.close();
  });

  it('lets the peer in when it is in the range, and refuses others with the configured status', async () => {
    const ok = await curl([`http://127.0.0.1:${web}/loopback`]);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.toString(), 'GET /loopback');
    const lan = await curl([`http://127.0.0.1:${web}/lan`]);
    assert.equal(lan.status, 404);
    assert.equal(lan.body.toString(), 'Not Found');
  });

  it('reads ipWhiteList, the deprecated type (always 403)', async () => {
    const r = await curl([`http://127.0.0.1:${web}/old`]);
    assert.equal(r.status, 403);
    assert.equal(r.body.toString(), 'Forbidden');
    assert.ok(proxy.logs.some((l) => JSON.stringify(l).includes('`ipWhiteList` is deprecated')));
  });

  it('checks X-Forwarded-For only when a trusted peer sent it', async () => {
    const spoof = ['-H', 'X-Forwarded-For: 203.0.113.5'];
    assert.equal((await curl([...spoof, `http://127.0.0.1:${trusted}/client`])).status, 200);
    // Untrusted peer: the entry point drops its X-Forwarded-For, so depth 1 finds nothing.
    assert.equal((await curl([...spoof, `http://127.0.0.1:${web}/client`])).status, 403);
    const other = ['-H', 'X-Forwarded-For: 198.51.100.5'];
    assert.equal((await curl([...other, `http://127.0.0.1:${trusted}/client`])).status, 403);
    // An entry with a port (as some load balancers write it) is checked by its address.
    const withPort = ['-H', 'X-Forwarded-For: 203.0.113.5:61234'];
    assert.equal((await curl([...withPort, `http://127.0.0.1:${trusted}/client`])).status, 200);
  });

  it('reads X-Forwarded-For lines as one list, as Traefik joins them, and sends one line on', async () => {
    // Traefik's entry point (forwardedheaders rewrite) joins the lines with ", "; its
    // DepthStrategy then counts from the right of the whole list.
    const lines = ['-H', 'X-Forwarded-For: 203.0.113.5', '-H', 'X-Forwarded-For: 198.51.100.7'];
    assert.equal((await curl([...lines, `http://127.0.0.1:${trusted}/second`])).status, 200);
    assert.equal((await curl([...lines, `http://127.0.0.1:${trusted}/client`])).status, 403);
    const seen = backend.seen.at(-1)!;
    assert.equal(seen.url, '/second');
    const xff = [];
    for (let i = 0; i < seen.rawHeaders.length; i += 2)
      if (seen.rawHeaders[i]!.toLowerCase() === 'x-forwarded-for') xff.push(seen.rawHeaders[i + 1]);
    assert.deepEqual(xff, ['203.0.113.5, 198.51.100.7, 127.0.0.1']);
  });

  it('counts an empty X-Forwarded-For entry at its depth: no address there, refused', async () => {
    // pkg/ip DepthStrategy: strings.Split on "," keeps the empty entry; at depth 2 it is "".
    const empty = ['-H', 'X-Forwarded-For: 203.0.113.5, , 198.51.100.7'];
    assert.equal((await curl([...empty, `http://127.0.0.1:${trusted}/second`])).status, 403);
    const full = ['-H', 'X-Forwarded-For: 198.51.100.9, 203.0.113.5, 198.51.100.7'];
    assert.equal((await curl([...full, `http://127.0.0.1:${trusted}/second`])).status, 200);
  });

  it("takes an IPv6 zone on an address and ignores it, as Traefik's ip checker (netip, canonicalAddr)", async () => {
    // pkg/ip/checker.go: netip.ParseAddr takes `fe80::1%eth0`, and both sides are compared
    // without their zone. Both the zoned sourceRange and the ClientIP rule were refused here.
    const from = async (xff: string, path: string) =>
      (await curl(['-H', `X-Forwarded-For: ${xff}`, `http://127.0.0.1:${trusted}${path}`])).status;
    assert.equal(await from('fe80::1', '/zoned'), 200);
    assert.equal(await from('fe80::1%eth9', '/zoned'), 200);
    assert.equal(await from('fe80::2%eth0', '/zoned'), 403);
    // An empty zone is no address to Go's ParseAddr.
    assert.equal(await from('fe80::1%', '/zoned'), 403);
    assert.equal(await from('fe80::abcd%eth0', '/link-local'), 200);
    assert.equal((await curl([`http://127.0.0.1:${web}/zoned-rule`])).status, 200);
  });

  it('refuses encoded characters the middleware does not allow, with 400', async () => {
    const args = ['--path-as-is'];
    assert.equal((await curl([...args, `http://127.0.0.1:${web}/plain/a%2Fb`])).status, 200);
    const refused = await curl([...args, `http://127.0.0.1:${web}/strict/a%2Fb`]);
    assert.equal(refused.status, 400);
    assert.equal(refused.bodyBytes, 0);
    assert.equal((await curl([...args, `http://127.0.0.1:${web}/slash/a%2Fb`])).status, 200);
    assert.equal((await curl([...args, `http://127.0.0.1:${web}/strict/a%20b`])).status, 200);
    assert.equal(backend.seen.at(-1)?.url, '/strict/a%20b');
  });
});
