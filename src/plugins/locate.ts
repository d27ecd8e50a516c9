import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';

/** Where a plugin's module is looked for: the static configuration, resolved. */
export interface PluginDeclaration {
  readonly name: string;
  /**
   * The module's file or folder: `path` when given (relative to the static file's folder), else
   * Traefik's local layout, `<working directory>/plugins-local/src/<moduleName>`.
   */
  readonly target: string;
  /** Said when nothing is there: where such plugins are expected. */
  readonly hint?: string;
  /** `settings.envs`: what a WebAssembly guest sees of the environment (Traefik's Settings.Envs). */
  readonly envs?: readonly string[];
  /** `settings.mounts`: directories a WebAssembly guest sees (Traefik's Settings.Mounts). */
  readonly mounts?: readonly string[];
  /** A catalog plugin that could not be installed (remote.ts): why; the plugin is unusable. */
  readonly failed?: string;
}

/** Traefik's local plugins folder under the working directory (pkg/plugins: `localGoPath` + `src`). */
export const LOCAL_PLUGINS_DIR = join('plugins-local', 'src');

/** The file names tried, in order, in a plugin's folder that has no package.json `main`. */
export const INDEX_FILES = ['index.ts', 'index.mts', 'index.js', 'index.mjs'] as const;

const MODULE_FILE = /\.(ts|mts|js|mjs)$/;

export function declarationOf(
  name: string,
  decl: {
    readonly moduleName?: string | undefined;
    readonly path?: string | undefined;
    readonly settings?:
      | { readonly envs?: readonly string[] | undefined; readonly mounts?: readonly string[] | undefined }
      | undefined;
  },
  cwd: string,
  staticDir: string,
): PluginDeclaration {
  const extra = settingsOf(decl.settings);
  if (decl.path !== undefined) {
    return { name, target: isAbsolute(decl.path) ? decl.path : resolve(staticDir, decl.path), ...extra };
  }
  return {
    name,
    target: resolve(cwd, LOCAL_PLUGINS_DIR, decl.moduleName ?? ''),
    hint: `Traefik's layout: ./${LOCAL_PLUGINS_DIR}/<moduleName> in the working directory; or set path`,
    ...extra,
  };
}

/** The declaration's `envs` and `mounts`, when set and not empty. */
export function settingsOf(
  s:
    | { readonly envs?: readonly string[] | undefined; readonly mounts?: readonly string[] | undefined }
    | undefined,
): { envs?: readonly string[]; mounts?: readonly string[] } {
  const out: { envs?: readonly string[]; mounts?: readonly string[] } = {};
  if (s?.envs !== undefined && s.envs.length > 0) out.envs = s.envs;
  if (s?.mounts !== undefined && s.mounts.length > 0) out.mounts = s.mounts;
  return out;
}

/**
 * The module file of a plugin: the target itself when it is a file, else in its folder the
 * package.json `main`, else the first of INDEX_FILES. An error names every place looked at.
 */
export function entryFile(
  target: string,
): { readonly file: string; readonly wasm?: true } | { readonly error: string; readonly missing?: true } {
  let isDir: boolean;
  try {
    isDir = statSync(target).isDirectory();
  } catch {
    return { error: `no plugin module at ${target} (no such file or folder)`, missing: true };
  }
  if (!isDir) {
    // Ours: `path` may name a WebAssembly guest itself, without a Traefik manifest.
    if (target.endsWith('.wasm')) return { file: target, wasm: true };
    return MODULE_FILE.test(target)
      ? { file: target }
      : {
          error: `${target} is not a TypeScript or JavaScript module (.ts, .mts, .js, .mjs) nor a WebAssembly guest (.wasm)`,
        };
  }
  // A Traefik plugin folder whose manifest says `runtime: wasm` (pkg/plugins/types.go Manifest).
  const manifestFile = join(target, '.traefik.yml');
  const manifest = existsSync(manifestFile) ? readManifest(manifestFile) : undefined;
  if (manifest !== undefined && !('error' in manifest) && manifest.runtime === 'wasm') {
    if (manifest.type !== 'middleware') {
      return {
        error: `${manifestFile}: type ${JSON.stringify(manifest.type)}: only middleware plugins run here`,
      };
    }
    // Traefik's wasm.go: wasmPath, "plugin.wasm" when empty, under the plugin's folder.
    const file = resolve(target, manifest.wasmPath === '' ? 'plugin.wasm' : manifest.wasmPath);
    return existsSync(file)
      ? { file, wasm: true }
      : { error: `${manifestFile}: its Wasm binary, ${file}, does not exist` };
  }
  const pkg = join(target, 'package.json');
  if (existsSync(pkg)) {
    const main = packageMain(pkg);
    if (typeof main === 'object') return main;
    if (main !== undefined) {
      const file = resolve(target, main);
      return existsSync(file) ? { file } : { error: `${pkg}: its main, ${file}, does not exist` };
    }
  }
  for (const f of INDEX_FILES) {
    const file = join(target, f);
    if (existsSync(file)) return { file };
  }
  const looked = `looked for ${INDEX_FILES.join(', ')} and a package.json main`;
  // A Traefik (Go) plugin has its manifest there: say why it cannot work rather than "not found".
  if (manifest !== undefined && 'error' in manifest) return manifest;
  if (manifest !== undefined) {
    return {
      error: `${target} holds a Traefik Go (Yaegi) plugin (.traefik.yml, runtime ${JSON.stringify(manifest.runtime || 'yaegi')}); traffic runs WebAssembly plugins (runtime: wasm) and TypeScript and JavaScript plugins (${looked})`,
    };
  }
  return { error: `no plugin module in ${target} (${looked})` };
}

/** The keys of Traefik's plugin manifest that decide how it runs (pkg/plugins/types.go Manifest). */
export interface Manifest {
  readonly type: string;
  readonly runtime: string;
  readonly wasmPath: string;
}

export function readManifest(file: string): Manifest | { readonly error: string } {
  let doc: unknown;
  try {
    // Loaded here, when a plugin has a manifest: the serving process otherwise never loads `yaml`
    // (src/config-process/zod-free.test.ts; resident memory).
    const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    doc = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return { error: `${file}: ${e instanceof Error ? e.message : String(e)}` };
  }
  const m = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  const str = (k: string): string => (typeof m[k] === 'string' ? (m[k] as string) : '');
  return { type: str('type'), runtime: str('runtime'), wasmPath: str('wasmPath') };
}

function packageMain(file: string): string | undefined | { readonly error: string } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return { error: `${file}: ${e instanceof Error ? e.message : String(e)}` };
  }
  const main = typeof json === 'object' && json !== null ? (json as { main?: unknown }).main : undefined;
  return typeof main === 'string' && main !== '' ? main : undefined;
}
