/**
 * A real redis-server (Debian's package) on loopback for tests: no persistence, its own folder,
 * a free port. It can be stopped and started again on the same port (its data is lost: a restart
 * of a cache), and has a small client for the test. Fails at once, naming the package, when
 * redis-server is not installed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RespConnection } from '../../src/providers/redis/resp.ts';
import type { Issued } from '../../src/upstream/test-pki.ts';
import { freePort } from './pebble.ts';

export interface RedisOptions {
  /** TLS only (`--port 0 --tls-port`), clients must show a certificate of `ca`. */
  readonly tls?: { readonly ca: Issued; readonly server: Issued; readonly client: Issued };
  /** `--requirepass`; the helper's own connection authenticates with it. */
  readonly password?: string;
}

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface Redis {
  readonly endpoint: string;
  readonly port: number;
  /** The running server process (a new one after `start`). */
  readonly child: ChildProcess;
  /** One command on the test's own connection (no AUTH: not for servers with requirepass). */
  command(...args: string[]): Promise<unknown>;
  /** Kills the server; `start` runs it again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Kills the server for good and removes its folder. */
  close(): Promise<void>;
}

export type RedisServer = Redis;

export async function startRedis(extraArgs: readonly string[] = [], opts: RedisOptions = {}): Promise<Redis> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(
      `redis-server is not installed (apt-get install redis-server): ${REDIS_SERVER} is missing`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  const port = await freePort();
  const needsAuth = extraArgs.includes('--requirepass');
  const listen =
    opts.tls === undefined
      ? ['--port', String(port)]
      : [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--tls-cert-file',
          opts.tls.server.certFile,
          '--tls-key-file',
          opts.tls.server.keyFile,
          '--tls-ca-cert-file',
          opts.tls.ca.certFile,
          '--tls-auth-clients',
          'yes',
        ];
  const auth = opts.password === undefined ? [] : ['--requirepass', opts.password];
  const clientTls =
    opts.tls === undefined
      ? undefined
      : { ca: opts.tls.ca.certPem, cert: opts.tls.client.certPem, key: opts.tls.client.keyPem };
  let child: ChildProcess | undefined;
  let conn: RespConnection | undefined;
  const launch = async (): Promise<void> => {
    let out = '';
    const c = spawn(
      REDIS_SERVER,
      [
        ...listen,
        ...auth,
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        ...extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = c;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
      const onData = (d: Buffer): void => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      c.stdout!.on('data', onData);
      c.stderr!.on('data', onData);
      c.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}): ${out}`));
      });
    });
    if (!needsAuth) {
      conn = await RespConnection.open('127.0.0.1', port, clientTls, new AbortController().signal);
      if (opts.password !== undefined) await conn.command('AUTH', opts.password);
    }
  };
  const kill = async (): Promise<void> => {
    conn?.close();
    conn = undefined;
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    endpoint: `127.0.0.1:${port}`,
    port,
    get child(): ChildProcess {
      return child!;
    },
    command: (...args) => {
      if (conn === undefined) return Promise.reject(new Error('redis: no test connection'));
      return conn.command(...args);
    },
    stop: kill,
    start: launch,
    close: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
