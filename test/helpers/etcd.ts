/**
 * A real etcd (Debian's etcd-server) on loopback for a test: its own data folder and free ports,
 * stopped and started again on the same ports and data (a crash and a restart), removed at close.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './pebble.ts';

const ETCD = '/usr/bin/etcd';

export interface Etcd {
  /** `127.0.0.1:<port>` (what `providers.etcd.endpoints` takes). */
  readonly endpoint: string;
  put(key: string, value: string): Promise<void>;
  del(key: string): Promise<void>;
  /** Every key under `prefix` deleted. */
  delPrefix(prefix: string): Promise<void>;
  /** Kills etcd (SIGKILL): connections break, the port refuses. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startEtcd(): Promise<Etcd> {
  if (!existsSync(ETCD))
    throw new Error(`etcd is not installed (apt-get install etcd-server): ${ETCD} is missing`);
  const dir = mkdtempSync(join(tmpdir(), 'etcd-'));
  const [client, peer] = await Promise.all([freePort(), freePort()]);
  const base = `http://127.0.0.1:${client}`;
  let child: ChildProcess | undefined;
  let output = '';
  const launch = async (): Promise<void> => {
    output = '';
    const c = spawn(
      ETCD,
      [
        '--data-dir',
        join(dir, 'data'),
        '--name',
        'test',
        '--listen-client-urls',
        base,
        '--advertise-client-urls',
        base,
        '--listen-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-advertise-peer-urls',
        `http://127.0.0.1:${peer}`,
        '--initial-cluster',
        `test=http://127.0.0.1:${peer}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = c;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`etcd did not start:\n${output}`)), 15_000);
      const onData = (d: Buffer): void => {
        output += d.toString();
        if (output.includes('ready to serve client requests')) {
          clearTimeout(timer);
          resolve();
        }
      };
      c.stdout!.on('data', onData);
      c.stderr!.on('data', onData);
      c.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`etcd exited (${code}):\n${output}`));
      });
    });
  };
  const call = async (path: string, body: unknown): Promise<void> => {
    const r = await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (r.status !== 200) throw new Error(`etcd ${path}: ${r.status} ${await r.text()}`);
    await r.text();
  };
  const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
  const kill = async (): Promise<void> => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    endpoint: `127.0.0.1:${client}`,
    put: (key, value) => call('/v3/kv/put', { key: b64(key), value: b64(value) }),
    del: (key) => call('/v3/kv/deleterange', { key: b64(key) }),
    delPrefix: (prefix) => {
      const end = Buffer.from(prefix);
      end[end.length - 1]!++;
      return call('/v3/kv/deleterange', { key: b64(prefix), range_end: b64(end) });
    },
    stop: kill,
    start: launch,
    close: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
