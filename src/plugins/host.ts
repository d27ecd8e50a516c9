import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Plugin } from '../../types/plugin.d.ts';
import type { Logger } from '../core/logger.ts';
import type { LoadedPlugin, PluginCatalog, UnusablePlugin } from './catalog.ts';
import { entryFile, type PluginDeclaration } from './locate.ts';
import { errorText } from './options.ts';
import { compileWasm, wasmPlugin } from './wasm.ts';

/**
 * The local plugins of the process: imports their modules, and imports again those whose file
 * changed when asked (`refresh`, before each configuration is applied), so that a plugin reloads
 * with the configuration. Node's ESM loader caches modules by URL and never unloads them: a
 * changed file is imported under a new URL (`?v=<inode.size.mtime>`), and the old module
 * instance stays in memory for the life of the process. The modules a plugin imports itself are
 * cached by their own URLs: they are loaded once.
 */
export class PluginHost implements PluginCatalog {
  readonly #decls: readonly PluginDeclaration[];
  readonly #logger: Logger;
  readonly #state = new Map<string, LoadedPlugin | UnusablePlugin>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(decls: readonly PluginDeclaration[], logger: Logger) {
    this.#decls = decls;
    this.#logger = logger;
  }

  get names(): readonly string[] {
    return this.#decls.map((d) => d.name);
  }

  get(name: string): LoadedPlugin | UnusablePlugin | undefined {
    return this.#state.get(name);
  }

  /** The plugins that cannot be used now, with why. */
  get unusable(): readonly UnusablePlugin[] {
    return [...this.#state.values()].filter((p): p is UnusablePlugin => 'error' in p);
  }

  /**
   * Imports the plugins that are not loaded yet and those whose module file changed. A plugin
   * that fails to load again keeps its previous version (logged). Calls are serialised.
   */
  refresh(): Promise<void> {
    const next = this.#queue.then(() => this.#refreshAll());
    this.#queue = next.catch(() => {});
    return next;
  }

  async #refreshAll(): Promise<void> {
    await Promise.all(this.#decls.map((d) => this.#refreshOne(d)));
  }

  async #refreshOne(decl: PluginDeclaration): Promise<void> {
    if (decl.failed !== undefined) {
      if (!this.#state.has(decl.name)) {
        this.#state.set(decl.name, { name: decl.name, error: decl.failed });
        this.#logger.error('plugin not loaded', { plugin: decl.name, error: decl.failed });
      }
      return;
    }
    const before = this.#state.get(decl.name);
    const loaded = before !== undefined && !('error' in before) ? before : undefined;
    const found = entryFile(decl.target);
    let version = '';
    if ('file' in found) {
      try {
        const st = statSync(found.file);
        version = `${st.ino}.${st.size}.${st.mtimeMs}`;
      } catch {
        // Gone between the two looks: reported by the import below.
      }
      if (loaded !== undefined && loaded.file === found.file && loaded.version === version) return;
    }
    const r =
      'error' in found
        ? { error: found.missing && decl.hint !== undefined ? `${found.error}; ${decl.hint}` : found.error }
        : found.wasm === true
          ? await loadWasm(decl.name, found.file, version, decl.envs ?? [], decl.mounts ?? [])
          : await importPlugin(decl.name, found.file, version);
    if (!('error' in r)) {
      this.#state.set(decl.name, r);
      this.#logger.info(loaded === undefined ? 'plugin loaded' : 'plugin reloaded', {
        plugin: decl.name,
        file: r.file,
      });
      return;
    }
    if (loaded !== undefined) {
      this.#logger.error('plugin reload failed: its previous version stays', {
        plugin: decl.name,
        error: r.error,
      });
      return;
    }
    if (before === undefined || ('error' in before && before.error !== r.error)) {
      this.#logger.error('plugin not loaded', { plugin: decl.name, error: r.error });
    }
    this.#state.set(decl.name, { name: decl.name, error: r.error });
  }
}

/** A WebAssembly plugin (Traefik's `runtime: wasm`): compiled once per version of its binary. */
async function loadWasm(
  name: string,
  file: string,
  version: string,
  envs: readonly string[],
  mounts: readonly string[],
): Promise<LoadedPlugin | { readonly error: string }> {
  const wasm = await compileWasm(file);
  if (typeof wasm === 'string') return { error: `${file}: ${wasm}` };
  return { name, file, version, plugin: wasmPlugin(wasm, envs, mounts) };
}

async function importPlugin(
  name: string,
  file: string,
  version: string,
): Promise<LoadedPlugin | { readonly error: string }> {
  let ns: unknown;
  try {
    ns = await import(`${pathToFileURL(file).href}?v=${version}`);
  } catch (e) {
    return { error: `${file}: ${errorText(e)}` };
  }
  const plugin = pluginExport(ns);
  if (typeof plugin === 'string') return { error: `${file}: ${plugin}` };
  return { name, file, version, plugin };
}

/** The module's `plugin` export, checked as far as its shape can be; a string says what is wrong. */
export function pluginExport(ns: unknown): Plugin<unknown> | string {
  const m = ns as { plugin?: unknown; default?: unknown };
  const p = m.plugin;
  if (p === undefined) {
    return m.default !== undefined
      ? 'exports no `plugin` (it has a default export: export it as `plugin`)'
      : 'exports no `plugin` (export const plugin = { schema, create })';
  }
  if (typeof p !== 'object' || p === null) return '`plugin` must be an object with `schema` and `create`';
  const { create, schema } = p as { create?: unknown; schema?: unknown };
  if (typeof create !== 'function') return '`plugin.create` must be a function';
  const std = (schema as { '~standard'?: { validate?: unknown } } | undefined)?.['~standard'];
  if (typeof std?.validate !== 'function') {
    return '`plugin.schema` must be a Standard Schema (a zod schema, for one)';
  }
  return p as Plugin<unknown>;
}
