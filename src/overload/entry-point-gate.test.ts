import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { silentLogger } from '../core/logger.ts';
import { EntryPointGate } from './entry-point-gate.ts';
import {
  LATE_SAMPLES,
  NO_OVERLOAD_LIMITS,
  OverloadManager,
  SHED_EVENT_LOOP,
  SHED_HEAP,
} from './overload-manager.ts';

function gate(maxConnections: number, maxConnectionsPerIp: number, exempt?: (ip: string) => boolean) {
  return new EntryPointGate(
    'web',
    new OverloadManager(NO_OVERLOAD_LIMITS, silentLogger),
    { maxConnections, maxConnectionsPerIp },
    exempt,
  );
}

/**
 * A server behind `g`, as HttpListener wires it; every admitted connection is answered "hi" and
 * kept open. `closed` resolves each time the server side of a connection has closed.
 */
async function serve(t: TestContext, g: EntryPointGate) {
  const open = new Set<Socket>();
  const closes: (() => void)[] = [];
  const server: Server = createServer((socket) => {
    if (g.perClient && !g.admitConnection(socket)) return;
    open.add(socket);
    socket.on('close', () => {
      open.delete(socket);
      closes.shift()?.();
    });
    socket.write('hi');
  });
  g.attach(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of open) s.destroy();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  return {
    open,
    /** Resolves once the server side of one more connection has closed. */
    nextClose: () => new Promise<void>((r) => closes.push(r)),
    /** Connects (from `localAddress`) and resolves with what the server sent before it closed or answered. */
    client: (localAddress = '127.0.0.1') =>
      new Promise<{ socket: Socket; greeted: boolean }>((resolve, reject) => {
        const socket = connect({ port, host: '127.0.0.1', localAddress });
        t.after(() => socket.destroy());
        socket.once('data', () => resolve({ socket, greeted: true }));
        socket.once('close', () => resolve({ socket, greeted: false }));
        socket.once('error', (e: NodeJS.ErrnoException) => {
          if (e.code !== 'ECONNRESET') reject(e);
        });
      }),
  };
}

describe('EntryPointGate: connection caps, at accept', () => {
  it('closes connections past maxConnections before reading them, and takes new ones when one closed', async (t) => {
    const g = gate(2, 0);
    const s = await serve(t, g);
    const a = await s.client();
    const b = await s.client();
    assert.deepEqual([a.greeted, b.greeted], [true, true]);
    const c = await s.client();
    assert.equal(c.greeted, false, 'the third connection was closed without a byte');
    assert.equal(g.refused.max_connections, 1);
    const closed = s.nextClose();
    a.socket.destroy();
    await closed;
    assert.equal((await s.client()).greeted, true);
    assert.equal(g.refused.max_connections, 1);
  });

  it('caps connections per client address, other clients unaffected', async (t) => {
    const g = gate(0, 2);
    const s = await serve(t, g);
    const a = await s.client('127.0.0.1');
    await s.client('127.0.0.1');
    assert.equal((await s.client('127.0.0.1')).greeted, false, 'third from the same address');
    assert.equal((await s.client('127.0.0.2')).greeted, true, 'another address has its own count');
    assert.equal(g.refused.max_connections_per_ip, 1);
    assert.equal(g.clients, 2);
    const closed = s.nextClose();
    a.socket.destroy();
    await closed;
    assert.equal((await s.client('127.0.0.1')).greeted, true, 'a slot freed by a close');
  });

  it('does not cap trusted peers (proxies in front carry many clients)', async (t) => {
    const g = gate(0, 1, (ip) => ip === '127.0.0.3');
    const s = await serve(t, g);
    for (let i = 0; i < 3; i++) assert.equal((await s.client('127.0.0.3')).greeted, true);
    assert.equal(g.refused.max_connections_per_ip, 0);
    assert.equal(g.clients, 0);
  });
});

describe('EntryPointGate: shedding', () => {
  it('follows its manager and names the reason of each shed request', () => {
    const m = new OverloadManager({ ...NO_OVERLOAD_LIMITS, maxEventLoopDelayMs: 100 }, silentLogger);
    const g = new EntryPointGate('web', m, { maxConnections: 0, maxConnectionsPerIp: 0 });
    assert.equal(g.shedding, 0);
    const busy = {
      eventLoopDelayMs: 150,
      eventLoopUtilization: 1,
      cpuShare: 1,
      heapUsedBytes: 1,
      heapLimitBytes: 10,
    };
    for (let i = 0; i < LATE_SAMPLES; i++) m.observe(busy);
    assert.equal(g.shedding, SHED_EVENT_LOOP);
    assert.equal(g.countShed(SHED_EVENT_LOOP | SHED_HEAP), 'event_loop_delay');
    assert.equal(g.countShed(SHED_HEAP), 'heap');
    assert.deepEqual(g.shed, { event_loop_delay: 1, heap: 1, request_body_memory: 0 });
    assert.deepEqual(g.retryAfterHeaders, [['Retry-After', '1']]);
  });
});
