import { registerHooks } from 'node:module';

/**
 * Keeps `zod`'s 63 non-English locale modules out of the process. `zod`, `zod/mini` and
 * `zod/v4/core` each re-export every locale as a namespace (`export * as locales from
 * "../locales/index.js"`), so importing `zod` loads all 64 (0.54 MB of source, stored two-byte, and
 * their compiled module code: 1.5 MB of idle RSS, 0.8 MB of live heap; docs/performance.md,
 * "Memory at rest"). Nothing here reads `z.locales`: zod sets English, its default, from
 * `locales/en.js` directly. This resolve hook answers that one specifier, from zod's own v4
 * modules only, with `core/zod-english.ts`; every other resolution goes on unchanged.
 *
 * `bin/traffic.js` registers it before it imports `main`: hooks apply to what is resolved after
 * them, and `main` imports `zod` statically.
 */
export function englishOnlyZodLocales(): void {
  // The build runs .js files; the sources (a clone before its first build) .ts ones.
  const english = new URL(
    import.meta.url.endsWith('.ts') ? './zod-english.ts' : './zod-english.js',
    import.meta.url,
  ).href;
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier === LOCALES_INDEX && context.parentURL !== undefined && ZOD_V4.test(context.parentURL)) {
        return { url: english, format: 'module', shortCircuit: true };
      }
      return next(specifier, context);
    },
  });
}

const LOCALES_INDEX = '../locales/index.js';
/** A module of zod v4 (`.../node_modules/zod/v4/core/index.js`, `.../classic/external.js`, …). */
const ZOD_V4 = /\/node_modules\/zod\/v4\/(?:core|classic|mini)\/[^/]+\.js$/;
