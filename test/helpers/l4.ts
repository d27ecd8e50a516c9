/**
 * Real TCP backends and clients for the layer-4 e2e tests: an echo server, a banner server (a
 * server-first protocol), a TLS echo server with its own certificate, redis-server, a raw
 * client that collects what comes back, and a one-datagram UDP client. Everything listens on 127.0.0.1, port 0.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { freePort } from './free-port.ts';
import type { Issued } from './tls-certs.ts';

/** Fails at once, naming the Debian package, when a tool the test needs is missing. */
export function requireTool(path: string, pkg: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: apt-get install -y ${pkg}`);
}

export interface TcpBackend {
  readonly server: Server;
  readonly port: number;
  readonly address: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Connections open now. */
  readonly open: Set<Socket>;
  close(): Promise<void>;
}

async function listen(
  server: Server,
  onConn: (s: Socket) => void,
  event: 'connection' | 'secureConnection' = 'connection',
): Promise<TcpBackend> {
  const open = new Set<Socket>();
  const b: TcpBackend = {
    server,
    port: 0,
    address: '',
    accepted: 0,
    open,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
  server.on(event, (s: Socket) => {
    b.accepted++;
    open.add(s);
    s.on('error', () => {});
    s.on('close', () => open.delete(s));
    onConn(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  (b as { port: number }).port = port;
  (b as { address: string }).address = `127.0.0.1:${port}`;
  return b;
}

/**
 * Echoes every byte back; answers a client's FIN with its own once the echo is written, unless
 * `keepOpenAfterFin` (a peer that never closes its half).
 */
export function startEchoServer(greeting?: string, keepOpenAfterFin = false): Promise<TcpBackend> {
  const server = createServer({ allowHalfOpen: true });
  return listen(server, (s) => {
    if (greeting !== undefined) s.write(greeting);
    s.on('data', (d: Buffer) => s.write(d));
    if (!keepOpenAfterFin) s.on('end', () => s.end());
  });
}

/**
 * Echoes every byte back with backpressure, and stops reading for a moment every few reads: the
 * proxy's writes to it queue, so its read buffers must not be reused while a write holds them.
 */
export function startStutteringEchoServer(): Promise<TcpBackend> {
  const server = createServer({ allowHalfOpen: true });
  return listen(server, (s) => {
    let reads = 0;
    s.on('data', (d: Buffer) => {
      if (!s.write(d)) {
        s.pause();
        s.once('drain', () => s.resume());
      } else if (++reads % 7 === 0) {
        s.pause();
        setTimeout(() => s.resume(), 5);
      }
    });
    s.on('end', () => s.end());
  });
}

/** A server-first protocol: writes its banner as soon as a client connects, then echoes lines. */
export function startBannerServer(banner: string): Promise<TcpBackend> {
  return startEchoServer(banner);
}

/** TLS with its own certificate (what passthrough must deliver untouched), echoing, or serving HTTP. */
export function startTlsBackend(cert: Issued, mode: 'echo' | 'http', name: string): Promise<TcpBackend> {
  const server = createTlsServer({ key: cert.keyPem, cert: cert.certPem, ALPNProtocols: ['http/1.1'] });
  return listen(
    server,
    (s) => {
      if (mode === 'echo') {
        s.on('data', (d: Buffer) => s.write(d));
        s.on('end', () => s.end());
        return;
      }
      let buf = '';
      s.setEncoding('latin1');
      s.on('data', (d: string) => {
        buf += d;
        if (!buf.includes('\r\n\r\n')) return;
        const body = `hello from ${name}`;
        s.end(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
      });
    },
    'secureConnection',
  );
}

/** Accepts and resets at once (a crashing server). */
export function startResettingServer(): Promise<TcpBackend> {
  return listen(createServer(), (s) => s.resetAndDestroy());
}

/** Accepts and never reads (a stuck server): the proxy must stop reading its client. */
export function startStuckServer(): Promise<TcpBackend> {
  return listen(createServer(), (s) => s.pause());
}

export interface Collected {
  readonly data: Buffer;
  /** How it ended: `end` (FIN), an error code (ECONNRESET), or `timeout`. */
  readonly how: string;
}

/**
 * Connects, writes `send` (then FIN when `end`), and collects everything until the connection
 * closes (bounded by `ms`, then `how` is `timeout`). `endAfter`: FIN once the data received
 * includes it, not at once: after a client's FIN the proxy gives the server only
 * terminationDelay to answer (Traefik's rule), which a loaded machine may exceed.
 */
export function tcpExchange(
  port: number,
  send: string | Buffer | null,
  opts: { end?: boolean; endAfter?: string; ms?: number; untilData?: string } = {},
): Promise<Collected> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let how = 'timeout';
    const timer = setTimeout(() => s.destroy(), opts.ms ?? 10_000);
    s.on('connect', () => {
      if (send !== null) s.write(send);
      if (opts.end === true) s.end();
    });
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      if (opts.endAfter !== undefined && Buffer.concat(chunks).toString('latin1').includes(opts.endAfter))
        s.end();
      if (opts.untilData !== undefined && Buffer.concat(chunks).toString('latin1').includes(opts.untilData)) {
        how = 'data';
        s.destroy();
      }
    });
    s.on('end', () => {
      how = 'end';
      s.end();
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      how = e.code ?? e.message;
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), how });
    });
  });
}

export interface RedisServer {
  readonly port: number;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** A real redis-server on a free port, no persistence. */
export async function startRedis(): Promise<RedisServer> {
  requireTool('/usr/bin/redis-server', 'redis-server');
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const child = spawn(
    '/usr/bin/redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
    const check = (): void => {
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code}:\n${out}`)));
  });
  return {
    port,
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** `redis-cli -p port args…` (a last `{ stdin }` is written to its standard input); stdout trimmed. */
export function redisCli(port: number, ...args: (string | { stdin: string })[]): string {
  requireTool('/usr/bin/redis-cli', 'redis-tools');
  const last = args[args.length - 1];
  const input = typeof last === 'object' ? last.stdin : '';
  const argv = args.filter((a): a is string => typeof a === 'string');
  return execFileSync('/usr/bin/redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...argv], {
    encoding: 'utf8',
    timeout: 10_000,
    input,
  }).trim();
}

/** One sample of a Prometheus exposition, by name and labels (undefined when absent). */
export function metricSample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

export { freePort };

/** Resolves once something accepts TCP connections on 127.0.0.1:`port` (bounded). */
export async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Haproxy {
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** HAProxy in the foreground with `config` (written to `dir`); resolves once `ports` accept connections. */
export async function startHaproxy(config: string, dir: string, ports: readonly number[]): Promise<Haproxy> {
  requireTool('/usr/sbin/haproxy', 'haproxy');
  const file = `${dir}/haproxy.cfg`;
  (await import('node:fs')).writeFileSync(file, config);
  const child = spawn('/usr/sbin/haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const exited = once(child, 'exit').then(() => {
    throw new Error(`haproxy exited:\n${out}`);
  });
  await Promise.race([Promise.all(ports.map((p) => waitForPort(p))), exited]);
  exited.catch(() => {});
  return {
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/**
 * Sends one datagram `msg` to 127.0.0.1:`port` and resolves with the first answer's text, or
 * `<timeout>` when none comes within `ms` (UDP has no connection to refuse).
 */
export async function udpAsk(port: number, msg: string, ms = 1_000): Promise<string> {
  const s = createSocket('udp4');
  try {
    const got = once(s, 'message') as Promise<[Buffer]>;
    s.send(msg, port, '127.0.0.1');
    const timer = setTimeout(() => s.emit('message', Buffer.from('<timeout>')), ms);
    const [reply] = await got;
    clearTimeout(timer);
    return reply.toString();
  } finally {
    s.close();
  }
}

/** Registers `onConn` for a server's connections (or TLS sessions) and listens on 127.0.0.1:0. */
export { listen as listenTcpBackend };
