import { dirname } from 'node:path';
import type { LocalPluginConfig } from '../config/static/schema.ts';
import type { Logger } from '../core/logger.ts';
import { PluginHost } from './host.ts';
import { declarationOf } from './locate.ts';

/**
 * The local plugins of a static configuration, imported. `staticFile` anchors `path` (as the
 * other paths of the static file are anchored); Traefik's `moduleName` layout is under `cwd`.
 */
export async function loadLocalPlugins(
  localPlugins: Readonly<Record<string, LocalPluginConfig>>,
  staticFile: string | undefined,
  logger: Logger,
  cwd: string = process.cwd(),
): Promise<PluginHost> {
  const staticDir = staticFile === undefined ? cwd : dirname(staticFile);
  const host = new PluginHost(
    Object.entries(localPlugins).map(([name, decl]) => declarationOf(name, decl, cwd, staticDir)),
    logger,
  );
  await host.refresh();
  return host;
}
