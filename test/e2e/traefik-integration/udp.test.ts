/**
 * Traefik's integration/udp_test.go (v3 branch) run against our proxy; each test names the Go
 * test it follows. Fixtures are integration/fixtures/udp/*.toml adapted by ./fixture-tcp.ts (UDP
 * entry points moved to 127.0.0.1:0 too; `{{ .WhoamiAIP }}:8080` written as the whole address),
 * the compose file's traefik/whoamiudp containers ./fixture-tcp.ts's stand-ins.
 *
 * Left out: the index's other versions of udp_test.go come from pull requests not merged in a
 * release (TestMiddlewareAllowList: UDP middlewares, #8642; TestProxyProtocol and
 * TestProxyProtocolMultiplePackets: PROXY protocol on UDP entry points, #12224; TestDTLS: DTLS on
 * UDP routers, #13844). Released Traefik v3 has TestWRR only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { httpRequest } from '../../helpers/http-request.ts';
import { udpAsk } from '../../helpers/l4.ts';
import type { ProxyProcess } from '../../helpers/proxy-process.ts';
import { startWhoami } from './fixture.ts';
import { startL4Fixture, startWhoamiUdp, type UdpBackend } from './fixture-tcp.ts';

const open: { close(): Promise<unknown> }[] = [];
function track<T extends { close(): Promise<unknown> } | ProxyProcess>(x: T): T {
  open.push('stop' in x ? { close: () => x.stop() } : x);
  return x;
}
after(async () => {
  for (const x of open.reverse()) await x.close();
});

/** The compose file's services (integration/resources/compose/udp.yml). */
let whoamiA: UdpBackend;
let whoamiB: UdpBackend;
let whoamiC: UdpBackend;

before(async () => {
  whoamiA = track(await startWhoamiUdp('whoami-a'));
  whoamiB = track(await startWhoamiUdp('whoami-b'));
  whoamiC = track(await startWhoamiUdp('whoami-c'));
});

const addr = (b: UdpBackend): string => `127.0.0.1:${b.port}`;

/** The Go test's guessWhoUDP: `WHO` from a fresh socket, the first answer (`<timeout>` after 2 s). */
const guessWhoUDP = (port: number): Promise<string> => udpAsk(port, 'WHO', 2_000);

describe('traefik integration/udp_test.go', () => {
  // integration/fixtures/udp/wrr.toml
  it('TestWRR: 8 sessions over weighted 3:1 services, the first of two servers: a 3, b 2, c 3', async () => {
    const whoamiD = track(await startWhoami('whoami-d'));
    const p = track(
      await startL4Fixture(
        `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[entryPoints]
  [entryPoints.udp]
    address = ":8093/udp"
  [entryPoints.web]
    address = ":8093"

[api]
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

## dynamic configuration ##
[udp]
  [udp.routers]
    [udp.routers.to-whoami-a]
      service = "whoami"
      entryPoints = [ "udp" ]

    [[udp.services.whoami.weighted.services]]
        name="whoami-a"
        weight=3
    [[udp.services.whoami.weighted.services]]
        name="whoami-b"
        weight=1

    [udp.services.whoami-a.loadBalancer]
      [[udp.services.whoami-a.loadBalancer.servers]]
        address = "{{ .WhoamiA }}"
      [[udp.services.whoami-a.loadBalancer.servers]]
        address = "{{ .WhoamiC }}"

    [udp.services.whoami-b.loadBalancer]
      [[udp.services.whoami-b.loadBalancer.servers]]
        address = "{{ .WhoamiB }}"

[http]
  [http.routers]
    [http.routers.to-whoami-d]
      service = "whoami"
      entryPoints = [ "web" ]
      rule = "PathPrefix(\`/who\`)"

    [http.services.whoami.loadBalancer]
      [[http.services.whoami.loadBalancer.servers]]
        url = "{{ .WhoamiD }}"
`,
        { WhoamiA: addr(whoamiA), WhoamiB: addr(whoamiB), WhoamiC: addr(whoamiC), WhoamiD: whoamiD.url },
      ),
    );
    assert.equal((await httpRequest(p.ports.web!, { path: '/who' })).status, 200);
    const call: Record<string, number> = {};
    for (let i = 0; i < 8; i++) {
      const out = await guessWhoUDP(p.ports.udp!);
      const who = /^Name: (whoami-[abc])\n/.exec(out)?.[1] ?? 'unknown';
      call[who] = (call[who] ?? 0) + 1;
    }
    assert.deepEqual(call, { 'whoami-a': 3, 'whoami-b': 2, 'whoami-c': 3 });
  });
});
