/**
 * A TCP router with a named HostSNI and no `tls`: Traefik's TCP manager records `invalid rule: "R"
 * , has HostSNI matcher, but no TLS on router` (the router shows `disabled`) but still adds its
 * route to the cleartext muxer, with no `continue` (pkg/server/router/tcp/manager.go
 * addTCPHandlers). The HostSNI never matches a cleartext connection (no server name,
 * pkg/muxer/tcp/matcher.go hostSNI); the rest of the rule still routes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('TCP: a named HostSNI without tls', () => {
  let proxy: ProxyProcess;
  let echo: TcpBackend;
  before(async () => {
    echo = await startEchoServer();
    proxy = await startProxy({
      config: `entryPoints:
  tcpep:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
tcp:
  routers:
    named:
      entryPoints: [tcpep]
      rule: "HostSNI(\`db.test\`) || ClientIP(\`127.0.0.1\`)"
      service: echo
  services:
    echo:
      loadBalancer:
        servers: [{ address: "${echo.address}" }]
    unusedbad:
      weighted: { services: [{ name: nowhere }] }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await echo?.close();
  });

  it("shows the router disabled with Traefik's error, and routes what the rest of its rule matches", async () => {
    const r = (await (
      await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/tcp/routers/named@file`)
    ).json()) as Record<string, unknown>;
    assert.equal(r['status'], 'disabled');
    assert.deepEqual(r['error'], [
      'invalid rule: "HostSNI(`db.test`) || ClientIP(`127.0.0.1`)" , has HostSNI matcher, but no TLS on router',
    ]);
    const got = await tcpExchange(proxy.ports['tcpep']!, 'hello', { untilData: 'hello', ms: 5_000 });
    assert.equal(got.data.toString('latin1'), 'hello');
  });

  it('shows a broken TCP service no router uses enabled, without error (Traefik never builds it)', async () => {
    const s = (await (
      await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/tcp/services/unusedbad@file`)
    ).json()) as Record<string, unknown>;
    assert.equal(s['status'], 'enabled');
    assert.equal(s['error'], undefined);
    assert.ok(
      (s['issues'] as string[]).some((i) => i.includes('nowhere')),
      JSON.stringify(s),
    );
  });
});
