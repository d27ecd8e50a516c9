/**
 * A TCP or UDP router that names an entry point which does not exist still serves the ones that
 * do, as Traefik's GetTCPRoutersByEntryPoints and GetUDPRoutersByEntryPoints
 * (pkg/config/runtime/runtime_tcp.go, runtime_udp.go) record a non-critical error per missing
 * entry point and disable the router only when none is left.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { startEchoServer, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';

describe('TCP and UDP routers naming an entry point that does not exist', () => {
  let echo: TcpBackend;
  let udpEcho: ReturnType<typeof createSocket>;
  let proxy: ProxyProcess;

  before(async () => {
    echo = await startEchoServer();
    udpEcho = createSocket('udp4');
    udpEcho.on('message', (msg, r) =>
      udpEcho.send(Buffer.concat([Buffer.from('udp '), msg]), r.port, r.address),
    );
    udpEcho.bind(0, '127.0.0.1');
    await once(udpEcho, 'listening');
    proxy = await startProxy({
      config: `entryPoints:
  tcp:
    address: "127.0.0.1:0"
  dgram:
    address: "127.0.0.1:0/udp"
tcp:
  routers:
    r: { rule: "HostSNI(\`*\`)", service: s, entryPoints: [tcp, typo] }
    gone: { rule: "HostSNI(\`*\`)", service: s, entryPoints: [typo] }
  services:
    s: { loadBalancer: { servers: [{ address: "127.0.0.1:${echo.port}" }] } }
udp:
  routers:
    u: { service: u, entryPoints: [dgram, typo] }
  services:
    u: { loadBalancer: { servers: [{ address: "127.0.0.1:${udpEcho.address().port}" }] } }
`,
    });
  });
  after(async () => {
    await proxy?.stop();
    await echo?.close();
    udpEcho?.close();
  });

  it('serves the TCP router on the entry point that exists', async () => {
    const r = await tcpExchange(proxy.ports['tcp']!, 'ping', { untilData: 'ping', ms: 5_000 });
    assert.equal(r.data.toString(), 'ping');
  });

  it('serves the UDP router on the entry point that exists', async () => {
    const s = createSocket('udp4');
    const got = once(s, 'message') as Promise<[Buffer]>;
    s.send('ping', proxy.ports['dgram']!, '127.0.0.1');
    const timer = setTimeout(() => s.emit('message', Buffer.from('<timeout>')), 5_000);
    const [reply] = await got;
    clearTimeout(timer);
    s.close();
    assert.equal(reply.toString(), 'udp ping');
  });

  it('still refuses a router left with no entry point', () => {
    const issues = proxy.logs.map((l) => String(l['issue'] ?? l['msg']));
    assert.ok(
      issues.some((i) => /tcp\.routers\.gone\.entryPoints\[0\]: entry point `typo` does not exist/.test(i)),
      JSON.stringify(issues),
    );
  });
});
