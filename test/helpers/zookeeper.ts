/**
 * A real ZooKeeper (Debian's zookeeperd) on loopback for a test: its own folder and free port,
 * started in the foreground; stopped and started again with its data (a restart); a small client
 * (the provider's own connection) to write keys as paths under `/`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ZK_NODEEXISTS,
  ZK_NONODE,
  ZkConnection,
  ZkError,
} from '../../src/providers/zookeeper/zk-connection.ts';
import { freePort } from './pebble.ts';

const ZK_SERVER = '/usr/share/zookeeper/bin/zkServer.sh';

export interface ZooKeeper {
  /** `127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Sets the node `/<key>` (parents created) to `value`. */
  put(key: string, value: string): Promise<void>;
  /** Deletes `/<key>` and everything below it. */
  delTree(key: string): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface ZooKeeperOptions {
  /**
   * The helper's session authenticates with `digest user:password` and creates every node for
   * that identity only (the `auth` ACL): a client without it, or with another password, gets
   * NOAUTH.
   */
  readonly digest?: { readonly user: string; readonly password: string };
}

export async function startZooKeeper(opts: ZooKeeperOptions = {}): Promise<ZooKeeper> {
  if (!existsSync(ZK_SERVER))
    throw new Error(`zookeeper is not installed (apt-get install zookeeperd): ${ZK_SERVER} is missing`);
  const dir = mkdtempSync(join(tmpdir(), 'zk-'));
  mkdirSync(join(dir, 'data'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'zoo.cfg'),
    [
      'tickTime=500',
      `dataDir=${join(dir, 'data')}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      'maxSessionTimeout=20000',
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let conn: ZkConnection | undefined;
  const launch = async (): Promise<void> => {
    let out = '';
    const c = spawn(ZK_SERVER, ['start-foreground', join(dir, 'zoo.cfg')], {
      env: { ...process.env, ZOOCFGDIR: dir, ZOO_LOG_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child = c;
    let exited = false;
    c.once('exit', () => {
      exited = true;
    });
    const drain = (d: Buffer): void => {
      out += d.toString();
    };
    c.stdout!.on('data', drain);
    c.stderr!.on('data', drain);
    // Debian's ZooKeeper logs nothing (no SLF4J binding): it is up when a session opens. The JVM
    // takes a few seconds; try every 100 ms for 30 s.
    for (let i = 0; ; i++) {
      try {
        conn = await ZkConnection.open('127.0.0.1', port, 10_000, new AbortController().signal);
        if (opts.digest !== undefined)
          await conn.addAuth('digest', `${opts.digest.user}:${opts.digest.password}`);
        return;
      } catch (e) {
        if (exited || i >= 300) {
          if (!exited) process.kill(-c.pid!, 'SIGKILL');
          throw new Error(`zookeeper did not start (${(e as Error).message}):\n${out}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const kill = async (): Promise<void> => {
    conn?.close();
    conn = undefined;
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    // The script runs java as its child: the whole process group goes.
    process.kill(-c.pid!, 'SIGKILL');
    await exited;
  };
  await launch();
  const creatorOnly = opts.digest !== undefined;
  const client = (): ZkConnection => {
    if (conn === undefined) throw new Error('zookeeper is stopped');
    return conn;
  };
  return {
    endpoint: `127.0.0.1:${port}`,
    put: async (key, value) => {
      const parts = key.split('/').filter((p) => p !== '');
      for (let i = 1; i < parts.length; i++) {
        try {
          await client().create(`/${parts.slice(0, i).join('/')}`, Buffer.alloc(0), creatorOnly);
        } catch (e) {
          if (!(e instanceof ZkError && e.code === ZK_NODEEXISTS)) throw e;
        }
      }
      const path = `/${parts.join('/')}`;
      try {
        await client().create(path, Buffer.from(value), creatorOnly);
      } catch (e) {
        if (!(e instanceof ZkError && e.code === ZK_NODEEXISTS)) throw e;
        await client().setData(path, Buffer.from(value));
      }
    },
    delTree: async (key) => {
      const del = async (path: string): Promise<void> => {
        let children: string[];
        try {
          children = await client().children(path, false);
        } catch (e) {
          if (e instanceof ZkError && e.code === ZK_NONODE) return;
          throw e;
        }
        for (const c of children) await del(`${path}/${c}`);
        await client().delete(path);
      };
      await del(`/${key.replace(/^\/+|\/+$/g, '')}`);
    },
    stop: kill,
    start: launch,
    close: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
