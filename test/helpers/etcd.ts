/**
 * A real etcd (Debian's etcd-server) on loopback for a test: its own data folder and free ports,
 * stopped and started again on the same ports and data (a crash and a restart), removed at close.
 * Optionally over TLS with client certificates required (`--client-cert-auth`) and with
 * authentication on (a `root` user for the helper, and the user given).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineFetch } from '../../src/providers/engine-client.ts';
import type { Issued } from '../../src/upstream/test-pki.ts';
import { freePort } from './pebble.ts';

export interface EtcdOptions {
  /** HTTPS on the client port with this server certificate; clients must show one of `ca`. */
  readonly tls?: { readonly ca: Issued; readonly server: Issued; readonly client: Issued };
  /** Authentication on, with this user (role root) besides the helper's own `root`. */
  readonly user?: { readonly name: string; readonly password: string };
}

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

export async function startEtcd(opts: EtcdOptions = {}): Promise<Etcd> {
  if (!existsSync(ETCD))
    throw new Error(`etcd is not installed (apt-get install etcd-server): ${ETCD} is missing`);
  const dir = mkdtempSync(join(tmpdir(), 'etcd-'));
  const [client, peer] = await Promise.all([freePort(), freePort()]);
  const base = `${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${client}`;
  const tlsArgs =
    opts.tls === undefined
      ? []
      : [
          '--cert-file',
          opts.tls.server.certFile,
          '--key-file',
          opts.tls.server.keyFile,
          '--trusted-ca-file',
          opts.tls.ca.certFile,
          '--client-cert-auth',
        ];
  const clientTls =
    opts.tls === undefined
      ? undefined
      : { ca: opts.tls.ca.certPem, cert: opts.tls.client.certPem, key: opts.tls.client.keyPem };
  const ROOT_PASSWORD = 'root-pw';
  let token: string | undefined;
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
        ...tlsArgs,
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
  const post = async (path: string, body: unknown, auth = true): Promise<Buffer> => {
    const headers: Record<string, string> = {};
    if (auth && token !== undefined) headers['authorization'] = token;
    const { body: out } = await engineFetch({
      url: `${base}${path}`,
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
      ...(clientTls === undefined ? {} : { tls: clientTls }),
    });
    return out;
  };
  const call = async (path: string, body: unknown): Promise<void> => {
    try {
      await post(path, body);
    } catch (e) {
      if (token === undefined || !/status 401/.test((e as Error).message)) throw e;
      await login(); // the token expired (or etcd restarted): once more with a new one
      await post(path, body);
    }
  };
  const login = async (): Promise<void> => {
    const r = await post('/v3/auth/authenticate', { name: 'root', password: ROOT_PASSWORD }, false);
    token = (JSON.parse(r.toString()) as { token: string }).token;
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
  if (opts.user !== undefined) {
    await post('/v3/auth/role/add', { name: 'root' });
    for (const [name, password] of [
      ['root', ROOT_PASSWORD],
      [opts.user.name, opts.user.password],
    ] as const) {
      await post('/v3/auth/user/add', { name, password });
      await post('/v3/auth/user/grant', { user: name, role: 'root' });
    }
    await post('/v3/auth/enable', {});
    await login();
  }
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
