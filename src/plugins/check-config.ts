import type { MiddlewareConfig } from '../config/dynamic/schema.ts';
import type { ConfigIssue } from '../config/issues.ts';
import type { Locator } from '../config/yaml-source.ts';
import type { PluginCatalog } from './catalog.ts';
import { findPlugin } from './factory.ts';
import { validateOptions } from './options.ts';

/**
 * Every problem of the `plugin` middlewares of a provider's configuration, for `traffic
 * validate`: unknown plugins, plugins that did not load, and each issue the plugins' schemas
 * find in their options, located in the files (the build reports only the first of them).
 */
export function pluginMiddlewareIssues(
  middlewares: Readonly<Record<string, MiddlewareConfig>>,
  catalog: PluginCatalog | undefined,
  locate: Locator | undefined,
  /** Plugins not checked (catalog plugins not installed yet): their middlewares are skipped. */
  unchecked: ReadonlySet<string> = new Set(),
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const push = (message: string, path: readonly (string | number)[], target: 'key' | 'value') => {
    const { exact: _, ...where } = locate?.(path, target) ?? { exact: false };
    out.push({ severity: 'error', message, path, ...where });
  };
  for (const [name, m] of Object.entries(middlewares)) {
    if (m.type !== 'plugin' || unchecked.has(m.config.name)) continue;
    const at = ['http', 'middlewares', name, 'plugin', m.config.name];
    const p = findPlugin(catalog, m.config.name);
    if ('error' in p) {
      push(p.error, at, 'key');
      continue;
    }
    const r = validateOptions(p.plugin.schema, m.config.options);
    if ('value' in r) continue;
    for (const i of r.issues) {
      push(`plugin ${m.config.name}: ${i.message}`, [...at, ...i.path], i.key === true ? 'key' : 'value');
    }
  }
  return out;
}

/** A plugin that could not be loaded, as a static configuration error. */
export function unusablePluginIssue(
  name: string,
  error: string,
  locate: Locator | undefined,
  section: 'localPlugins' | 'plugins' = 'localPlugins',
): ConfigIssue {
  const path = ['experimental', section, name];
  const { exact: _, ...where } = locate?.(path, 'key') ?? { exact: false };
  return { severity: 'error', message: `plugin not loaded: ${error}`, path, ...where };
}
