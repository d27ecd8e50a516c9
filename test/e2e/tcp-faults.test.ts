/**
 * TCP faults through the real proxy: a backend that resets, one that never reads (backpressure
 * must keep the proxy's memory bounded), a client that half-closes, a backend that is down
 * (health check), weighted services; afterwards no connection is left open (metrics and the
 * process's sockets).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  startEchoServer,
  startResettingServer,
  startStuckServer,
  startStutteringEchoServer,
  type TcpBackend,
  tcpExchange,
} from '../helpers/l4.ts';
import { type ProxyProcess, startProxy } from '../helpers/proxy-process.ts';
import { readRss } from '../helpers/rss.ts';
import { startUnacceptingUpstream, type UnacceptingUpstream } from '../helpers/stuck-upstream.ts';

function socketFds(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed between the listing and the read
    }
  }
  return n;
}

describe('TCP faults', () => {
  let resetting: TcpBackend;
  let stuck: TcpBackend;
  let echoA: TcpBackend;
  let echoB: TcpBackend;
  let silentAfterFin: TcpBackend;
  let stutter: TcpBackend;
  let unaccepting: UnacceptingUpstream;
  let proxy: ProxyProcess;
  let baselineFds = 0;

  before(async () => {
    resetting = await startResettingServer();
    stuck = await startStuckServer();
    echoA = await startEchoServer('A\n');
    echoB = await startEchoServer('B\n');
    // Keeps its half open after the client's FIN: terminationDelay must close it.
    silentAfterFin = await startEchoServer(undefined, true);
    stutter = await startStutteringEchoServer();
    unaccepting = await startUnacceptingUpstream();
    proxy = await startProxy({
      config: `entryPoints:
  reset:
    address: "127.0.0.1:0"
  stuck:
    address: "127.0.0.1:0"
  echo:
    address: "127.0.0.1:0"
  lingering:
    address: "127.0.0.1:0"
  weighted:
    address: "127.0.0.1:0"
  bulk:
    address: "127.0.0.1:0"
  nodial:
    address: "127.0.0.1:0"
  traefik:
    address: "127.0.0.1:0"
log: { level: INFO }
api: {}
metrics: { prometheus: {} }
tcp:
  routers:
    reset: { entryPoints: [reset], rule: "HostSNI(\`*\`)", service: reset }
    stuck: { entryPoints: [stuck], rule: "HostSNI(\`*\`)", service: stuck }
    echo: { entryPoints: [echo], rule: "HostSNI(\`*\`)", service: echo }
    lingering: { entryPoints: [lingering], rule: "HostSNI(\`*\`)", service: lingering }
    weighted: { entryPoints: [weighted], rule: "HostSNI(\`*\`)", service: both }
    bulk: { entryPoints: [bulk], rule: "HostSNI(\`*\`)", service: stutter }
    nodial: { entryPoints: [nodial], rule: "HostSNI(\`*\`)", service: unaccepting }
  services:
    reset: { loadBalancer: { servers: [{ address: "${resetting.address}" }] } }
    stuck: { loadBalancer: { servers: [{ address: "${stuck.address}" }], serversTransport: idle1s } }
    # patient: the half-close test's echo comes after the client's FIN, which on a loaded
    # machine may take longer than the default terminationDelay (100ms).
    echo:
      loadBalancer:
        servers: [{ address: "${echoA.address}" }, { address: "127.0.0.1:1" }]
        healthCheck: { interval: 100ms, timeout: 500ms }
        serversTransport: patient
    lingering: { loadBalancer: { servers: [{ address: "${silentAfterFin.address}" }], serversTransport: quick } }
    a: { loadBalancer: { servers: [{ address: "${echoA.address}" }] } }
    b: { loadBalancer: { servers: [{ address: "${echoB.address}" }] } }
    # After the client's FIN, the stalled echo may take longer than the default 100ms to drain.
    stutter: { loadBalancer: { servers: [{ address: "${stutter.address}" }], serversTransport: patient } }
    unaccepting: { loadBalancer: { servers: [{ address: "127.0.0.1:${unaccepting.port}" }], serversTransport: dial300 } }
    both: { weighted: { services: [{ name: a, weight: 3 }, { name: b, weight: 1 }] } }
  serversTransports:
    quick: { terminationDelay: 200ms }
    patient: { terminationDelay: 30s }
    dial300: { dialTimeout: 300ms }
    # A stalled pipe shows nothing crossing: the idle timeout frees it once its client has gone.
    idle1s: { idleTimeout: 1s }
`,
    });
    // The baseline holds what the metrics scrapes below keep open (a keep-alive connection, the
    // admin bridge): one scrape first.
    await (await fetch(`http://127.0.0.1:${proxy.ports['traefik']!}/metrics`)).text();
    baselineFds = socketFds(proxy.child.pid!);
  });

  after(async () => {
    await proxy?.stop('SIGTERM', 3_000);
    await Promise.all(
      [resetting, stuck, echoA, echoB, silentAfterFin, stutter, unaccepting].map((b) => b?.close()),
    );
  });

  const port = (ep: string): number => proxy.ports[ep]!;

  it('passes a backend reset on to the client as a FIN, as Traefik (connCopy, CloseWrite)', async () => {
    const r = await tcpExchange(port('reset'), null);
    assert.equal(r.data.length, 0);
    assert.equal(r.how, 'end');
  });

  it('closes (FIN) the client whose server does not accept the connection within dialTimeout', async () => {
    const r = await tcpExchange(port('nodial'), null);
    assert.equal(r.data.length, 0);
    assert.equal(r.how, 'end');
  });

  it('resets it instead when its bytes were never read, as the kernel does on Traefik’s conn.Close()', async () => {
    const r = await tcpExchange(port('nodial'), 'anyone there?');
    assert.equal(r.data.length, 0);
    assert.equal(r.how, 'ECONNRESET');
  });

  it('stops reading a client whose backend never reads: memory stays bounded', async () => {
    const pid = proxy.child.pid!;
    const before = readRss(pid);
    const chunk = Buffer.alloc(1 << 20, 0x61);
    let written = 0;
    const s = connect(port('stuck'), '127.0.0.1');
    s.on('error', () => {});
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        // Writes until the kernel and the proxy push back; then waits for a drain that never comes.
        while (written < 512 * (1 << 20)) {
          written += chunk.length;
          if (!s.write(chunk)) {
            s.once('drain', pump);
            break;
          }
        }
      };
      s.on('connect', pump);
      // Once nothing more is accepted for a while, the pipe is full end to end.
      let last = -1;
      const check = setInterval(() => {
        if (s.writableLength > 0 && last === s.bytesWritten) {
          clearInterval(check);
          resolve();
        }
        last = s.bytesWritten;
      }, 200);
    });
    const grown = readRss(pid) - before;
    const accepted = s.bytesWritten;
    s.destroy();
    assert.ok(accepted < 64 * (1 << 20), `the proxy took ${accepted} bytes it could not pass on`);
    assert.ok(grown < 64 * (1 << 20), `RSS grew by ${grown} bytes`);
  });

  it('carries 48 MiB both ways byte for byte while both ends stall and resume', async () => {
    // Reads land in reused buffers: a write that queues (the peer stalls) must keep its bytes.
    const sent = createHash('sha256');
    const got = createHash('sha256');
    const total = 48 * (1 << 20);
    let received = 0;
    const s = connect(port('bulk'), '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      s.on('error', reject);
      s.on('data', (d: Buffer) => {
        got.update(d);
        received += d.length;
        if (received % 5 === 0) {
          s.pause();
          setTimeout(() => s.resume(), 3);
        }
      });
      s.on('end', () => resolve());
      let written = 0;
      const pump = (): void => {
        while (written < total) {
          const chunk = randomBytes(Math.min(total - written, 1 + Math.floor(Math.random() * 200_000)));
          sent.update(chunk);
          written += chunk.length;
          if (!s.write(chunk)) {
            s.once('drain', pump);
            return;
          }
        }
        s.end();
      };
      s.on('connect', pump);
    });
    assert.equal(received, total);
    assert.equal(got.digest('hex'), sent.digest('hex'));
  });

  it('carries a half-close: the client FIN reaches the backend, whose reply still comes back', async () => {
    const r = await tcpExchange(port('echo'), 'last words', { end: true });
    assert.equal(r.how, 'end');
    assert.equal(r.data.toString(), 'A\nlast words');
  });

  it('closes both sides terminationDelay after one FIN when the other keeps its half open', async () => {
    // FIN once the echo is back: the 200 ms count from the FIN, not the echo's race against it.
    const r = await tcpExchange(port('lingering'), 'bye', { endAfter: 'bye' });
    assert.equal(r.how, 'end', 'the proxy closed the connection the backend kept open');
    assert.equal(r.data.toString(), 'bye');
  });

  it('sends no connection to a server its health check finds down', async () => {
    // Server 2 (port 1) refuses connections: once a probe finds it down, every connection goes to A.
    await proxy.waitForLog((l) => l.msg === 'server down' && l.server === '127.0.0.1:1');
    for (let i = 0; i < 6; i++) {
      const r = await tcpExchange(port('echo'), null, { untilData: '\n' });
      assert.equal(r.data.toString(), 'A\n');
    }
  });

  it('spreads a weighted service 3:1 over its children', async () => {
    const seen = { A: 0, B: 0 };
    for (let i = 0; i < 8; i++) {
      const r = await tcpExchange(port('weighted'), null, { untilData: '\n' });
      seen[r.data.toString().trim() as 'A' | 'B']++;
    }
    assert.deepEqual(seen, { A: 6, B: 2 });
  });

  it('leaves nothing open: the open-connection gauges are 0 and the sockets back to the baseline', async () => {
    let text = '';
    let open = -1;
    let fds = 0;
    for (let i = 0; i < 100; i++) {
      text = await (await fetch(`http://127.0.0.1:${port('traefik')}/metrics`)).text();
      open = 0;
      for (const line of text.split('\n')) {
        if (line.startsWith('traffic_tcp_connections_open{'))
          open += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      fds = socketFds(proxy.child.pid!);
      if (open === 0 && fds <= baselineFds) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(
      open,
      0,
      text
        .split('\n')
        .filter((l) => l.startsWith('traffic_tcp'))
        .join('\n'),
    );
    assert.ok(fds <= baselineFds, `sockets: ${fds} > ${baselineFds}`);
    let resets = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('traffic_tcp_connection_failures_total{') && line.includes('router="reset@file"'))
        resets += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    assert.equal(resets, 1, 'the reset is counted (as a refused dial or a broken connection)');
  });
});
