import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../helpers/proxy-process.ts';
import { tryConnect } from '../helpers/raw-conn.ts';
import { within } from '../helpers/wait.ts';

/*
 * The README's promise: `npm start` (scripts/demo.ts) runs two demo backends on 127.0.0.1:9101
 * and :9102 and the proxy on config/example.yaml at http://127.0.0.1:8080/, and repeated curl
 * requests alternate between the backends. Fixed ports, so the test skips if one is taken.
 * Like `npm start`, it builds dist/ first when dist/ is missing or older than the sources.
 */

const PORTS = [8080, 9101, 9102] as const;
const run = promisify(execFile);

/** The first of `ports` that cannot be listened on, or undefined. */
async function takenPort(ports: readonly number[]): Promise<number | undefined> {
  for (const port of ports) {
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!free) return port;
    server.close();
    await once(server, 'close');
  }
  return undefined;
}

/** The newest modification time of the sources `npm run build` compiles. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

/** `npm start` builds dist/ first (the demo runs bin/traffic.js, which runs dist/): do the same when it is missing or stale. */
async function buildIfStale(): Promise<void> {
  const main = join(ROOT, 'dist', 'main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newestSource(join(ROOT, 'src'))) return;
  await run(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
    },
  );
}

async function curl(path: string): Promise<string> {
  const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-f', `http://127.0.0.1:8080${path}`]);
  return stdout;
}

/** Resolves with the first JSON log line on `child`'s stderr that satisfies `pred`. */
function waitForStderrLine(
  child: ChildProcess,
  pred: (l: Record<string, unknown>) => boolean,
  output: () => string,
): Promise<Record<string, unknown>> {
  let buf = '';
  return within(
    new Promise((resolve, reject) => {
      const onData = (d: string): void => {
        buf += d;
        let nl = buf.indexOf('\n');
        while (nl !== -1) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
          if (!line.startsWith('{')) continue;
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (pred(parsed)) {
            child.stderr!.off('data', onData);
            resolve(parsed);
            return;
          }
        }
      };
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`the demo exited (${code}):\n${output()}`)));
    }),
    'the demo proxy to apply its configuration',
    20_000,
  );
}

describe('README: npm start', () => {
  it('serves http://127.0.0.1:8080/ from two alternating demo backends, and stops on SIGTERM', async (t) => {
    const taken = await takenPort(PORTS);
    if (taken !== undefined) {
      t.skip(`port ${taken} on 127.0.0.1 is already in use: cannot run the demo on its fixed ports`);
      return;
    }
    await buildIfStale();
    // Its own process group, so that cleanup can take the proxy down with the demo if need be.
    const demo = spawn(process.execPath, [join(ROOT, 'scripts', 'demo.ts')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const exited = once(demo, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    t.after(() => {
      if (demo.exitCode === null && demo.signalCode === null && demo.pid !== undefined) {
        process.kill(-demo.pid, 'SIGKILL');
      }
    });
    let stdout = '';
    let stderr = '';
    demo.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    demo.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    await waitForStderrLine(
      demo,
      (l) => l.msg === 'configuration applied',
      () => stdout + stderr,
    );

    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) bodies.push(await curl('/'));
    const names = bodies.map((b) => /^Hello from (backend-[12]) /.exec(b)?.[1]);
    assert.ok(
      names.every((n) => n !== undefined),
      `every body names its backend: ${JSON.stringify(bodies)}`,
    );
    for (let i = 1; i < names.length; i++) {
      assert.notEqual(names[i], names[i - 1], `requests alternate: ${names.join(', ')}`);
    }
    // The example's /api router strips its prefix before the same service.
    assert.match(await curl('/api/hello'), /^Hello from backend-[12] .*\nGET \/hello\n/);
    // The example turns the access log on (stdout); lines are written in batches (a 50 ms timer).
    const logDeadline = Date.now() + 10_000;
    while (!/"GET \/ HTTP\/1\.1" 200 /.test(stdout) && Date.now() < logDeadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.match(stdout, /"GET \/ HTTP\/1\.1" 200 /);

    demo.kill('SIGTERM');
    const [code, signal] = await within(exited, 'the demo to exit', 20_000);
    assert.equal(signal, null);
    assert.equal(code, 0, stderr);
    for (const port of PORTS) assert.equal(await tryConnect(port), 'ECONNREFUSED', `port ${port} is closed`);
  });
});
