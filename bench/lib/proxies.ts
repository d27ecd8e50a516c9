import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Variant } from './options.ts';
import { generateRoutesConfig } from './routes-config.ts';

export const PROXY_HOST = '127.0.0.1';
export const PROXY_PORT = 8080;
export const BACKEND_URL = 'http://127.0.0.1:9001';
const READY_URL = `http://${PROXY_HOST}:${PROXY_PORT}/`;

export interface BenchPaths {
  readonly repoRoot: string;
  readonly peersDir: string;
  /** Removed when the runner ends. */
  readonly tmpDir: string;
  /** The runner's own Node (24 under `npm run bench`), which also runs our proxy. */
  readonly nodePath: string;
  readonly profileDir: string;
}

export interface RunContext {
  readonly paths: BenchPaths;
  /** A fresh directory per run for pid files, logs and caches. */
  readonly runDir: string;
  /** Set when this run is profiled: the .cpuprofile file name to write into paths.profileDir. */
  readonly profileName: string | undefined;
}

export interface ProxyCommand {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** Everything the runner knows about a proxy; the runner pins the command to the proxy CPU. */
export interface ProxySpec {
  readonly name: string;
  /** Our proxy (the one `--profile` profiles), as opposed to a peer. */
  readonly ours: boolean;
  readonly readinessUrl: string;
  readonly readyTimeoutMs: number;
  /** Executables that must be on PATH (checked before the first round). */
  readonly requires: readonly string[];
  /** Once before the first round, e.g. to generate a config into paths.tmpDir. */
  readonly prepare?: (paths: BenchPaths) => Promise<void>;
  readonly command: (ctx: RunContext) => ProxyCommand;
}

function nginxCommand(conf: string, ctx: RunContext): ProxyCommand {
  // -p makes the config's relative pid/error_log/temp paths land in the run dir; -e replaces the
  // compiled-in error log, which nginx opens before it reads the config.
  const prefix = `${ctx.runDir}/`;
  return {
    file: 'nginx',
    args: ['-p', prefix, '-c', join(ctx.paths.peersDir, conf), '-e', `${prefix}error.log`],
  };
}

export function backendCommand(ctx: RunContext): ProxyCommand {
  return nginxCommand('backend-nginx.conf', ctx);
}

function oursSpec(name: string, config: (paths: BenchPaths) => string, readyTimeoutMs: number): ProxySpec {
  return {
    name,
    ours: true,
    readinessUrl: READY_URL,
    readyTimeoutMs,
    requires: [],
    command: ({ paths, profileName }) => {
      const profile =
        profileName === undefined
          ? []
          : [
              '--cpu-prof',
              `--cpu-prof-dir=${paths.profileDir}`,
              `--cpu-prof-name=${profileName}`,
              `--import=${pathToFileURL(join(paths.repoRoot, 'bench/lib/profile-exit.ts')).href}`,
            ];
      return {
        file: paths.nodePath,
        // The built JavaScript (npm run build), as `npm start` runs it: no type stripping at run time.
        args: [...profile, 'dist/main.js', '--config', config(paths)],
        cwd: paths.repoRoot,
      };
    },
  };
}

const TEN_K = 10_000;
const tenKConfig = (paths: BenchPaths) => join(paths.tmpDir, 'ours-10k.yaml');

/** Every proxy the bench knows, in the order runs interleave. */
export function allProxies(variants: readonly Variant[]): ProxySpec[] {
  const peers: ProxySpec[] = [
    {
      name: 'nginx',
      ours: false,
      readinessUrl: READY_URL,
      readyTimeoutMs: 10_000,
      requires: ['nginx'],
      command: (ctx) => nginxCommand('proxy-nginx.conf', ctx),
    },
    {
      name: 'haproxy',
      ours: false,
      readinessUrl: READY_URL,
      readyTimeoutMs: 10_000,
      requires: ['haproxy'],
      command: ({ paths }) => ({ file: 'haproxy', args: ['-db', '-f', join(paths.peersDir, 'haproxy.cfg')] }),
    },
    {
      name: 'caddy',
      ours: false,
      readinessUrl: READY_URL,
      readyTimeoutMs: 10_000,
      requires: ['caddy'],
      command: ({ paths, runDir }) => ({
        file: 'caddy',
        args: ['run', '--adapter', 'caddyfile', '--config', join(paths.peersDir, 'Caddyfile')],
        // One Go scheduler thread, like the one-worker peers; caddy's state stays in the run dir.
        env: { GOMAXPROCS: '1', XDG_CONFIG_HOME: runDir, XDG_DATA_HOME: runDir },
      }),
    },
  ];
  const ours: ProxySpec[] = [
    oursSpec('ours', () => 'bench/configs/bench.yaml', 10_000),
    {
      ...oursSpec('ours-10k', tenKConfig, 30_000),
      prepare: (paths) =>
        writeFile(
          tenKConfig(paths),
          generateRoutesConfig({
            routers: TEN_K,
            address: `${PROXY_HOST}:${PROXY_PORT}`,
            backendUrl: BACKEND_URL,
          }),
        ),
    },
  ];
  const extra = variants.map((v) => oursSpec(v.name, () => resolve(v.config), 30_000));
  return [...peers, ...ours, ...extra];
}

/** The proxies `--only` names (in its order), or all of them; unknown names are an error. */
export function selectProxies(all: readonly ProxySpec[], only: readonly string[] | undefined): ProxySpec[] {
  if (only === undefined) return [...all];
  return only.map((name) => {
    const spec = all.find((p) => p.name === name);
    if (!spec) throw new Error(`unknown proxy "${name}" (known: ${all.map((p) => p.name).join(', ')})`);
    return spec;
  });
}
