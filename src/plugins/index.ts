export type { LoadedPlugin, PluginCatalog, UnusablePlugin } from './catalog.ts';
export { pluginMiddlewareIssues, unusablePluginIssue } from './check-config.ts';
export { findPlugin, pluginMiddlewares } from './factory.ts';
export { PluginHost } from './host.ts';
export { declarationOf, entryFile, LOCAL_PLUGINS_DIR } from './locate.ts';
export { type OptionIssue, validateOptions } from './options.ts';
export { refreshingPlugins } from './provider.ts';
export { installedRemotePlugins, loadLocalPlugins } from './setup.ts';
