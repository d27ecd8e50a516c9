/**
 * Stopping the parent stops the proxy: a parent process (a small node script here, playing npm or
 * a supervisor) starts the real proxy and is then killed with SIGKILL, which it cannot forward.
 * Started by npm (npm_command set, as `npx traffic` and `npm start` run it) or with an IPC
 * channel, the proxy notices and shuts down gracefully, logging why; its log goes to a file that
 * the test reads as it grows.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { type FSWatcher, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAIN } from '../helpers/proxy-process.ts';
import { within } from '../helpers/wait.ts';

/** The parent: starts the proxy with `stdio` to `log`, prints its pid, then waits forever. */
const PARENT = `
const { spawn } = require('node:child_process');
const { openSync } = require('node:fs');
const [main, config, log, ipc] = process.argv.slice(1);
const fd = openSync(log, 'a');
const child = spawn(process.execPath, [main, 'run', '--config', config], {
  stdio: ipc === 'ipc' ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd],
});
process.stdout.write(child.pid + '\\n');
setInterval(() => {}, 1 << 30);
`;

/** Resolves with the first JSON log line of `path` that `match` accepts, as the file grows. */
function logLine(path: string, match: (l: Record<string, unknown>) => boolean, ms = 40_000) {
  let watcher: FSWatcher | undefined;
  const found = new Promise<Record<string, unknown>>((resolve) => {
    const check = (): void => {
      let text = '';
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return;
      }
      for (const line of text.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const l = JSON.parse(line) as Record<string, unknown>;
          if (match(l)) resolve(l);
        } catch {
          // a line still being written
        }
      }
    };
    watcher = watch(dirname(path), check);
    check();
  });
  // On a timeout, the error carries the log's last lines: what the proxy did instead.
  return within(found, `a log line in ${path}`, ms)
    .catch((e: Error) => {
      let tail = '';
      try {
        tail = readFileSync(path, 'utf8').split('\n').slice(-12).join('\n');
      } catch {
        tail = '(no log file)';
      }
      throw new Error(`${e.message}; the log ends with:\n${tail}`);
    })
    .finally(() => watcher?.close());
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a proxy whose parent dies', () => {
  let dir: string;
  let config: string;
  const started: number[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'parent-exit-'));
    config = join(dir, 'traffic.yaml');
    writeFileSync(config, 'entryPoints:\n  web:\n    address: "127.0.0.1:0"\nlog: { level: INFO }\n');
  });
  after(() => {
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(name: string, env: NodeJS.ProcessEnv, ipc: boolean) {
    const log = join(dir, `${name}.log`);
    const { TRAFFIC_EXIT_WITH_PARENT: _a, npm_command: _b, ...base } = process.env;
    const parent = spawn(process.execPath, ['-e', PARENT, MAIN, config, log, ipc ? 'ipc' : ''], {
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = await within(
      new Promise<number>((resolve) =>
        parent.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))),
      ),
      'the proxy pid',
    );
    started.push(pid);
    await logLine(log, (l) => l['msg'] === 'entry point listening');
    const exited = new Promise<void>((resolve) => parent.once('exit', () => resolve()));
    parent.kill('SIGKILL');
    await exited;
    return { pid, log };
  }

  it('shuts down when started by npm (npm_command) and npm goes away', async () => {
    const { log } = await run('npm', { npm_command: 'exec' }, false);
    const gone = await logLine(log, (l) => l['msg'] === 'parent process gone: shutting down');
    assert.match(String(gone['reason']), /^parent process \d+ exited \(now \d+\)$/);
    await logLine(log, (l) => l['msg'] === 'stopped');
  });

  it('shuts down when its IPC channel closes', async () => {
    const { log } = await run('ipc', {}, true);
    const gone = await logLine(log, (l) => l['msg'] === 'parent process gone: shutting down');
    assert.equal(gone['reason'], 'parent process exited (IPC channel closed)');
    await logLine(log, (l) => l['msg'] === 'stopped');
  });
});
