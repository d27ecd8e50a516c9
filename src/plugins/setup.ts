import { dirname } from 'node:path';
import type { LocalPluginConfig, RemotePluginConfig } from '../config/static/schema.ts';
import type { Logger } from '../core/logger.ts';
import { PluginHost } from './host.ts';
import { declarationOf, type PluginDeclaration } from './locate.ts';

/**
 * The local plugins of a static configuration, imported, with the catalog plugins' declarations
 * (`remote`, from setupRemotePlugins). `staticFile` anchors `path` (as the other paths of the
 * static file are anchored); Traefik's `moduleName` layout is under `cwd`.
 */
export async function loadLocalPlugins(
  localPlugins: Readonly<Record<string, LocalPluginConfig>>,
  staticFile: string | undefined,
  logger: Logger,
  cwd: string = process.cwd(),
  remote: readonly PluginDeclaration[] = [],
): Promise<PluginHost> {
  const staticDir = staticFile === undefined ? cwd : dirname(staticFile);
  const host = new PluginHost(
    [
      ...remote,
      ...Object.entries(localPlugins).map(([name, decl]) => declarationOf(name, decl, cwd, staticDir)),
    ],
    logger,
  );
  await host.refresh();
  return host;
}

/**
 * The catalog plugins (`experimental.plugins`) as they stand in ./plugins-storage, without
 * downloading anything (`traffic validate`, `traffic explain`): those not installed yet are
 * left out, and their names returned so that the middlewares naming them are not checked.
 */
export async function installedRemotePlugins(
  plugins: Readonly<Record<string, RemotePluginConfig>>,
  logger: Logger,
  cwd: string = process.cwd(),
): Promise<{ readonly decls: PluginDeclaration[]; readonly notInstalled: ReadonlySet<string> }> {
  if (Object.keys(plugins).length === 0) return { decls: [], notInstalled: new Set() };
  const { setupRemotePlugins } = await import('./remote.ts');
  const all = await setupRemotePlugins(plugins, { cwd, download: false, logger });
  return {
    decls: all.filter((d) => d.failed === undefined),
    notInstalled: new Set(all.filter((d) => d.failed !== undefined).map((d) => d.name)),
  };
}
