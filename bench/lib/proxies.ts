import { readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GRPC_PATH } from './grpc-mode.ts';
import { type BenchMode, MODE_INFO } from './modes.ts';
import type { Build, Variant } from './options.ts';
import { generateRoutesConfig } from './routes-config.ts';
import { renderTemplate } from './template.ts';
import { certificatePaths } from './tls-cert.ts';

export const PROXY_HOST = '127.0.0.1';
export const PROXY_PORT = 8080;
/** Where every proxy listens in the TLS modes. */
export const TLS_PORT = 8443;
export const BACKEND_URL = 'http://127.0.0.1:9001';
const READY_URL = `http://${PROXY_HOST}:${PROXY_PORT}/`;
/** `--mode grpc`: the gRPC method every request calls (h2c, through each proxy). */
const GRPC_URL = `http://${PROXY_HOST}:${PROXY_PORT}${GRPC_PATH}`;
const TLS_READY_URL = `https://${PROXY_HOST}:${TLS_PORT}/`;

/** The port the proxies listen on in `mode`. */
export function proxyPort(mode: BenchMode): number {
  return MODE_INFO[mode].tls ? TLS_PORT : PROXY_PORT;
}

/** The URL the client loads in `mode` (the certificate also names 127.0.0.1). */
export function proxyUrl(mode: BenchMode): string {
  if (mode === 'compress') return `${READY_URL.replace(/\/$/, '')}${COMPRESS_PATH}`;
  if (mode === 'grpc') return GRPC_URL;
  return MODE_INFO[mode].tls ? TLS_READY_URL : READY_URL;
}

/** `--mode compress`: what the backend serves (bench/run.ts writes it), and how big it is. */
export const COMPRESS_PATH = '/data.json';
export const COMPRESS_BODY_BYTES = 100_000;

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
  /** How readiness is checked: a GET (default), or a gRPC call over h2c (`--mode grpc`). */
  readonly readiness?: 'http' | 'grpc';
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
  const file = conf.startsWith('/') ? conf : join(ctx.paths.peersDir, conf);
  return { file: 'nginx', args: ['-p', prefix, '-c', file, '-e', `${prefix}error.log`] };
}

export function backendCommand(ctx: RunContext): ProxyCommand {
  return nginxCommand('backend-nginx.conf', ctx);
}

/** Our proxy's entry, relative to a checkout: the `traffic` command (it runs that checkout's dist/). */
export const OURS_ENTRY = 'bin/traffic.js';

function oursSpec(
  name: string,
  config: (paths: BenchPaths) => string,
  readyTimeoutMs: number,
  readinessUrl = READY_URL,
  main = OURS_ENTRY,
): ProxySpec {
  return {
    name,
    ours: true,
    readinessUrl,
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
        // The `traffic` command, which runs the built JavaScript (npm run build): no type stripping
        // at run time, and the optimizing compilers held off while the modules load, as users get it.
        // Each bench configuration is one file, static and dynamic: its file provider names it, as
        // Traefik reads a static file's own `http:` only through a provider reading that file. A
        // TRAFFIC_ variable, not a flag: flags given with a file are ignored, as Traefik ignores them.
        args: [...profile, main, '--config', config(paths)],
        env: { TRAFFIC_PROVIDERS_FILE_FILENAME: config(paths) },
        cwd: paths.repoRoot,
      };
    },
  };
}

const TEN_K = 10_000;
const tenKConfig = (paths: BenchPaths) => join(paths.tmpDir, 'ours-10k.yaml');

/** The values of the `${BENCH_TLS_*}` placeholders in the TLS templates. */
export function tlsTemplateVars(tmpDir: string): Record<string, string> {
  const c = certificatePaths(tmpDir);
  return { BENCH_TLS_CERT: c.certFile, BENCH_TLS_KEY: c.keyFile, BENCH_TLS_PEM: c.pemFile };
}

/** A template rendered into the temp dir under `name`; the command then reads the rendered file. */
const rendered = (paths: BenchPaths, name: string) => join(paths.tmpDir, name);

function renderInto(template: (paths: BenchPaths) => string, name: string) {
  return async (paths: BenchPaths): Promise<void> => {
    const text = await readFile(template(paths), 'utf8');
    await writeFile(rendered(paths, name), renderTemplate(text, tlsTemplateVars(paths.tmpDir)));
  };
}

/**
 * The TLS modes: the same peers and our proxy on 127.0.0.1:8443 with the bench certificate, all
 * proxying to the same cleartext backend. Variants are rendered like bench-tls.yaml, so they can
 * name the certificate with the same placeholders. ours-10k is about routing, not TLS: not here.
 */
function tlsProxies(variants: readonly Variant[]): ProxySpec[] {
  const peer = (name: string, requires: string, template: string, out: string) => ({
    name,
    ours: false,
    readinessUrl: TLS_READY_URL,
    readyTimeoutMs: 10_000,
    requires: [requires],
    prepare: renderInto((paths) => join(paths.peersDir, template), out),
  });
  const peers: ProxySpec[] = [
    {
      ...peer('nginx', 'nginx', 'proxy-nginx-tls.conf', 'nginx-tls.conf'),
      command: (ctx) => nginxCommand(rendered(ctx.paths, 'nginx-tls.conf'), ctx),
    },
    {
      ...peer('haproxy', 'haproxy', 'haproxy-tls.cfg', 'haproxy-tls.cfg'),
      command: ({ paths }) => ({ file: 'haproxy', args: ['-db', '-f', rendered(paths, 'haproxy-tls.cfg')] }),
    },
    {
      ...peer('caddy', 'caddy', 'Caddyfile-tls', 'Caddyfile-tls'),
      command: ({ paths, runDir }) => ({
        file: 'caddy',
        args: ['run', '--adapter', 'caddyfile', '--config', rendered(paths, 'Caddyfile-tls')],
        env: { GOMAXPROCS: '1', XDG_CONFIG_HOME: runDir, XDG_DATA_HOME: runDir },
      }),
    },
  ];
  const ours: ProxySpec = {
    ...oursSpec('ours', (paths) => rendered(paths, 'ours-tls.yaml'), 10_000, TLS_READY_URL),
    prepare: renderInto((paths) => join(paths.repoRoot, 'bench/configs/bench-tls.yaml'), 'ours-tls.yaml'),
  };
  const extra = variants.map((v) => {
    const out = `variant-${v.name}-${basename(v.config)}`;
    return {
      ...oursSpec(v.name, (paths) => rendered(paths, out), 30_000, TLS_READY_URL),
      prepare: renderInto(() => resolve(v.config), out),
    };
  });
  return [...peers, ours, ...extra];
}

/**
 * `--mode grpc`: every proxy on 127.0.0.1:8080 speaking h2c to its clients and to the Node h2c
 * backend on 127.0.0.1:9003 (nginx `grpc_pass`, HAProxy `proto h2`, Caddy `h2c://`, ours
 * `h2c://`). Readiness is a gRPC call: the listeners take HTTP/2 only.
 */
function grpcProxies(variants: readonly Variant[]): ProxySpec[] {
  const peer = (name: string, requires: string) => ({
    name,
    ours: false,
    readinessUrl: GRPC_URL,
    readiness: 'grpc' as const,
    readyTimeoutMs: 10_000,
    requires: [requires],
  });
  const peers: ProxySpec[] = [
    { ...peer('nginx', 'nginx'), command: (ctx) => nginxCommand('proxy-nginx-grpc.conf', ctx) },
    {
      ...peer('haproxy', 'haproxy'),
      command: ({ paths }) => ({
        file: 'haproxy',
        args: ['-db', '-f', join(paths.peersDir, 'haproxy-grpc.cfg')],
      }),
    },
    {
      ...peer('caddy', 'caddy'),
      command: ({ paths, runDir }) => ({
        file: 'caddy',
        args: ['run', '--adapter', 'caddyfile', '--config', join(paths.peersDir, 'Caddyfile-grpc')],
        env: { GOMAXPROCS: '1', XDG_CONFIG_HOME: runDir, XDG_DATA_HOME: runDir },
      }),
    },
  ];
  const ours = [oursSpec('ours', () => 'bench/configs/bench-grpc.yaml', 10_000, GRPC_URL)];
  const extra = variants.map((v) => oursSpec(v.name, () => resolve(v.config), 30_000, GRPC_URL));
  return [...peers, ...ours, ...extra].map((p) => ({ ...p, readiness: 'grpc' as const }));
}

/** A peer of the cleartext HTTP modes, ready when a GET on port 8080 answers; `command` to add. */
function peer(name: string, ...requires: string[]) {
  return { name, ours: false, readinessUrl: READY_URL, readyTimeoutMs: 10_000, requires };
}

/** Caddy with the cleartext HTTP Caddyfile and `goMaxProcs` Go scheduler threads. */
function caddyPeer(name: string, goMaxProcs: string): ProxySpec {
  return {
    ...peer(name, 'caddy'),
    command: ({ paths, runDir }) => ({
      file: 'caddy',
      args: ['run', '--adapter', 'caddyfile', '--config', join(paths.peersDir, 'Caddyfile')],
      // Caddy's state stays in the run dir.
      env: { GOMAXPROCS: goMaxProcs, XDG_CONFIG_HOME: runDir, XDG_DATA_HOME: runDir },
    }),
  };
}

/** HAProxy with the config `cfg` names. */
function haproxyPeer(name: string, cfg: (paths: BenchPaths) => string): ProxySpec {
  return {
    ...peer(name, 'haproxy'),
    command: ({ paths }) => ({ file: 'haproxy', args: ['-db', '-f', cfg(paths)] }),
  };
}

/** The peers of `--mode http`, each with one worker (Caddy: one Go scheduler thread). */
function httpPeers(): ProxySpec[] {
  return [
    { ...peer('nginx', 'nginx'), command: (ctx) => nginxCommand('proxy-nginx.conf', ctx) },
    haproxyPeer('haproxy', (paths) => join(paths.peersDir, 'haproxy.cfg')),
    caddyPeer('caddy', '1'),
  ];
}

/** Where `--mode ws` proxies to: a WebSocket echo server (bench/lib/ws-echo-server.ts). */
export const WS_BACKEND_PORT = 9002;

/** `--mode ws`: the same peers and ours, each with its WebSocket configuration. */
function wsProxies(variants: readonly Variant[]): ProxySpec[] {
  return [
    { ...peer('nginx', 'nginx'), command: (ctx: RunContext) => nginxCommand('proxy-nginx-ws.conf', ctx) },
    {
      ...peer('haproxy', 'haproxy'),
      command: ({ paths }: RunContext) => ({
        file: 'haproxy',
        args: ['-db', '-f', join(paths.peersDir, 'haproxy-ws.cfg')],
      }),
    },
    {
      ...peer('caddy', 'caddy'),
      command: ({ paths, runDir }: RunContext) => ({
        file: 'caddy',
        args: ['run', '--adapter', 'caddyfile', '--config', join(paths.peersDir, 'Caddyfile-ws')],
        env: { GOMAXPROCS: '1', XDG_CONFIG_HOME: runDir, XDG_DATA_HOME: runDir },
      }),
    },
    oursSpec('ours', () => 'bench/configs/bench-ws.yaml', 10_000),
    ...variants.map((v) => oursSpec(v.name, () => resolve(v.config), 30_000)),
  ];
}

/** `--mode compress`: each proxy gzips the backend's 100 KB JSON at level 1 (nginx's gzip_comp_level 1). */
function compressProxies(variants: readonly Variant[]): ProxySpec[] {
  return [
    { ...peer('nginx', 'nginx'), command: (ctx: RunContext) => nginxCommand('proxy-nginx-gzip.conf', ctx) },
    {
      ...peer('haproxy', 'haproxy'),
      command: ({ paths }: RunContext) => ({
        file: 'haproxy',
        args: ['-db', '-f', join(paths.peersDir, 'haproxy-gzip.cfg')],
      }),
    },
    {
      ...peer('caddy', 'caddy'),
      command: ({ paths, runDir }: RunContext) => ({
        file: 'caddy',
        args: ['run', '--adapter', 'caddyfile', '--config', join(paths.peersDir, 'Caddyfile-gzip')],
        env: { GOMAXPROCS: '1', XDG_CONFIG_HOME: runDir, XDG_DATA_HOME: runDir },
      }),
    },
    oursSpec('ours', () => 'bench/configs/bench-compress.yaml', 10_000),
    ...variants.map((v) => oursSpec(v.name, () => resolve(v.config), 30_000)),
  ];
}

/** The layer-4 backend (bench/lib/l4-backend.ts): TCP echo, TCP byte sink, UDP echo. */
export const L4_BACKEND_PORTS = [9006, 9008, 9007] as const;

/**
 * `--mode tcp-bulk`, `tcp-conn`, `udp`: HAProxy (mode tcp; it has no UDP) and nginx `stream`
 * beside ours, each forwarding 127.0.0.1:8080 to the layer-4 backend. Readiness is a TCP connect,
 * or for UDP a datagram echoed back.
 */
function l4Proxies(mode: BenchMode, variants: readonly Variant[]): ProxySpec[] {
  const kind = mode === 'tcp-bulk' ? 'bulk' : mode === 'tcp-conn' ? 'conn' : 'udp';
  const readinessUrl = `${mode === 'udp' ? 'udp' : 'tcp'}://${PROXY_HOST}:${PROXY_PORT}`;
  const peers: ProxySpec[] = [
    {
      name: 'nginx',
      ours: false,
      readinessUrl,
      readyTimeoutMs: 10_000,
      requires: ['nginx'],
      command: (ctx) => nginxCommand(`proxy-nginx-stream-${kind}.conf`, ctx),
    },
  ];
  if (mode !== 'udp') {
    peers.push({
      name: 'haproxy',
      ours: false,
      readinessUrl,
      readyTimeoutMs: 10_000,
      requires: ['haproxy'],
      command: ({ paths }) => ({
        file: 'haproxy',
        args: ['-db', '-f', join(paths.peersDir, `haproxy-tcp-${kind}.cfg`)],
      }),
    });
  }
  const config = mode === 'udp' ? 'bench/configs/bench-udp.yaml' : `bench/configs/bench-tcp-${kind}.yaml`;
  return [
    ...peers,
    oursSpec('ours', () => config, 10_000, readinessUrl),
    ...variants.map((v) => oursSpec(v.name, () => resolve(v.config), 30_000, readinessUrl)),
  ];
}

/** Every proxy the bench knows in `mode`, in the order runs interleave. */
export function allProxies(
  variants: readonly Variant[],
  mode: BenchMode = 'http',
  builds: readonly Build[] = [],
  nginxVariants: readonly Variant[] = [],
): ProxySpec[] {
  const all = proxiesOf(variants, mode, nginxVariants);
  const ours = all.find((p) => p.name === 'ours');
  if (ours === undefined) return all;
  // Another checkout's build runs with the very config and readiness of `ours` in this mode, and
  // of each variant too (as `<build>-<variant>`): before/after runs of a configuration. In
  // `--mode workers` also with `ours-2`'s (as `<build>-2`, the pair of `<build>`).
  const ours2 = all.find((p) => p.name === 'ours-2');
  const variantSpecs = all.filter((p) => variants.some((v) => v.name === p.name));
  const twinName = (b: Build, spec: ProxySpec) =>
    spec === ours ? b.name : spec === ours2 ? `${b.name}-2` : `${b.name}-${spec.name}`;
  return [
    ...all,
    ...builds.flatMap((b) =>
      [ours, ...(ours2 === undefined ? [] : [ours2]), ...variantSpecs].map((spec) => ({
        ...spec,
        name: twinName(b, spec),
        command: (ctx: RunContext) => {
          const cmd = spec.command(ctx);
          return {
            ...cmd,
            args: cmd.args.map((a) => (a === OURS_ENTRY ? join(resolve(b.dir), OURS_ENTRY) : a)),
          };
        },
      })),
    ),
  ];
}

function proxiesOf(
  variants: readonly Variant[],
  mode: BenchMode,
  nginxVariants: readonly Variant[],
): ProxySpec[] {
  if (mode === 'grpc') return grpcProxies(variants);
  if (MODE_INFO[mode].tls) return tlsProxies(variants);
  if (mode === 'ws') return wsProxies(variants);
  if (mode === 'compress') return compressProxies(variants);
  if (mode === 'tcp-bulk' || mode === 'tcp-conn' || mode === 'udp') return l4Proxies(mode, variants);
  if (mode === 'workers') return workersProxies(variants, nginxVariants);
  const peers = httpPeers();
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
  const floor = mode === 'http' || mode === 'latency' ? [nodeNetSpec()] : [];
  return [...peers, ...floor, ...ours, ...extra, ...nginxVariantSpecs(nginxVariants)];
}

/**
 * `node-net` (`--mode http` and `--mode latency` only): a bare relay on Node's net module
 * (bench/lib/node-relay.ts), run by the runner's Node. Not a proxy: the floor of Node's own I/O,
 * beside ours.
 */
function nodeNetSpec(): ProxySpec {
  return {
    ...peer('node-net'),
    command: ({ paths }) => ({
      file: paths.nodePath,
      args: [join(paths.repoRoot, 'bench/lib/node-relay.ts'), String(PROXY_PORT), new URL(BACKEND_URL).port],
      cwd: paths.repoRoot,
    }),
  };
}

/** nginx with another config (cleartext HTTP only): the peer of an `ours` variant. */
function nginxVariantSpecs(nginxVariants: readonly Variant[]): ProxySpec[] {
  return nginxVariants.map((v) => ({
    name: v.name,
    ours: false,
    readinessUrl: READY_URL,
    readyTimeoutMs: 10_000,
    requires: ['nginx'],
    command: (ctx) => nginxCommand(resolve(v.config), ctx),
  }));
}

/**
 * A copy of a peer's config in the temp dir with one line changed (`worker_processes 1;` →
 * `2;`): the two configs cannot drift apart. A line that is not there is an error.
 */
function changedCopy(template: string, line: RegExp, replacement: string, out: string) {
  return async (paths: BenchPaths): Promise<void> => {
    const text = await readFile(join(paths.peersDir, template), 'utf8');
    if (!line.test(text)) throw new Error(`bench/peers/${template}: no line ${line} to change`);
    await writeFile(rendered(paths, out), text.replace(line, replacement));
  };
}

/**
 * `--mode workers`: every proxy as in `--mode http` with one worker (thread, scheduler thread)
 * and as `<name>-2` with two; the runner pins nothing in this mode. Variants run once each
 * (`v` and `v-2` pair up like the others).
 */
function workersProxies(variants: readonly Variant[], nginxVariants: readonly Variant[]): ProxySpec[] {
  const [nginx, haproxy, caddy] = httpPeers();
  return [
    nginx!,
    {
      ...peer('nginx-2', 'nginx'),
      prepare: changedCopy(
        'proxy-nginx.conf',
        /^worker_processes 1;$/m,
        'worker_processes 2;',
        'nginx-2.conf',
      ),
      command: (ctx) => nginxCommand(rendered(ctx.paths, 'nginx-2.conf'), ctx),
    },
    haproxy!,
    {
      ...haproxyPeer('haproxy-2', (paths) => rendered(paths, 'haproxy-2.cfg')),
      prepare: changedCopy('haproxy.cfg', /^ {2}nbthread 1$/m, '  nbthread 2', 'haproxy-2.cfg'),
    },
    caddy!,
    caddyPeer('caddy-2', '2'),
    // Workers start after the control plane: the variants' longer readiness bound.
    oursSpec('ours', () => 'bench/configs/bench-workers-1.yaml', 30_000),
    oursSpec('ours-2', () => 'bench/configs/bench-workers-2.yaml', 30_000),
    ...variants.map((v) => oursSpec(v.name, () => resolve(v.config), 30_000)),
    ...nginxVariantSpecs(nginxVariants),
  ];
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
