/**
 * Upstreams that never answer, for timeout tests:
 * - a silent one accepts connections and reads requests but never writes (response header timeout);
 * - an unaccepting one never completes a TCP handshake (dial timeout): a listening socket whose
 *   accept queue is full, so the kernel drops further SYNs, as a blackholed host would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { Counter, within } from './wait.ts';

export interface SilentUpstream {
  readonly port: number;
  readonly url: string;
  /** Connections accepted so far. */
  readonly accepted: Counter;
  /** Connections closed (by the peer or destroyed) so far. */
  readonly closed: Counter;
  /** Bytes received, per connection, in order of acceptance. */
  readonly received: string[];
  close(): Promise<void>;
}

export async function startSilentUpstream(): Promise<SilentUpstream> {
  const sockets = new Set<Socket>();
  const accepted = new Counter();
  const closed = new Counter();
  const received: string[] = [];
  const server = createServer((socket) => {
    const index = received.length;
    received.push('');
    sockets.add(socket);
    accepted.inc();
    socket.on('data', (d: Buffer) => {
      received[index] += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      closed.inc();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    accepted,
    closed,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface UnacceptingUpstream {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/*
 * The listener lives in a child process that blocks its own event loop right after listen(), so
 * it never accepts. With a backlog of 1, Linux queues two completed handshakes; we take both with
 * filler connections, and every later SYN is dropped: the dialer waits until its own timeout.
 */
const UNACCEPTING_CHILD = `
const net = require('node:net');
const server = net.createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write(server.address().port + '\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});
`;
const QUEUE_SLOTS = 2;

export async function startUnacceptingUpstream(): Promise<UnacceptingUpstream> {
  const child: ChildProcess = spawn(process.execPath, ['-e', UNACCEPTING_CHILD], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const fillers: Socket[] = [];
  const close = async (): Promise<void> => {
    for (const s of fillers) s.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  try {
    const [line] = (await within(once(child.stdout!, 'data'), 'the unaccepting upstream to listen')) as [
      Buffer,
    ];
    const port = Number(line.toString('latin1').trim());
    for (let i = 0; i < QUEUE_SLOTS; i++) {
      const s = connect({ port, host: '127.0.0.1' });
      s.on('error', () => {});
      fillers.push(s);
      await within(once(s, 'connect'), 'a filler connection to complete its handshake');
    }
    return { port, url: `http://127.0.0.1:${port}`, close };
  } catch (e) {
    await close();
    throw e;
  }
}
