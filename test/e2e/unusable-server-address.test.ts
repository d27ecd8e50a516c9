/**
 * A TCP or UDP server address whose host no dial can use (a `${PROXY_DOMAIN}` placeholder left
 * in): Traefik v3 only splits it into host and port when it builds the service (BuildTCP and
 * BuildUDP, pkg/server/service/tcp and udp service.go) and fails when dialling. The proxy starts,
 * warns, serves everything else, and closes what reaches that server; the name is never looked up.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { waitForLogFrom } from '../helpers/wait.ts';

describe('a TCP/UDP server address with an unusable host', () => {
  let echo: Server;
  let proxy: ProxyProcess;

  before(async () => {
    echo = createServer({ allowHalfOpen: false }, (s) => s.pipe(s));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    const port = (echo.address() as { port: number }).port;
    proxy = await startProxy({
      config: `entryPoints:
  good:
    address: "127.0.0.1:0"
  bad:
    address: "127.0.0.1:0"
  factorio:
    address: "127.0.0.1:0/udp"
log: { level: DEBUG }
tcp:
  routers:
    good: { entryPoints: [good], rule: "HostSNI(\`*\`)", service: good }
    bad: { entryPoints: [bad], rule: "HostSNI(\`*\`)", service: bad }
  services:
    good: { loadBalancer: { servers: [{ address: "127.0.0.1:${port}" }] } }
    bad: { loadBalancer: { servers: [{ address: "lab1.\${PROXY_DOMAIN}:34197" }] } }
udp:
  routers:
    factorio: { entryPoints: [factorio], service: factorio }
  services:
    factorio: { loadBalancer: { servers: [{ address: "lab1.\${PROXY_DOMAIN}:34197" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop();
    echo?.close();
  });

  it('loads with a located warning for each, and the other router serves', async () => {
    const warned = proxy.logs
      .filter((l) => l.msg === 'configuration warning')
      .map((l) => String(l['issue']))
      .filter((i) => i.includes('no connection can be made to this address'));
    assert.equal(warned.length, 2, JSON.stringify(warned));
    assert.match(
      warned.join('\n'),
      /:\d+:\d+: warning: tcp\.services\.bad\.loadBalancer\.servers\[0\]\.address/,
    );
    assert.match(warned.join('\n'), /udp\.services\.factorio\.loadBalancer\.servers\[0\]\.address/);
    const c = connect(proxy.ports['good']!, '127.0.0.1');
    c.write('ping');
    const [d] = (await Promise.race([
      once(c, 'data'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no echo within 5 s')), 5_000)),
    ])) as [Buffer];
    c.destroy();
    assert.equal(d.toString(), 'ping');
  });

  it('closes a TCP connection sent to that server at once, as a dial error, without a lookup', async () => {
    const from = proxy.logs.length;
    const c = connect(proxy.ports['bad']!, '127.0.0.1');
    c.on('error', () => {});
    c.write('hello');
    const chunks: Buffer[] = [];
    c.on('data', (d: Buffer) => chunks.push(d));
    // Not once(c, 'close'): it rejects on the reset a close with 'hello' unread may send.
    await new Promise<void>((resolve) => c.on('close', () => resolve()));
    assert.equal(Buffer.concat(chunks).length, 0);
    const l = await waitForLogFrom(proxy, from, (x) => x.msg === 'TCP server unreachable');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder left unexpanded, the case
    assert.equal(l['error'], 'lookup lab1.${PROXY_DOMAIN}: no such host');
  });

  it('ends a UDP session to that server at once', async () => {
    const from = proxy.logs.length;
    const s = createSocket('udp4');
    s.send('x', proxy.ports['factorio']!, '127.0.0.1');
    const l = await waitForLogFrom(proxy, from, (x) => x.msg === 'UDP server unreachable');
    s.close();
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a placeholder left unexpanded, the case
    assert.equal(l['error'], 'lookup lab1.${PROXY_DOMAIN}: no such host');
  });
});
