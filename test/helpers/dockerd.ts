/**
 * A real Docker engine (Debian's docker.io) for a test, that never touches a system daemon: its
 * own --data-root, --exec-root, pid file and unix socket in a temporary folder, no iptables, no
 * bridge (containers run on the host network and listen on 127.0.0.1), the vfs storage driver.
 * No image can be pulled here: one is made with `docker import` from a root file system holding
 * the static busybox (Debian's busybox-static), whose `httpd` serves as the backend.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';

const run = promisify(execFile);
const DOCKERD = '/usr/sbin/dockerd';
const BUSYBOX = '/bin/busybox';
export const IMAGE = 'traffic-busybox:test';

export interface Dockerd {
  /** `unix:///…/docker.sock`: what `providers.docker.endpoint` takes. */
  readonly endpoint: string;
  /** Runs the docker CLI against this engine; resolves with its stdout. */
  docker(...args: string[]): Promise<string>;
  /**
   * Starts a container on the host network that answers HTTP on 127.0.0.1:`port` with
   * `<name>` (busybox httpd), with `labels`. `health`: a health check command run every 200 ms.
   */
  runHttpd(
    name: string,
    port: number,
    labels: Readonly<Record<string, string>>,
    health?: string,
  ): Promise<void>;
  /**
   * Swarm mode (`docker swarm init` on 127.0.0.1, once), then a service `name` with `labels`: one
   * busybox httpd task on the host network answering `name` on 127.0.0.1:`port`. Resolves when
   * the task runs (`docker service create` without --detach waits for it).
   */
  swarmService(name: string, port: number, labels: Readonly<Record<string, string>>): Promise<void>;
  /** Stops the daemon (its containers stop with it). */
  stop(): Promise<void>;
  /** Starts it again with the same data; `containers` are started again. */
  start(containers?: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export async function startDockerd(): Promise<Dockerd> {
  for (const [path, pkg] of [
    [DOCKERD, 'docker.io'],
    [BUSYBOX, 'busybox-static'],
  ] as const) {
    if (!existsSync(path)) throw new Error(`the Docker tests need ${path} (apt-get install ${pkg})`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'dockerd-'));
  const socket = join(dir, 'docker.sock');
  const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
  let child: ChildProcess | undefined;
  const docker = async (...args: string[]): Promise<string> => {
    try {
      return (await run('docker', args, { env, maxBuffer: 16 * 1024 * 1024 })).stdout;
    } catch (e) {
      const err = e as { code?: string; stderr?: string; message: string };
      if (err.code === 'ENOENT') throw new Error('the docker CLI is missing (apt-get install docker.io)');
      throw new Error(`docker ${args.join(' ')}: ${err.stderr ?? err.message}`);
    }
  };
  const launch = async (): Promise<void> => {
    let output = '';
    const c = spawn(
      DOCKERD,
      [
        '--iptables=false',
        '--ip-forward=false',
        '--ip-masq=false',
        '--bridge=none',
        '--storage-driver=vfs',
        '--data-root',
        join(dir, 'data'),
        '--exec-root',
        join(dir, 'exec'),
        '--pidfile',
        join(dir, 'docker.pid'),
        '-H',
        `unix://${socket}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = c;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dockerd did not start:\n${output}`)), 30_000);
      const onData = (d: Buffer): void => {
        output += d.toString();
        if (output.includes('API listen on')) {
          clearTimeout(timer);
          resolve();
        }
      };
      c.stdout!.on('data', onData);
      c.stderr!.on('data', onData);
      c.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`dockerd exited (${code}):\n${output}`));
      });
    });
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  await launch();
  let swarmOn = false;
  // The image: busybox and a few of its applets, and a folder httpd serves.
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'www'));
  mkdirSync(join(root, 'tmp'));
  copyFileSync(BUSYBOX, join(root, 'bin', 'busybox'));
  for (const applet of ['sh', 'httpd', 'sleep', 'echo', 'cat', 'true', 'false', 'wget', 'test']) {
    symlinkSync('busybox', join(root, 'bin', applet));
  }
  writeFileSync(join(root, 'www', 'index.html'), 'busybox\n');
  await run('tar', ['-C', root, '-cf', join(dir, 'rootfs.tar'), '.']);
  await docker('import', join(dir, 'rootfs.tar'), IMAGE);
  return {
    endpoint: `unix://${socket}`,
    docker,
    runHttpd: async (name, port, labels, health) => {
      const args = ['run', '-d', '--name', name, '--network', 'host', '--stop-timeout', '1'];
      for (const [k, v] of Object.entries(labels)) args.push('--label', `${k}=${v}`);
      if (health !== undefined)
        args.push('--health-cmd', health, '--health-interval', '200ms', '--health-retries', '1');
      // `/` and `/<name>/` answer `<name>`: requests show which container served them.
      const script = `mkdir -p /www/${name} && echo ${name} > /www/${name}/index.html && echo ${name} > /www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /www`;
      await docker(...args, IMAGE, 'sh', '-c', script);
    },
    swarmService: async (name, port, labels) => {
      if (!swarmOn) {
        // The manager listens on loopback, on a port of its own: the default is 0.0.0.0:2377,
        // which a second dockerd in swarm mode (another test file, run alongside) holds.
        const port = await freePort();
        await docker(
          'swarm',
          'init',
          '--advertise-addr',
          `127.0.0.1:${port}`,
          '--listen-addr',
          `127.0.0.1:${port}`,
        );
        swarmOn = true;
      }
      const args = ['service', 'create', '--quiet', '--name', name, '--network', 'host'];
      for (const [k, v] of Object.entries(labels)) args.push('--label', `${k}=${v}`);
      await docker(
        ...args,
        IMAGE,
        'sh',
        '-c',
        `echo ${name} > /www/index.html && exec httpd -f -p 127.0.0.1:${port} -h /www`,
      );
    },
    stop,
    start: async (containers = []) => {
      await launch();
      if (containers.length > 0) await docker('start', ...containers);
    },
    close: async () => {
      if (swarmOn) await docker('swarm', 'leave', '--force').catch(() => '');
      try {
        const ids = (await docker('ps', '-aq')).split('\n').filter((x) => x !== '');
        if (ids.length > 0) await docker('rm', '-f', ...ids);
      } catch {
        // the daemon is down already
      }
      await stop();
      // dockerd leaves its data root bind-mounted and a network namespace file mounted.
      const mounts = readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[1] ?? '')
        .filter((m) => m.startsWith(dir))
        .sort((a, b) => b.length - a.length);
      for (const m of mounts) await run('umount', ['-l', m]).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
