/**
 * A real PostgreSQL server for the layer-4 e2e tests (Debian's postgresql-15), with TLS on: a
 * fresh cluster in a temporary folder (initdb, trust authentication on loopback), listening on
 * 127.0.0.1 only, run as the `postgres` user when the tests run as root (the server refuses
 * root). `psql` is the client.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { requireTool } from './l4.ts';
import type { Issued } from './tls-certs.ts';

const BIN = '/usr/lib/postgresql/15/bin';

export interface PostgresServer {
  readonly port: number;
  stop(): Promise<void>;
}

/** As the `postgres` user when we are root: setpriv execs the command itself (signals reach it). */
function asPostgres(cmd: string, args: readonly string[]): [string, string[]] {
  return process.getuid?.() === 0
    ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--clear-groups', '--', cmd, ...args]]
    : [cmd, [...args]];
}

/** Starts a server whose TLS certificate is `cert` (its own, not the proxy's). */
export async function startPostgres(cert: Issued): Promise<PostgresServer> {
  requireTool(`${BIN}/postgres`, 'postgresql-15');
  const dir = mkdtempSync(join(tmpdir(), 'tm-pg-'));
  const data = join(dir, 'data');
  const crt = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  copyFileSync(cert.certFile, crt);
  copyFileSync(cert.keyFile, key);
  chmodSync(key, 0o600);
  if (process.getuid?.() === 0) {
    const pw = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    for (const p of [dir, crt, key]) chownSync(p, Number(pw), Number(gid));
  }
  const [initCmd, initArgs] = asPostgres(`${BIN}/initdb`, [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'pg',
    '--no-sync',
  ]);
  execFileSync(initCmd, initArgs, { stdio: 'pipe' });
  const port = await freePort();
  const [cmd, args] = asPostgres(`${BIN}/postgres`, [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'ssl=on',
    '-c',
    `ssl_cert_file=${crt}`,
    '-c',
    `ssl_key_file=${key}`,
    '-c',
    'fsync=off',
  ]);
  const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`postgres did not start:\n${out}`)), 20_000);
    const check = (): void => {
      if (out.includes('ready to accept connections')) {
        clearTimeout(timer);
        child.stderr!.off('data', check);
        resolve();
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`postgres exited ${code}:\n${out}`));
    });
  });
  return {
    port,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PsqlResult {
  readonly code: number;
  readonly out: string;
}

/** Runs `psql` with a connection string; never throws. */
export function psql(conninfo: string, sql: string): Promise<PsqlResult> {
  requireTool('/usr/bin/psql', 'postgresql-client');
  return new Promise((resolve) => {
    execFile(
      '/usr/bin/psql',
      [conninfo, '-XAtqc', sql],
      { timeout: 20_000, env: { ...process.env, PGCONNECT_TIMEOUT: '10' } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, out: `${stdout}${stderr}` });
      },
    );
  });
}
