/**
 * UDP entry points through the real proxy: dig against a DNS-style server behind it, socat and
 * node dgram clients against an echo server, sessions per client address, the one-router-per-
 * entry-point rule, a server that is gone, and session counts back to zero.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { metricSample, requireTool } from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { run } from '../helpers/tls-certs.ts';

interface UdpServer {
  readonly socket: Socket;
  readonly port: number;
  /** Client addresses (ip:port) the server saw. */
  readonly peers: Set<string>;
  close(): Promise<void>;
}

async function udpServer(handle: (msg: Buffer) => Buffer): Promise<UdpServer> {
  const socket = createSocket('udp4');
  const peers = new Set<string>();
  socket.on('message', (msg, r) => {
    peers.add(`${r.address}:${r.port}`);
    socket.send(handle(msg), r.port, r.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return {
    socket,
    port: socket.address().port,
    peers,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** Answers any DNS query with one A record, 10.20.30.40 (the question copied, QR and RA set). */
function dnsAnswer(q: Buffer): Buffer {
  const head = Buffer.from(q);
  head[2] = head[2]! | 0x80; // QR: a response
  head[3] = 0x80; // RA, RCODE 0
  head.writeUInt16BE(1, 6); // ANCOUNT
  head.writeUInt16BE(0, 8);
  head.writeUInt16BE(0, 10);
  // Question section ends at the name's zero byte + 4 (type, class); drop any additional records.
  let p = 12;
  while (head[p] !== 0) p += head[p]! + 1;
  const question = head.subarray(0, p + 5);
  const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 20, 30, 40]);
  return Buffer.concat([question, answer]);
}

/** Sends `msg` from a fresh socket (a new client address) and resolves with the first reply. */
async function ask(port: number, msg: string, from?: Socket): Promise<string> {
  const s = from ?? createSocket('udp4');
  const got = once(s, 'message') as Promise<[Buffer]>;
  s.send(msg, port, '127.0.0.1');
  const timer = setTimeout(() => s.emit('message', Buffer.from('<timeout>')), 5_000);
  const [reply] = await got;
  clearTimeout(timer);
  if (from === undefined) s.close();
  return reply.toString();
}

describe('UDP entry points', () => {
  let dns: UdpServer;
  let echo: UdpServer;
  let zeta: UdpServer;
  let gone: UdpServer;
  let proxy: ProxyProcess;

  before(async () => {
    requireTool('/usr/bin/dig', 'bind9-dnsutils');
    requireTool('/usr/bin/socat', 'socat');
    dns = await udpServer(dnsAnswer);
    echo = await udpServer((m) => Buffer.concat([Buffer.from('echo:'), m]));
    zeta = await udpServer((m) => Buffer.concat([Buffer.from('zeta:'), m]));
    gone = await udpServer((m) => m);
    const gonePort = gone.port;
    await gone.close();
    proxy = await startProxy({
      config: `entryPoints:
  dns:
    address: "127.0.0.1:0/udp"
    udp: { timeout: 500ms }
  echo:
    address: "127.0.0.1:0/udp"
    udp: { timeout: 500ms }
  two:
    address: "127.0.0.1:0/udp"
    udp: { timeout: 500ms }
  gone:
    address: "127.0.0.1:0/udp"
    udp: { timeout: 500ms }
  traefik:
    address: "127.0.0.1:0"
log: { level: DEBUG }
api: {}
metrics: { prometheus: {} }
udp:
  routers:
    dns: { entryPoints: [dns], service: dns }
    echo: { entryPoints: [echo], service: echo }
    alpha: { entryPoints: [two], service: echo }
    zeta: { entryPoints: [two], service: zeta }
    gone: { entryPoints: [gone], service: gone }
  services:
    dns: { loadBalancer: { servers: [{ address: "127.0.0.1:${dns.port}" }] } }
    echo: { loadBalancer: { servers: [{ address: "127.0.0.1:${echo.port}" }] } }
    zeta: { loadBalancer: { servers: [{ address: "127.0.0.1:${zeta.port}" }] } }
    gone: { loadBalancer: { servers: [{ address: "127.0.0.1:${gonePort}" }] } }
`,
    });
  });

  after(async () => {
    await proxy?.stop('SIGTERM', 3_000);
    await Promise.all([dns?.close(), echo?.close(), zeta?.close()]);
  });

  const port = (ep: string): number => proxy.ports[ep]!;
  const metrics = async (): Promise<string> =>
    (await fetch(`http://127.0.0.1:${port('traefik')}/metrics`)).text();

  it('carries dig queries to a DNS server and its answers back', async () => {
    const r = await run('dig', [
      '@127.0.0.1',
      '-p',
      String(port('dns')),
      '+tries=1',
      '+time=3',
      'example.test',
      'A',
    ]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /status: NOERROR/);
    assert.match(r.out, /example\.test\.\s+60\s+IN\s+A\s+10\.20\.30\.40/);
  });

  it('carries socat datagrams, and replies come from the address the client wrote to', async () => {
    const r = await run('sh', ['-c', `printf 'hello' | socat -T2 - UDP:127.0.0.1:${port('echo')}`]);
    assert.equal(r.out, 'echo:hello');
    const s = createSocket('udp4');
    const got = once(s, 'message') as Promise<[Buffer, { port: number }]>;
    s.send('x', port('echo'), '127.0.0.1');
    const [, rinfo] = await got;
    assert.equal(rinfo.port, port('echo'));
    s.close();
  });

  it('keeps one session per client address: many clients at once get their own replies', async () => {
    const clients = Array.from({ length: 50 }, () => createSocket('udp4'));
    const replies = await Promise.all(
      clients.map(async (c, i) => {
        const a = await ask(port('echo'), `c${i}-a`, c);
        const b = await ask(port('echo'), `c${i}-b`, c);
        return [a, b];
      }),
    );
    replies.forEach(([a, b], i) => {
      assert.equal(a, `echo:c${i}-a`);
      assert.equal(b, `echo:c${i}-b`);
    });
    for (const c of clients) c.close();
    const text = await metrics();
    const labels = { entrypoint: 'echo', router: 'echo@file' };
    assert.ok((metricSample(text, 'traffic_udp_sessions_total', labels) ?? 0) >= 50, text);
    assert.ok((metricSample(text, 'traffic_udp_datagrams_received_total', labels) ?? 0) >= 100);
    assert.ok((metricSample(text, 'traffic_udp_datagrams_sent_total', labels) ?? 0) >= 100);
  });

  it('serves one router per entry point: the last by name, as Traefik, and says which is ignored', async () => {
    assert.equal(await ask(port('two'), 'who'), 'zeta:who');
    const w = await proxy.waitForLog(
      (l) => l.msg === 'configuration warning' && String(l.issue).includes('udp.routers.alpha'),
    );
    assert.match(String(w.issue), /served by UDP router `zeta@file`/);
  });

  it('drops datagrams for a server that is gone and closes the session', async () => {
    const s = createSocket('udp4');
    s.send('anyone?', port('gone'), '127.0.0.1');
    s.send('anyone?', port('gone'), '127.0.0.1');
    let text = '';
    for (let i = 0; i < 100; i++) {
      text = await metrics();
      if ((metricSample(text, 'traffic_udp_datagrams_dropped_total', { router: 'gone@file' }) ?? 0) >= 1)
        break;
      s.send('anyone?', port('gone'), '127.0.0.1');
      await new Promise((r) => setTimeout(r, 50));
    }
    s.close();
    assert.ok(
      (metricSample(text, 'traffic_udp_datagrams_dropped_total', {
        router: 'gone@file',
        reason: 'server_unreachable',
      }) ?? 0) >= 1,
      text,
    );
  });

  it('closes idle sessions after udp.timeout: open sessions back to zero', async () => {
    let open = -1;
    let text = '';
    for (let i = 0; i < 100; i++) {
      text = await metrics();
      open = 0;
      for (const line of text.split('\n')) {
        if (line.startsWith('traffic_udp_sessions_open{'))
          open += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(open, 0, text);
  });
});
