/**
 * A server URL's path as the proxy uses it (`preservePath`), in a module without zod: the serving
 * process builds its snapshot with it (runtime/build-snapshot.ts) and never loads the schemas
 * (config-process/zod-free.test.ts).
 */

/** A server URL's path that matters (not `/`; a URL of a scheme WHATWG does not know, h2c, has ''). */
export function serverUrlPath(text: string): string {
  const path = new URL(text).pathname;
  return path === '/' ? '' : path;
}
