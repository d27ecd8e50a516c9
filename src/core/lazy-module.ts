import { createRequire } from 'node:module';

/**
 * Loads one of our ES modules synchronously, the first time a configuration uses it (a JWT
 * middleware, a TOML file, a health check): a proxy that never needs it never loads it nor what
 * it imports (`jose` alone is 46 modules). Idle memory grows with the number of modules loaded,
 * not only with their size (docs/performance.md, "Memory at rest").
 *
 * Synchronous on purpose: configurations are built synchronously (`buildSnapshot` and its
 * callers, parsing a file), so an `await import()` would ripple through every caller. Node 24
 * `require`s an ES module without top-level await into the same module map as `import`: a module
 * loaded here and imported elsewhere is one instance (classes compare with `instanceof`). Never
 * called per request: the caller keeps what it got.
 *
 * `base` is the caller's `import.meta.url`; `path` is relative to it, written with `.ts` like
 * every import of ours. The compiled build runs `.js` files and `require` does not rewrite
 * extensions the way the compiler rewrites import specifiers, so this does it.
 */
export function loadModule<T>(base: string, path: string): T {
  const require = requireFor(base);
  const specifier = base.endsWith('.ts') ? path : path.replace(/\.ts$/, '.js');
  return require(specifier) as T;
}

const requires = new Map<string, NodeJS.Require>();

function requireFor(base: string): NodeJS.Require {
  let r = requires.get(base);
  if (r === undefined) {
    r = createRequire(base);
    requires.set(base, r);
  }
  return r;
}
