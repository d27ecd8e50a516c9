import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { sampleTree } from './proc-tree.ts';

/** The first non-empty output line of a command, or undefined when it cannot run at all. */
function firstLine(file: string, args: readonly string[]): string | undefined {
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 5000 });
  if (r.error) return undefined;
  // nginx -v prints on stderr; wrk --version exits 1 after printing its version.
  const text = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  return text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
}

const VERSION_COMMANDS: Readonly<Record<string, readonly [string, readonly string[]]>> = {
  nginx: ['nginx', ['-v']],
  haproxy: ['haproxy', ['-v']],
  caddy: ['caddy', ['version']],
  wrk: ['wrk', ['--version']],
  h2load: ['h2load', ['--version']],
  openssl: ['openssl', ['version']],
};

/** Version line per external tool; "not installed" when it cannot be executed. */
export function toolVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, [file, args]] of Object.entries(VERSION_COMMANDS)) {
    out[name] = firstLine(file, args) ?? 'not installed';
  }
  return out;
}

/** False when the executable is not on PATH (spawn fails with ENOENT); its exit code does not matter. */
export function commandExists(file: string): boolean {
  return spawnSync(file, ['--version'], { stdio: 'ignore', timeout: 5000 }).error === undefined;
}

export function clockTicksPerSecond(): number {
  const n = Number(firstLine('getconf', ['CLK_TCK']));
  return Number.isInteger(n) && n > 0 ? n : 100;
}

/**
 * Restricts every thread of this process to `cpu`, so that the runner's own sampling competes
 * with wrk, not with the proxy. Children inherit it; proxies are re-pinned with taskset.
 */
export function pinSelf(cpu: string): void {
  pinProcess(process.pid, cpu);
}

/** Restricts every thread of process `pid` to the CPUs `cpu` (a taskset list); false when taskset failed. */
export function pinProcess(pid: number, cpu: string): boolean {
  const r = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], {
    stdio: 'ignore',
    timeout: 5000,
  });
  return r.error === undefined && r.status === 0;
}

/** Moves a process and its descendants (every thread) to the CPUs `cpu`; returns the pids it could not move. */
export function pinTree(rootPid: number, cpu: string): number[] {
  return sampleTree(rootPid).pids.filter((pid) => !pinProcess(pid, cpu));
}

export function machine(): Record<string, unknown> {
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpus: availableParallelism(),
    kernel: release(),
    loadavg: loadavg(),
  };
}
