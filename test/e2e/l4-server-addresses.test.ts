/**
 * TCP and UDP server addresses as Traefik v3 reads them (pkg/server/service/tcp/service.go
 * BuildTCP, udp/service.go BuildUDP): a server whose address does not split into host and port
 * is left out with an error log, and its service is built with the others (no error on the
 * service: status enabled); the port of one that splits is read when dialling, as Go's dial reads
 * it: a number or a service name (Go's net.LookupPort: /etc/services, then Go's built-in table),
 * a name neither knows failing each connection. Real sockets on loopback; the named ports are
 * bound on a random 127.x.y.z address (skipped when it cannot be bound).
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { L4ServiceView } from '../../src/admin/l4-views.ts';
import { startEchoServer, type TcpBackend, tcpExchange } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { runCli } from '../helpers/run-cli.ts';
import { waitForLogFrom, within } from '../helpers/wait.ts';

async function udpEcho(port: number, host: string): Promise<UdpSocket> {
  const s = createSocket('udp4');
  s.on('message', (m, r) => s.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
  const bound = once(s, 'listening');
  const failed = once(s, 'error');
  s.bind(port, host);
  await Promise.race([bound, failed.then(([e]) => Promise.reject(e))]);
  return s;
}

async function tcpEcho(port: number, host: string): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => s.write(d));
    s.on('end', () => s.end());
  });
  const bound = once(server, 'listening');
  const failed = once(server, 'error');
  server.listen(port, host);
  await Promise.race([bound, failed.then(([e]) => Promise.reject(e))]);
  return server;
}

/** One datagram through the proxy and its answer (bounded). */
async function udpRoundTrip(port: number, text: string): Promise<string> {
  const client = createSocket('udp4');
  try {
    const reply = once(client, 'message') as Promise<[Buffer]>;
    client.send(text, port, '127.0.0.1');
    const [m] = await within(reply, `a UDP answer to ${text}`);
    return m.toString();
  } finally {
    client.close();
  }
}

/** A connection the proxy closes without a byte from a server: resolves with what came back. */
function closedAtOnce(port: number): Promise<number> {
  const c = connect(port, '127.0.0.1');
  c.on('error', () => {});
  c.write('hello');
  let n = 0;
  c.on('data', (d: Buffer) => {
    n += d.length;
  });
  // Not once(c, 'close'): it rejects on the reset a close with 'hello' unread may send.
  return within(
    new Promise<number>((resolve) => c.on('close', () => resolve(n))),
    'the proxy to close the connection',
  );
}

/** A name for `port`/`network` in this machine's /etc/services, or undefined. */
function serviceName(name: string, port: number, network: 'tcp' | 'udp'): string | undefined {
  let text = '';
  try {
    text = readFileSync('/etc/services', 'utf8');
  } catch {
    return undefined;
  }
  return new RegExp(`^${name}\\s+${port}/${network}\\b`, 'm').test(text) ? name : undefined;
}

describe('TCP/UDP server addresses: unsplittable ones left out, ports given as service names', () => {
  // A loopback address of our own for the fixed ports the names stand for.
  const host = `127.${randomInt(1, 255)}.${randomInt(1, 255)}.${randomInt(2, 255)}`;
  let echo: TcpBackend;
  let dgram: UdpSocket;
  const named: { gopher?: Server; postgresql?: Server; domain?: UdpSocket } = {};
  const skipped: Record<string, string> = {};
  let proxy: ProxyProcess;
  let dynamic: string;

  before(async () => {
    echo = await startEchoServer();
    dgram = await udpEcho(0, '127.0.0.1');
    // `gopher` (70/tcp) and `domain` (53/udp) are in Go's built-in table and in /etc/services;
    // `postgresql` (5432/tcp) in /etc/services only.
    for (const [key, make] of [
      ['gopher', () => tcpEcho(70, host)],
      ['postgresql', () => tcpEcho(5432, host)],
      ['domain', () => udpEcho(53, host)],
    ] as const) {
      try {
        (named as Record<string, unknown>)[key] = await make();
      } catch (e) {
        skipped[key] = `cannot bind the port ${key} names on ${host}: ${(e as Error).message}`;
      }
    }
    if (serviceName('postgresql', 5432, 'tcp') === undefined)
      skipped['postgresql'] ??= '/etc/services has no postgresql 5432/tcp line here';
    dynamic = `tcp:
  routers:
    mixed: { entryPoints: [mixed], rule: "HostSNI(\`*\`)", service: mixed }
    allbad: { entryPoints: [allbad], rule: "HostSNI(\`*\`)", service: allbad }
    gopher: { entryPoints: [gopher], rule: "HostSNI(\`*\`)", service: gopher }
    pg: { entryPoints: [pg], rule: "HostSNI(\`*\`)", service: pg }
    unknown: { entryPoints: [unknown], rule: "HostSNI(\`*\`)", service: unknown }
  services:
    mixed:
      loadBalancer:
        servers: [{ address: "10.0.0.1" }, { address: "a:b:1" }, { address: "${echo.address}" }]
    allbad: { loadBalancer: { servers: [{ address: "10.0.0.1" }] } }
    gopher: { loadBalancer: { servers: [{ address: "${host}:gopher" }] } }
    pg: { loadBalancer: { servers: [{ address: "${host}:PostgreSQL" }] } }
    unknown: { loadBalancer: { servers: [{ address: "127.0.0.1:nosuchservice" }] } }
udp:
  routers:
    dmixed: { entryPoints: [dmixed], service: dmixed }
    domain: { entryPoints: [domain], service: domain }
  services:
    dmixed:
      loadBalancer:
        servers: [{ address: "10.0.0.1" }, { address: "127.0.0.1:${dgram.address().port}" }]
    domain: { loadBalancer: { servers: [{ address: "${host}:domain" }] } }
`;
    proxy = await startProxy({
      config: `entryPoints:
  mixed:
    address: "127.0.0.1:0"
  allbad:
    address: "127.0.0.1:0"
  gopher:
    address: "127.0.0.1:0"
  pg:
    address: "127.0.0.1:0"
  unknown:
    address: "127.0.0.1:0"
  dmixed:
    address: "127.0.0.1:0/udp"
  domain:
    address: "127.0.0.1:0/udp"
  traefik:
    address: "127.0.0.1:0"
api: {}
log: { level: DEBUG }
providers:
  file: { filename: dynamic.yaml }
`,
      files: { 'dynamic.yaml': dynamic },
    });
  });

  after(async () => {
    await proxy?.stop();
    await echo?.close();
    dgram?.close();
    named.gopher?.close();
    named.postgresql?.close();
    named.domain?.close();
  });

  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`http://127.0.0.1:${proxy.ports['traefik']}/api/${path}`);
    assert.equal(r.status, 200, path);
    return (await r.json()) as T;
  };

  it('warns, located and naming the server, for each address that does not split; no error', () => {
    const issues = proxy.logs
      .filter((l) => l.msg === 'configuration warning' || l.msg === 'configuration error')
      .map((l) => `${l.msg}: ${String(l['issue'])}`);
    assert.equal(issues.filter((i) => i.startsWith('configuration error')).length, 0, issues.join('\n'));
    const left = issues.filter((i) => i.includes('is left out of its service'));
    assert.equal(left.length, 4, left.join('\n'));
    for (const [where, server] of [
      ['tcp.services.mixed.loadBalancer.servers[0].address', '10.0.0.1'],
      ['tcp.services.mixed.loadBalancer.servers[1].address', 'a:b:1'],
      ['tcp.services.allbad.loadBalancer.servers[0].address', '10.0.0.1'],
      ['udp.services.dmixed.loadBalancer.servers[0].address', '10.0.0.1'],
    ] as const) {
      assert.ok(
        left.some((i) => i.includes(where) && i.includes(`server \`${server}\``)),
        `${where}: ${left.join('\n')}`,
      );
    }
    assert.match(
      left.join('\n'),
      /dynamic\.yaml:\d+:\d+: warning: tcp\.services\.mixed\.loadBalancer\.servers\[1\]\.address: server `a:b:1` is left out/,
    );
    assert.ok(
      issues.some((i) =>
        i.includes('tcp.services.allbad.loadBalancer.servers: no server of this service is left'),
      ),
    );
  });

  it('serves a TCP service through its server that splits, the service enabled as in Traefik', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await tcpExchange(proxy.ports['mixed']!, `hello ${i}`, { endAfter: `hello ${i}` });
      assert.equal(r.data.toString(), `hello ${i}`);
    }
    const svc = await api<L4ServiceView & { error?: unknown }>('tcp/services/mixed@file');
    assert.equal(svc.status, 'enabled');
    assert.equal(svc.error, undefined);
    assert.deepEqual(svc.serverStatus, { [echo.address]: 'UP' });
  });

  it('closes the connections of a TCP service none of whose servers splits; the service is enabled', async () => {
    assert.equal(await closedAtOnce(proxy.ports['allbad']!), 0);
    const svc = await api<L4ServiceView & { error?: unknown }>('tcp/services/allbad@file');
    assert.equal(svc.status, 'enabled');
    assert.equal(svc.error, undefined);
  });

  it('serves a UDP service through its server that splits', async () => {
    assert.equal(await udpRoundTrip(proxy.ports['dmixed']!, 'ping'), 'echo:ping');
    const svc = await api<L4ServiceView & { error?: unknown }>('udp/services/dmixed@file');
    assert.equal(svc.status, 'enabled');
    assert.equal(svc.error, undefined);
  });

  it("dials the port a name has in Go's table and /etc/services (gopher, 70/tcp)", async (t) => {
    if (skipped['gopher'] !== undefined) return t.skip(skipped['gopher']);
    const r = await tcpExchange(proxy.ports['gopher']!, 'gopher?', { endAfter: 'gopher?' });
    assert.equal(r.data.toString(), 'gopher?');
  });

  it('dials the port a name has in /etc/services only, its case aside (PostgreSQL, 5432/tcp)', async (t) => {
    if (skipped['postgresql'] !== undefined) return t.skip(skipped['postgresql']);
    const r = await tcpExchange(proxy.ports['pg']!, 'select 1', { endAfter: 'select 1' });
    assert.equal(r.data.toString(), 'select 1');
  });

  it('sends UDP to the port a name has for udp (domain, 53/udp)', async (t) => {
    if (skipped['domain'] !== undefined) return t.skip(skipped['domain']);
    assert.equal(await udpRoundTrip(proxy.ports['domain']!, 'query'), 'echo:query');
  });

  it("closes each connection to a port name no table knows, with Go's lookup error", async () => {
    const from = proxy.logs.length;
    assert.equal(await closedAtOnce(proxy.ports['unknown']!), 0);
    const l = await waitForLogFrom(proxy, from, (x) => x.msg === 'TCP server unreachable');
    assert.equal(l['error'], 'lookup tcp/nosuchservice: unknown port');
  });

  it('`traffic validate` shows the addresses that do not split as located warnings and exits 0', async () => {
    const r = await runCli(['validate', '--config', proxy.configPath], { cwd: proxy.dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /dynamic\.yaml:\d+:\d+: warning: tcp\.services\.mixed\.loadBalancer\.servers\[0\]\.address: server `10\.0\.0\.1` is left out of its service/,
    );
    assert.match(r.stdout, /warning: udp\.services\.dmixed\.loadBalancer\.servers\[0\]\.address/);
  });
});
