import type { PluginMiddlewareConfig } from '../config/dynamic/plugin-middleware.ts';
import type { BuildContext, Middleware, MiddlewareError, MiddlewareFactory } from './middleware.ts';

/**
 * Traefik's `plugin` middleware: `plugin: { <name>: {…options} }`. Local plugins are modules the
 * proxy imports (src/plugins, docs/plugins.md); the build hands them over as `ctx.plugins`.
 */
export const pluginFactory: MiddlewareFactory<PluginMiddlewareConfig> = {
  type: 'plugin',
  create(config: PluginMiddlewareConfig, ctx: BuildContext): Middleware | MiddlewareError {
    if (ctx.plugins !== undefined) return ctx.plugins.create(config, ctx);
    return {
      error: `unknown plugin \`${config.name}\` (experimental.localPlugins declares none)`,
      path: ['plugin', config.name],
    };
  },
};
