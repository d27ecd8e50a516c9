import { z } from 'zod';

/*
 * Traefik's `plugin` middleware: `plugin: { <name>: { …options } }`, where `<name>` is a key of the
 * static `experimental.localPlugins` (Traefik: findPluginConfig, exactly one plugin per middleware).
 * The options are the plugin's business: its own schema checks them when the middleware is built
 * (src/plugins), since the plugins are known only once the static configuration is loaded.
 */

export const PluginSchema = z
  .record(z.string(), z.unknown())
  .transform((entry, ctx): PluginMiddlewareConfig => {
    const names = Object.keys(entry);
    if (names.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          names.length === 0
            ? // The file decoder drops `name:` with no value, as Traefik's does: say what works.
              'a plugin middleware names its plugin (one without options takes `{}`: `myPlugin: {}`)'
            : `a plugin middleware names exactly one plugin, found ${names.length}: ${names.join(', ')}`,
        params: { expected: 'plugin: { <name from experimental.localPlugins>: { …options } }' },
      });
      return z.NEVER;
    }
    const name = names[0]!;
    const options = entry[name];
    // Null options (a configuration given as data, not through the file decoder) are none.
    return { name, options: options === null || options === undefined ? {} : options };
  });

export interface PluginMiddlewareConfig {
  /** The plugin's name in `experimental.localPlugins`. */
  readonly name: string;
  /** As written; checked by the plugin's own schema when the middleware is built. */
  readonly options: unknown;
}
