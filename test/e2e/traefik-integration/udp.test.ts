/**
 * Traefik's integration/udp_test.go (v3 branch) run against our proxy; each test names the Go
 * test it follows. Fixtures are integration/fixtures/udp/*.toml adapted by ./fixture-tcp.ts (UDP
 * entry points moved to 127.0.0.1:0 too; `{{ .WhoamiAIP }}:8080` written as the whole address),
 * the compose file's traefik/whoamiudp containers ./fixture-tcp.ts's stand-ins.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { httpRequest } from '../../helpers/http-request.ts';
import { udpAsk } from '../../helpers/l4.ts';
import type { ProxyProcess } from '../../helpers/proxy-process.ts';
import { TestPki } from '../../helpers/tls-certs.ts';
import { toolPath } from '../../helpers/tools.ts';
import { startWhoami } from './fixture.ts';
import { proxyProtocolHeader, startL4Fixture, startWhoamiUdp, type UdpBackend } from './fixture-tcp.ts';

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

/**
 * The Go tests' proxyProtoUDPRequest(MultiPacket): from one socket, `packets` datagrams `WHO`, the
 * first behind a PROXY v2 header declaring 1.2.3.4:54321; each answer in turn.
 */
async function proxyProtoUDPRequest(port: number, packets: number): Promise<string[]> {
  const s = createSocket('udp4');
  const answers: string[] = [];
  try {
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
    const header = proxyProtocolHeader(
      2,
      'udp',
      { ip: '1.2.3.4', port: 54321 },
      { ip: '127.0.0.1', port: 8080 },
    );
    for (let i = 0; i < packets; i++) {
      const got = once(s, 'message') as Promise<[Buffer]>;
      const timer = setTimeout(() => s.emit('message', Buffer.from('<timeout>')), 2_000);
      s.send(i === 0 ? Buffer.concat([header, Buffer.from('WHO')]) : Buffer.from('WHO'), port, '127.0.0.1');
      const [reply] = await got;
      clearTimeout(timer);
      answers.push(reply.toString('latin1'));
    }
  } finally {
    s.close();
  }
  return answers;
}

const PROXY_PROTOCOL_FIXTURE = `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"
  noColor = true

[entryPoints]
  [entryPoints.udp-trusted]
    address = ":8093/udp"
    [entryPoints.udp-trusted.udp]
      [entryPoints.udp-trusted.udp.proxyProtocol]
        trustedIPs = ["127.0.0.1"]

  [entryPoints.udp-nottrusted]
    address = ":8094/udp"
    [entryPoints.udp-nottrusted.udp]
      [entryPoints.udp-nottrusted.udp.proxyProtocol]
        trustedIPs = ["1.2.3.4"]

[api]
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

## dynamic configuration ##
[udp]
  [udp.routers]
    [udp.routers.to-whoami-trusted]
      service = "whoami"
      entryPoints = [ "udp-trusted" ]

    [udp.routers.to-whoami-nottrusted]
      service = "whoami"
      entryPoints = [ "udp-nottrusted" ]

  [udp.services.whoami.loadBalancer]
    [[udp.services.whoami.loadBalancer.servers]]
      address = "{{ .WhoamiA }}"
`;

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

  // integration/fixtures/udp/ip-allowlist.toml
  it('TestMiddlewareAllowList: a UDP ipAllowList drops the datagrams of a client outside sourceRange', {
    todo: 'UDP middlewares (udp.middlewares, a UDP router’s middlewares) are not supported here',
  }, async () => {
    const p = track(
      await startL4Fixture(
        `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"

[entryPoints]
  [entryPoints.udp-a]
    address = ":8093/udp"
  [entryPoints.udp-b]
    address = ":8094/udp"

[api]
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

## dynamic configuration ##

[udp]
  [udp.routers]
    [udp.routers.to-whoami-a]
      entryPoints = ["udp-a"]
      service = "whoami-a"
      middlewares = ["blocking-ipallowlist"]

    [udp.routers.to-whoami-b]
      entryPoints = ["udp-b"]
      service = "whoami-b"
      middlewares = ["allowing-ipallowlist"]

  [udp.services]
    [udp.services.whoami-a.loadBalancer]
      [[udp.services.whoami-a.loadBalancer.servers]]
        address = "{{ .WhoamiA }}"

    [udp.services.whoami-b.loadBalancer]
      [[udp.services.whoami-b.loadBalancer.servers]]
        address = "{{ .WhoamiB }}"

  [udp.middlewares]
    [udp.middlewares.allowing-ipallowlist.ipAllowList]
      sourceRange = ["127.0.0.1/32"]
    [udp.middlewares.blocking-ipallowlist.ipAllowList]
      sourceRange = ["127.127.127.127/32"]
`,
        { WhoamiA: addr(whoamiA), WhoamiB: addr(whoamiB) },
      ),
    );
    const receivedA = whoamiA.received.length;
    assert.equal(await guessWhoUDP(p.ports['udp-a']!), '<timeout>');
    assert.equal(whoamiA.received.length, receivedA, 'whoami-a got nothing');
    assert.match(await guessWhoUDP(p.ports['udp-b']!), /whoami-b/);
  });

  // integration/fixtures/udp/proxyprotocol.toml
  it('TestProxyProtocol: a PROXY v2 header from a trusted peer is taken off; from another, forwarded as data', {
    todo: 'PROXY protocol on UDP entry points (entryPoints.<n>.udp.proxyProtocol) is not supported here',
  }, async () => {
    const p = track(await startL4Fixture(PROXY_PROTOCOL_FIXTURE, { WhoamiA: addr(whoamiA) }));
    const [trusted] = await proxyProtoUDPRequest(p.ports['udp-trusted']!, 1);
    assert.match(trusted!, /whoami-a/);
    // Not trusted: the header stays in the datagram, which the server echoes.
    const [untrusted] = await proxyProtoUDPRequest(p.ports['udp-nottrusted']!, 1);
    assert.match(untrusted!, /^Received: /);
  });

  it('TestProxyProtocolMultiplePackets: the datagrams after the first, without a header, stay in its session', {
    todo: 'PROXY protocol on UDP entry points (entryPoints.<n>.udp.proxyProtocol) is not supported here',
  }, async () => {
    const p = track(await startL4Fixture(PROXY_PROTOCOL_FIXTURE, { WhoamiA: addr(whoamiA) }));
    const answers = await proxyProtoUDPRequest(p.ports['udp-trusted']!, 3);
    assert.equal(answers.length, 3);
    for (const [i, a] of answers.entries()) assert.match(a, /whoami-a/, `packet ${i + 1}`);
  });

  // integration/fixtures/udp/dtls.toml; the Go test's DTLS client is `openssl s_client -dtls`.
  it('TestDTLS: a UDP router with tls terminates DTLS with the certificate of the SNI', {
    todo: 'DTLS on UDP routers (udp.routers.<n>.tls) is not supported here: node has no DTLS',
  }, async () => {
    const pki = new TestPki('dtls CA');
    const cert = pki.issue('dtls.local', ['dtls.local']);
    try {
      const p = track(
        await startL4Fixture(
          `[global]
  checkNewVersion = false
  sendAnonymousUsage = false

[log]
  level = "DEBUG"
  noColor = true

[entryPoints]
  [entryPoints.dtls]
    address = ":8094/udp"

[api]
  insecure = true

[providers.file]
  filename = "{{ .SelfFilename }}"

## dynamic configuration ##
[udp.routers]
  [udp.routers.to-whoami-a]
    service = "whoami-a"
    entryPoints = [ "dtls" ]
    [udp.routers.to-whoami-a.tls]

[udp.services]
  [udp.services.whoami-a.loadBalancer]
    [[udp.services.whoami-a.loadBalancer.servers]]
      address = "{{ .WhoamiA }}"

[[tls.certificates]]
  certFile = "fixtures/udp/dtls.crt"
  keyFile = "fixtures/udp/dtls.key"
`,
          { WhoamiA: addr(whoamiA) },
          { files: { 'fixtures/udp/dtls.crt': cert.certPem, 'fixtures/udp/dtls.key': cert.keyPem } },
        ),
      );
      const out = await dtlsWho(p.ports.dtls!, 'dtls.local');
      assert.match(out, /whoami-a/);
      assert.match(out, /subject=.*CN ?= ?dtls\.local/);
    } finally {
      pki.remove();
    }
  });
});

/** `WHO` over DTLS with openssl s_client; its whole output (the peer certificate's subject, the answer). */
function dtlsWho(port: number, servername: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(
      toolPath('openssl'),
      ['s_client', '-dtls', '-connect', `127.0.0.1:${port}`, '-servername', servername, '-ign_eof'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    const add = (d: Buffer): void => {
      out += d.toString('latin1');
      if (/Name: /.test(out)) child.kill('SIGKILL');
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    child.stdin.on('error', () => {});
    child.stdin.write('WHO\n');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}
