import type { PluginContext, Middleware as PluginMiddleware } from '../../types/plugin.d.ts';
import type { PluginMiddlewareConfig } from '../config/dynamic/plugin-middleware.ts';
import type { Logger } from '../core/logger.ts';
import type { DirectResponse } from '../core/request.ts';
import { statusText } from '../core/status-text.ts';
import type {
  BuildContext,
  Middleware,
  MiddlewareError,
  PluginMiddlewares,
} from '../middleware/middleware.ts';
import { PluginGuard } from './adapter.ts';
import type { LoadedPlugin, PluginCatalog, UnusablePlugin } from './catalog.ts';
import { errorText, type OptionIssue, validateOptions } from './options.ts';

/**
 * Makes the `plugin` middlewares (Traefik's `plugin: { <name>: {…} }`, middleware/plugin.ts) of a
 * build from the plugins of `catalog`: the named plugin's factory, given its options once its
 * schema accepted them, and its middleware wrapped by the guard (adapter.ts). A configuration
 * error (unknown plugin, a module that did not load, options its schema refuses, `{ error }` from
 * its `create`) disables the middleware, located at the key it concerns. An exception thrown by
 * `create` is a bug of the plugin: the middleware is built all the same and answers every
 * request with 500 and a log line, as an exception in a phase does.
 */
export function pluginMiddlewares(catalog: PluginCatalog): PluginMiddlewares {
  return { create: (config, ctx) => createPluginMiddleware(catalog, config, ctx) };
}

function createPluginMiddleware(
  catalog: PluginCatalog,
  config: PluginMiddlewareConfig,
  ctx: BuildContext,
): Middleware | MiddlewareError {
  {
    const found = findPlugin(catalog, config.name);
    if ('error' in found) return found;
    const at = ['plugin', config.name];
    const options = validateOptions(found.plugin.schema, config.options);
    if ('issues' in options) return firstIssue(config.name, options.issues);
    const logger = ctx.logger.child({ plugin: config.name, middleware: ctx.name });
    const pctx: PluginContext = {
      name: ctx.name,
      plugin: config.name,
      logger,
      // A new module version gets fresh state: the old one's objects were made by other code.
      shared: (key, create) => ctx.shared(`plugin|${found.version}|${key}`, create),
    };
    let made: unknown;
    try {
      made = found.plugin.create(options.value, pctx);
    } catch (e) {
      return failing(config.name, ctx.name, ctx.logger, `create threw: ${errorText(e)}`, e);
    }
    if (typeof made !== 'object' || made === null) {
      return failing(config.name, ctx.name, ctx.logger, `create returned ${typeof made}, not a middleware`);
    }
    const error = (made as { error?: unknown }).error;
    if (typeof error === 'string') return { error: `plugin ${config.name}: ${error}`, path: at };
    return new PluginGuard(made as PluginMiddleware, config.name, ctx.name, ctx.logger).middleware();
  }
}

/** The loaded plugin, or the configuration error of a middleware naming it. */
export function findPlugin(
  catalog: PluginCatalog | undefined,
  name: string,
): LoadedPlugin | (MiddlewareError & { readonly path: readonly string[] }) {
  const path = ['plugin', name];
  const p: LoadedPlugin | UnusablePlugin | undefined = catalog?.get(name);
  if (p === undefined) {
    const names = catalog?.names ?? [];
    const declared =
      names.length === 0
        ? 'experimental.localPlugins declares none'
        : `experimental.localPlugins declares ${names.join(', ')}`;
    return { error: `unknown plugin \`${name}\` (${declared})`, path };
  }
  if ('error' in p) return { error: `plugin ${name} is not loaded: ${p.error}`, path };
  return p;
}

/** The first issue as the build reports it (`traffic validate` lists them all). */
function firstIssue(name: string, issues: readonly OptionIssue[]): MiddlewareError {
  const first = issues[0]!;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more: traffic validate lists them)` : '';
  return { error: `plugin ${name}: ${first.message}${more}`, path: ['plugin', name, ...first.path] };
}

/** A middleware whose plugin could not make one: every request gets 500 and a log line. */
function failing(
  plugin: string,
  middleware: string,
  logger: Logger,
  reason: string,
  e?: unknown,
): Middleware {
  logger.error('plugin failed', {
    plugin,
    middleware,
    phase: 'create',
    error: e instanceof Error ? (e.stack ?? e.message) : reason,
  });
  return {
    onRequest: (req) => {
      logger.error('plugin failed', { plugin, middleware, phase: 'create', error: reason, path: req.path });
      return FAILED;
    },
  };
}

const FAILED: DirectResponse = Object.freeze({ status: 500, body: statusText(500) });
