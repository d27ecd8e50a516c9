/**
 * The programs tests run, found on PATH (never by a fixed path, so that hiding one from PATH is
 * enough to see what a machine without it does), each with its Debian package
 * (scripts/test-tools.json). A test that needs a missing program fails at once with the command
 * that installs it, instead of skipping (a skipped suite would let a regression pass) or hanging.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './proxy-process.ts';

interface ToolEntry {
  readonly tool: string;
  readonly package: string;
  readonly for: string;
}

export const TOOLS: readonly ToolEntry[] = (
  JSON.parse(readFileSync(join(ROOT, 'scripts', 'test-tools.json'), 'utf8')) as { tools: ToolEntry[] }
).tools;

/** A program a test needs is not installed. */
export class MissingToolError extends Error {
  constructor(tools: readonly string[]) {
    const entries = tools.map((t) => TOOLS.find((e) => e.tool === t));
    const packages = [...new Set(entries.map((e, i) => e?.package ?? tools[i]!))];
    // nginx and haproxy live in /usr/sbin, which is not on every user's PATH.
    const sbin = tools.filter((t) => existsSync(`/usr/sbin/${t}`) || existsSync(`/sbin/${t}`));
    super(
      `${tools.join(', ')} ${tools.length === 1 ? 'is' : 'are'} not installed (not found on PATH): apt-get install -y --no-install-recommends ${packages.join(' ')}${sbin.length > 0 ? ` (${sbin.join(', ')} ${sbin.length === 1 ? 'is' : 'are'} in /usr/sbin: add it to PATH)` : ''}`,
    );
    this.name = 'MissingToolError';
  }
}

/** The absolute path of `tool` on PATH, or undefined. */
export function findOnPath(tool: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of path.split(':')) {
    if (dir === '') continue;
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const found = new Map<string, string>();

/** The absolute path of `tool`; throws MissingToolError (with the install command) when it is missing. */
export function toolPath(tool: string): string {
  const known = found.get(tool);
  if (known !== undefined) return known;
  const p = findOnPath(tool);
  if (p === undefined) throw new MissingToolError([tool]);
  found.set(tool, p);
  return p;
}

/** Throws one MissingToolError naming every missing tool (for a suite's `before`). */
export function requireTools(...tools: string[]): void {
  const missing = tools.filter((t) => findOnPath(t) === undefined);
  if (missing.length > 0) throw new MissingToolError(missing);
}

/** `cmd` resolved when it is a program of the list (a missing one throws), else unchanged. */
export function resolveCommand(cmd: string): string {
  return !cmd.includes('/') && TOOLS.some((e) => e.tool === cmd) ? toolPath(cmd) : cmd;
}

/** Runs `file` (a path, not looked up) to its end: exit code, stdout and stderr together. */
export function runProcess(
  file: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** Runs a test tool (found as `resolveCommand` finds it) to its end: exit code, stdout and stderr together. */
export function runTool(cmd: string, args: readonly string[]): Promise<{ code: number | null; out: string }> {
  return runProcess(resolveCommand(cmd), args);
}

/**
 * `dig +short` for one name and type, asked of a name server on 127.0.0.1 at `port` without
 * recursion (the test name servers: named.ts, pdns.ts); throws on dig's failure.
 */
export async function digShort(port: number, name: string, type: string): Promise<string> {
  const r = await runProcess(toolPath('dig'), [
    '@127.0.0.1',
    '-p',
    String(port),
    '+short',
    '+norecurse',
    '+time=1',
    '+tries=1',
    name,
    type,
  ]);
  if (r.code !== 0) throw new Error(`dig ${name} ${type}: ${r.out}`);
  return r.out;
}
