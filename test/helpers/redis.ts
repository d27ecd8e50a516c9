/**
 * A real redis-server on loopback for a test: a free port, no persistence, stopped and started
 * again on the same port (its data is lost: a restart of a cache), and a small client for the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { RespConnection } from '../../src/providers/redis/resp.ts';
import { freePort } from './pebble.ts';

const REDIS = '/usr/bin/redis-server';

export interface Redis {
  readonly endpoint: string;
  readonly port: number;
  /** One command on the test's own connection. */
  command(...args: string[]): Promise<unknown>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startRedis(): Promise<Redis> {
  if (!existsSync(REDIS))
    throw new Error(`redis is not installed (apt-get install redis-server): ${REDIS} is missing`);
  const port = await freePort();
  let child: ChildProcess | undefined;
  let conn: RespConnection | undefined;
  const launch = async (): Promise<void> => {
    let output = '';
    const c = spawn(
      REDIS,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = c;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis did not start:\n${output}`)), 10_000);
      const onData = (d: Buffer): void => {
        output += d.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      c.stdout!.on('data', onData);
      c.stderr!.on('data', onData);
      c.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis exited (${code}):\n${output}`));
      });
    });
    conn = await RespConnection.open('127.0.0.1', port, undefined, new AbortController().signal);
  };
  const kill = async (): Promise<void> => {
    conn?.close();
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
    command: (...args) => conn!.command(...args),
    stop: kill,
    start: launch,
    close: kill,
  };
}
