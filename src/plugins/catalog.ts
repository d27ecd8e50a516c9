import type { Plugin } from '../../types/plugin.d.ts';

/** A plugin module, imported and checked. */
export interface LoadedPlugin {
  /** Its name in `experimental.localPlugins`. */
  readonly name: string;
  /** The module's entry file (absolute). */
  readonly file: string;
  /** Changes whenever the file does (inode, size, mtime): the import's cache-busting key. */
  readonly version: string;
  readonly plugin: Plugin<unknown>;
}

/** A plugin that is declared but cannot be used (no module, a module that fails to load). */
export interface UnusablePlugin {
  readonly name: string;
  readonly error: string;
}

/**
 * The local plugins a configuration build may use, by name. Builds are synchronous: the modules
 * are imported beforehand (PluginHost.load, .refresh).
 */
export interface PluginCatalog {
  /** Undefined when `name` is not declared in `experimental.localPlugins`. */
  get(name: string): LoadedPlugin | UnusablePlugin | undefined;
  readonly names: readonly string[];
}
