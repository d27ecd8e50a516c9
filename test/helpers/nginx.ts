/**
 * A real nginx (Debian's package) on loopback, as a reference proxy that tests compare ours with.
 * It runs in the foreground from a temporary prefix (its own pid file, logs and temp folders), so
 * several can run at once and nothing of the system's nginx is touched.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './pebble.ts';
import { toolPath } from './tools.ts';

export const NGINX = 'nginx';

export interface Nginx {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts nginx with `server` as the body of its one `server { … }` block (the `listen` line is
 * added). Fails at once, naming the package, when nginx is not installed.
 */
export async function startNginx(server: string): Promise<Nginx> {
  const nginx = toolPath(NGINX);
  const dir = mkdtempSync(join(tmpdir(), 'nginx-'));
  const port = await freePort();
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((t) => `${t}_temp_path ${join(dir, t)};`)
    .join(' ');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  ${temp}
  server {
    listen 127.0.0.1:${port};
    ${server}
  }
}
`,
  );
  const child: ChildProcess = spawn(
    nginx,
    ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const log = (): string => {
    const f = join(dir, 'error.log');
    return `${stderr}${existsSync(f) ? readFileSync(f, 'utf8') : ''}`;
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited at start:\n${log()}`);
    if (await accepts(port)) break;
    if (i >= 100) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not listen on ${port} within 5 s:\n${log()}`);
    }
    await sleep(50);
  }
  return {
    port,
    close: async () => {
      if (child.exitCode === null) {
        child.kill('SIGQUIT');
        await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
