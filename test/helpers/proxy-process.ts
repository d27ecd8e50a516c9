/**
 * Runs the real proxy as a child process (`node src/main.ts run --config FILE`), as a user would,
 * with its configuration written to a temporary folder. Entry points should listen on port 0;
 * the bound ports are read from the proxy's own "entry point listening" log lines (at INFO: see
 * infoUnlessSet).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseToml } from '../../src/config/toml-source.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MAIN = join(ROOT, 'src', 'main.ts');

export interface LogLine {
  readonly level?: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export interface ProxyProcess {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly configPath: string;
  /** Bound port per entry point name. */
  readonly ports: Readonly<Record<string, number>>;
  /** The first entry point's port. */
  readonly port: number;
  /** Every JSON line the proxy wrote to stderr so far. */
  readonly logs: LogLine[];
  /** Raw stdout (access log lines go there by default). */
  stdout(): string;
  /** Resolves with the first log line (past or future) that satisfies `pred`. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Writes a file in the proxy's folder atomically (write + rename), as editors do. */
  writeFile(name: string, text: string): string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

export interface StartOptions {
  /**
   * The static file's YAML text. It may include dynamic sections (`http:`, `tcp:`, `udp:`,
   * `tls:`) when it has no `providers.file`: the proxy is then started with
   * `--providers.file.filename` naming the static file, so that its file provider reads them (as
   * in Traefik, which ignores those sections unless a provider reads the file).
   */
  readonly config: string;
  /** Extra files written beside it before start (name → text). */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
  /** How many entry points to wait for (default: count of `address:` lines). */
  readonly entryPoints?: number;
  /** Wait for the first configuration to be applied (default true). */
  readonly waitForConfig?: boolean;
  /** The static file's name (default traffic.yaml; `.toml` makes it a TOML file). */
  readonly configName?: string;
  /** The proxy's entry module (default src/main.ts; the soak runs dist/main.js). */
  readonly main?: string;
  /** A command the proxy runs under, e.g. `['prlimit', '--nofile=256:256', '--']` (chaos tests). */
  readonly wrap?: readonly string[];
  /** Options for node itself, before the entry module (e.g. `--trace-gc`, which NODE_OPTIONS refuses). */
  readonly nodeArgs?: readonly string[];
}

export async function startProxy(opts: StartOptions): Promise<ProxyProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-e2e-'));
  const configPath = join(dir, opts.configName ?? 'traffic.yaml');
  writeFileSync(configPath, opts.config);
  for (const [name, text] of Object.entries(opts.files ?? {})) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const argv = [
    ...(opts.nodeArgs ?? []),
    opts.main ?? MAIN,
    'run',
    '--config',
    configPath,
    ...(opts.args ?? []),
  ];
  const helperEnv = {
    ...selfReading(opts.config, configPath),
    ...infoUnlessSet(opts.config, configPath, opts.args ?? [], opts.env),
  };
  const [command, ...prefix] = opts.wrap ?? [];
  const child = spawn(
    command ?? process.execPath,
    command === undefined ? argv : [...prefix, process.execPath, ...argv],
    {
      cwd: dir,
      // Servers keep their listed order (a fresh wrr picker takes the first), unless a test
      // asks for Traefik's shuffle with TM_SERVER_ORDER: ''.
      env: { ...process.env, TM_SERVER_ORDER: 'listed', ...helperEnv, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const logs: LogLine[] = [];
  const waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let stdout = '';
  let errBuf = '';
  let rawErr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    errBuf += d;
    rawErr += d;
    let nl = errBuf.indexOf('\n');
    while (nl !== -1) {
      const line = errBuf.slice(0, nl);
      errBuf = errBuf.slice(nl + 1);
      nl = errBuf.indexOf('\n');
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        parsed = { msg: line, level: 'raw' };
      }
      logs.push(parsed);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]!.pred(parsed)) waiters.splice(i, 1)[0]!.resolve(parsed);
      }
    }
  });
  // 'close' (not 'exit'): stdout and stderr have been read to the end by then.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const waitForLog = (pred: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> => {
    const found = logs.find(pred);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out waiting for a log line; logs so far:\n${rawErr}`));
      }, timeoutMs);
      waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`proxy exited (${code}) while waiting; logs:\n${rawErr}`));
      });
    });
  };
  const expected = opts.entryPoints ?? (opts.config.match(/^\s+address:/gm) ?? []).length;
  const ports: Record<string, number> = {};
  // Generous: a loaded 2-core machine running the suite two files at a time starts a proxy in
  // seconds, not milliseconds (nothing asserts this time; it only bounds a hang).
  const timeoutMs = opts.timeoutMs ?? 30_000;
  try {
    while (Object.keys(ports).length < expected) {
      const l = await waitForLog(
        (x) => x.msg === 'entry point listening' && ports[String(x.entryPoint)] === undefined,
        timeoutMs,
      );
      ports[String(l.entryPoint)] = Number(String(l.address).split(':').pop());
    }
    if (opts.waitForConfig !== false) {
      await waitForLog(
        (x) => x.msg === 'configuration applied' || x.msg === 'configuration rejected',
        timeoutMs,
      );
    }
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const proc: ProxyProcess = {
    child,
    dir,
    configPath,
    ports,
    port: Object.values(ports)[0] ?? 0,
    logs,
    stdout: () => stdout,
    waitForLog,
    writeFile(name, text) {
      const target = join(dir, name);
      const tmp = `${target}.tmp-${process.pid}`;
      writeFileSync(tmp, text);
      renameSync(tmp, target);
      return target;
    },
    async stop(signal = 'SIGTERM', timeout = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) {
        const code = await exited;
        rmSync(dir, { recursive: true, force: true });
        return code;
      }
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
      const code = await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
    exited,
  };
  return proc;
}

const DYNAMIC = new Set(['http', 'tcp', 'udp', 'tls']);

/**
 * `TRAFFIC_LOG_LEVEL=INFO` for a `run` whose static file (or, without a file, flags and
 * environment) sets no level: the proxy's default is ERROR, as Traefik's (types.TraefikLog
 * SetDefaults), and the helpers read its INFO lines (`entry point listening`, `configuration
 * applied`). The one place every test that starts the proxy through startProxy or runCli gets
 * its log level from. A variable of ours, not a flag: flags given with a file are ignored, as
 * Traefik ignores them (src/cli/static-source.ts), and `TRAFFIC_` variables apply over any source.
 */
export function infoUnlessSet(
  text: string | undefined,
  configPath: string | undefined,
  args: readonly string[],
  env: NodeJS.ProcessEnv | undefined,
): Record<string, string> {
  const withFile = configPath !== undefined;
  if (!withFile && args.some((a) => /^--log\.level(=|$)/i.test(a))) return {};
  const all = { ...process.env, ...env };
  const levelVar = withFile ? /^TRAFFIC_LOG_LEVEL$/i : /^(TRAFFIC|TRAEFIK)_LOG_LEVEL$/i;
  if (Object.keys(all).some((k) => levelVar.test(k) && all[k] !== undefined)) return {};
  if (text !== undefined && configPath !== undefined) {
    let data: unknown;
    try {
      data = configPath.endsWith('.toml') ? parseToml(text, configPath).data : parseYaml(text);
    } catch {
      data = undefined;
    }
    const field = (o: unknown, name: string): unknown =>
      typeof o === 'object' && o !== null
        ? Object.entries(o).find(([k]) => k.toLowerCase() === name)?.[1]
        : undefined;
    if (field(field(data, 'log'), 'level') !== undefined) return {};
  }
  return { TRAFFIC_LOG_LEVEL: 'INFO' };
}

/**
 * `TRAFFIC_PROVIDERS_FILE_FILENAME=<the static file>` when the static text holds dynamic sections
 * and no file provider of its own, so that they are read (Traefik reads dynamic configuration
 * from providers only). With a file provider of its own, such sections would be ignored: a test
 * mistake, refused here. A variable of ours, as infoUnlessSet's.
 */
export function selfReading(text: string, configPath: string, strict = true): Record<string, string> {
  let data: unknown;
  try {
    data = configPath.endsWith('.toml') ? parseToml(text, configPath).data : parseYaml(text);
  } catch {
    return {}; // A test of a broken static file.
  }
  if (typeof data !== 'object' || data === null) return {};
  const keys = Object.keys(data);
  if (!keys.some((k) => DYNAMIC.has(k.toLowerCase()))) return {};
  const providers = keys.find((k) => k.toLowerCase() === 'providers');
  const p = providers === undefined ? undefined : (data as Record<string, unknown>)[providers];
  const file =
    typeof p === 'object' && p !== null
      ? Object.entries(p).find(([k]) => k.toLowerCase() === 'file')
      : undefined;
  if (file !== undefined) {
    const named = (file[1] as { filename?: unknown } | null)?.filename;
    if (named === configPath || named === basename(configPath) || !strict) return {};
    throw new Error(
      'startProxy: the static file has dynamic sections and a providers.file that does not read them',
    );
  }
  return { TRAFFIC_PROVIDERS_FILE_FILENAME: configPath };
}
