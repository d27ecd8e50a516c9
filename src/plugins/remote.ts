import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import type { RemotePluginConfig } from '../config/static/schema.ts';
import type { Logger } from '../core/logger.ts';
import { type PluginDeclaration, settingsOf } from './locate.ts';
import { readZip } from './zip.ts';

/**
 * Traefik's plugin catalog (`experimental.plugins`, pkg/plugins/manager.go and downloader.go):
 * each plugin's archive is downloaded from plugins.traefik.io into `./plugins-storage/archives`
 * (`<moduleName>/<version>.zip`), its integrity checked by the catalog, and unpacked into
 * `./plugins-storage/sources`, where the plugin host loads it as a local plugin: a WebAssembly
 * plugin (`runtime: wasm`) runs; a Go (Yaegi) plugin is reported as unable to run here.
 */

/** Traefik's pluginsURL (pkg/plugins/manager.go). */
export const PLUGINS_URL = 'https://plugins.traefik.io/public/';
/** Ours: another catalog with the same API (a mirror, a test's fake); not a TRAFFIC_ variable, which would be a static key. */
export const PLUGINS_URL_ENV = 'TM_PLUGINS_URL';
/** Traefik's outputDir (cmd/traefik/plugins.go), under the working directory. */
export const PLUGINS_STORAGE = 'plugins-storage';
/** Traefik's hashHeader: the archive's SHA-256 the catalog compares with its own. */
const HASH_HEADER = 'x-plugin-hash';
const TIMEOUT_MS = 30_000;

export interface RemoteSetupOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /**
   * False in a data-plane worker: the control plane downloaded and unpacked the plugins before
   * it started the workers; a worker only loads what is there.
   */
  readonly download: boolean;
  readonly logger: Logger;
}

/**
 * Downloads, checks and unpacks every catalog plugin; each becomes a declaration for the plugin
 * host, failed (with why) when any step failed. Traefik then disables every plugin (its
 * SetupRemotePlugins stops at the first failure and resets the storage); here only the plugin
 * that failed is, and the routers using it, unless `abortOnPluginFailure` stops the start.
 */
export async function setupRemotePlugins(
  plugins: Readonly<Record<string, RemotePluginConfig>>,
  opts: RemoteSetupOptions,
): Promise<PluginDeclaration[]> {
  const root = resolve(opts.cwd ?? process.cwd(), PLUGINS_STORAGE);
  const base = catalogURL(opts.env ?? process.env);
  const out: PluginDeclaration[] = [];
  const state: Record<string, string> = {};
  if (opts.download) cleanArchives(root, plugins);
  for (const [name, p] of Object.entries(plugins)) {
    const target = join(root, 'sources', 'src', ...p.moduleName.split('/'));
    const decl: PluginDeclaration = { name, target, ...settingsOf(p.settings) };
    if (!opts.download) {
      out.push(
        existsSync(target) ? decl : { ...decl, failed: `${p.moduleName}@${p.version} was not installed` },
      );
      continue;
    }
    try {
      const hash = await download(base, root, p);
      // Traefik's InstallPlugin: a configured hash is compared here; without one the catalog
      // is asked whether the archive is intact.
      if (p.hash !== undefined) {
        if (p.hash !== hash)
          throw new Error(`invalid hash for plugin ${p.moduleName}, expected ${p.hash}, got ${hash}`);
      } else await check(base, p, hash);
      unpack(archivePath(root, p), target, p);
      state[p.moduleName] = p.version;
      opts.logger.info('plugin installed', { plugin: name, module: p.moduleName, version: p.version });
      out.push(decl);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      out.push({ ...decl, failed: `unable to install plugin ${p.moduleName}@${p.version}: ${why}` });
    }
  }
  if (opts.download) writeState(root, state);
  return out;
}

function catalogURL(env: NodeJS.ProcessEnv): URL {
  const given = env[PLUGINS_URL_ENV];
  const url = new URL(given !== undefined && given !== '' ? given : PLUGINS_URL);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function archivePath(root: string, p: RemotePluginConfig): string {
  return join(root, 'archives', ...p.moduleName.split('/'), `${p.version}.zip`);
}

/**
 * Traefik's RegistryDownloader.Download: `GET <catalog>/download/<moduleName>/<version>`, with
 * the hash of the archive already here, if any (the catalog then answers 304). Returns the hash
 * of the archive kept.
 */
async function download(base: URL, root: string, p: RemotePluginConfig): Promise<string> {
  const file = archivePath(root, p);
  let hash = existsSync(file) ? sha256(readFileSync(file)) : '';
  const res = await fetch(new URL(`download/${p.moduleName}/${p.version}`, base), {
    headers: hash === '' ? {} : { [HASH_HEADER]: hash },
    signal: AbortSignal.timeout(TIMEOUT_MS),
    redirect: 'follow',
  }).catch((e: unknown) => {
    throw new Error(`failed to call service: ${causeOf(e)}`);
  });
  if (res.status === 304 && hash !== '') {
    await res.body?.cancel();
    return hash;
  }
  if (res.status !== 200) {
    const text = (await res.text().catch(() => '')).slice(0, 512).trim();
    throw new Error(`error: ${res.status}: ${text}`);
  }
  const body = Buffer.from(await res.arrayBuffer());
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, body);
  hash = sha256(body);
  return hash;
}

/** Traefik's Check: `GET <catalog>/validate/<moduleName>/<version>` with the hash; 200 or refused. */
async function check(base: URL, p: RemotePluginConfig, hash: string): Promise<void> {
  const res = await fetch(new URL(`validate/${p.moduleName}/${p.version}`, base), {
    headers: { [HASH_HEADER]: hash },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }).catch((e: unknown) => {
    throw new Error(`failed to call service: ${causeOf(e)}`);
  });
  await res.body?.cancel();
  if (res.status !== 200) throw new Error('plugin integrity check failed');
}

/**
 * Traefik's Unzip: a Go module zip (every path under `<moduleName>@<version>/`, unzipModule) loses
 * that prefix; any other archive (unzipArchive: a GitHub archive's `<org>-<repo>-<sha>/`, a
 * WebAssembly plugin's) loses each path's first segment. A path that would leave the plugin's
 * folder is refused. The folder is emptied first.
 */
function unpack(archive: string, dest: string, module: RemotePluginConfig): void {
  const entries = readZip(readFileSync(archive));
  const prefix = `${module.moduleName}@${module.version}/`;
  const isModuleZip = entries.length > 0 && entries.every((e) => e.name.startsWith(prefix));
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  for (const e of entries) {
    const slash = e.name.indexOf('/');
    const rel = isModuleZip ? e.name.slice(prefix.length) : slash < 0 ? e.name : e.name.slice(slash + 1);
    if (rel === '') continue;
    const clean = normalize(rel);
    if (isAbsolute(clean) || clean.split(sep).includes('..')) {
      throw new Error(`invalid file path in archive: ${e.name}`);
    }
    const path = join(dest, clean);
    if (e.isDir) {
      mkdirSync(path, { recursive: true });
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, e.data, { mode: e.mode === 0 ? 0o644 : e.mode });
  }
}

/** Traefik's CleanArchives: the archives of other versions of the declared modules go. */
function cleanArchives(root: string, plugins: Readonly<Record<string, RemotePluginConfig>>): void {
  const previous = readState(root);
  for (const [module, version] of Object.entries(previous)) {
    for (const p of Object.values(plugins)) {
      if (p.moduleName === module && p.version !== version) {
        rmSync(archivePath(root, { moduleName: module, version }), { force: true });
      }
    }
  }
}

function readState(root: string): Record<string, string> {
  try {
    const v = JSON.parse(readFileSync(join(root, 'archives', 'state.json'), 'utf8')) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** Traefik's WriteState: `archives/state.json`, module → version. */
function writeState(root: string, state: Record<string, string>): void {
  try {
    mkdirSync(join(root, 'archives'), { recursive: true });
    writeFileSync(join(root, 'archives', 'state.json'), `${JSON.stringify(state, null, 2)}\n`, {
      mode: 0o600,
    });
  } catch {
    // Only used to clean old archives at the next start.
  }
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function causeOf(e: unknown): string {
  const c = e instanceof Error ? (e.cause ?? e) : e;
  if (c instanceof Error) return (c as { code?: string }).code ?? c.message;
  return String(c);
}
