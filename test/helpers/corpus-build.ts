/**
 * The build pass of the corpus tests: a configuration that loads is built as the proxy builds it
 * (runtime/config-watcher.ts: mergeProviders, then buildPerObject, which calls buildSnapshot and
 * leaves out each object whose build fails), in-process and without sockets (pools are created
 * lazily, nothing connects). The outcome is the list of objects left out with their errors,
 * `<kind>.<section>.<name>[.<key>…]: message`, which the manifests record per file.
 */

import { buildOptions } from '../../src/cli/explain.ts';
import type { DynamicConfig } from '../../src/config/dynamic/schema.ts';
import { loadStaticConfig } from '../../src/config/index.ts';
import type { StaticConfig } from '../../src/config/static/schema.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Ticker } from '../../src/core/ticker.ts';
import { buildPerObject } from '../../src/runtime/build-per-object.ts';
import type { BuildOptions } from '../../src/runtime/build-snapshot.ts';
import { buildTls } from '../../src/runtime/build-tls.ts';
import { internalServicesFor } from '../../src/runtime/internal-services.ts';
import { mergeProviders } from '../../src/runtime/merge-providers.ts';
import { ResourceCache } from '../../src/runtime/resource-cache.ts';
import { GeneratedDefaultCertificate } from '../../src/tls/index.ts';

/**
 * Errors about what a corpus file cannot carry: files the repository mounts at deployment
 * (certificates, CA files, usersFile: absent here, ENOENT), plugins its static file declares
 * (the corpus keeps the dynamic file only), objects of providers not loaded beside it. They say
 * nothing about the file itself: left out of the outcome, with what follows from them.
 */
function environmental(
  line: string,
  providers: ReadonlySet<string>,
  declared: ReadonlySet<string> | undefined,
): boolean {
  // Beside its static file, a plugin it does not declare is the file's own finding (Traefik's
  // buildConstructor, pkg/server/middleware/middlewares.go: no such plugin, the middleware is
  // not built); one it declares is installed at deployment (absent here).
  const plugin = /: (?:unknown plugin `([^`]+)`|plugin (\S+) is not loaded)/.exec(line);
  if (plugin !== null && declared !== undefined) return declared.has((plugin[1] ?? plugin[2])!);
  if (/: unable to read (?:CertFile|KeyFile|CA file): open .*: no such file or directory/.test(line))
    return true;
  if (/: cannot read .*ENOENT/.test(line) || /: unknown plugin `/.test(line)) return true;
  const ref = /: unknown (?:service|middleware|TLS options) `?[^\s`@]+@([\w-]+)/.exec(line);
  return ref !== null && !providers.has(ref[1]!) && ref[1] !== 'internal';
}

/** `http.middlewares.x@file.…: message` → `http.middlewares.x@file`. */
const objectOf = (line: string): string => line.split(': ', 1)[0]!.split('.').slice(0, 3).join('.');

/** One cache and ticker per test file: `close()` them in `after`. */
export class CorpusBuilder {
  readonly #ticker = new Ticker();
  readonly #cache = new ResourceCache(this.#ticker);
  readonly #options: BuildOptions;
  readonly #byStatic = new Map<string, BuildOptions>();

  constructor() {
    // A static configuration that enables every internal service a corpus file may name
    // (api@internal, ping@internal, prometheus@internal, as the repositories' static files do);
    // routers without entryPoints are on every entry point, and those with `tls` are checked
    // against the TLS options and certificates of the file, as Traefik's tlsmanager does.
    const { config } = loadStaticConfig({
      argv: ['--api.dashboard=true', '--ping=true', '--metrics.prometheus=true'],
      env: {},
    });
    if (config === undefined) throw new Error('corpus build: static configuration refused');
    const internal = internalServicesFor(config, { host: '127.0.0.1', port: 9 }, '');
    this.#options = {
      ...(internal === undefined ? {} : { internal }),
      tls: { build: buildTls, entryPoints: new Map(), generated: new GeneratedDefaultCertificate() },
    };
  }

  /**
   * The build options of a repository's static configuration, as `traffic validate` makes them
   * (cli/explain.ts buildOptions: its entry points and their model, its plugins, its internal
   * services), with the TLS check of every file kept. Made once per static file.
   */
  async optionsFor(config: StaticConfig, file: string): Promise<BuildOptions> {
    let o = this.#byStatic.get(file);
    if (o === undefined) {
      const made = await buildOptions(config, file);
      o =
        made.tls === undefined && this.#options.tls !== undefined
          ? { ...made, tls: this.#options.tls }
          : made;
      this.#byStatic.set(file, o);
    }
    return o;
  }

  /**
   * The objects the build leaves out, each with its error, sorted; `['(whole) …']` when refused
   * whole. With `options` (optionsFor), as beside the repository's static configuration: plugins
   * it does not declare are left out as Traefik leaves them out.
   */
  build(
    byProvider: ReadonlyMap<string, DynamicConfig>,
    options: BuildOptions = this.#options,
    /** The plugins the static file declares (experimental.plugins, localPlugins), with `options`. */
    declared?: ReadonlySet<string>,
  ): string[] {
    const mergeIssues: Parameters<typeof mergeProviders>[1] = [];
    const merged = mergeProviders(byProvider, mergeIssues);
    const mergeErrors = mergeIssues.filter((i) => i.severity === 'error');
    if (mergeErrors.length > 0) return mergeErrors.map((i) => `(whole) ${i.path.join('.')}: ${i.message}`);
    const built = buildPerObject(merged, 1, this.#cache, silentLogger, options);
    const lines = built.ok
      ? built.errors.map((i) => `${i.path.join('.')}: ${i.message}`)
      : built.errors.map((i) => `(whole) ${i.path.join('.')}: ${i.message}`);
    // Drop the environment's errors, then what follows from them (a middleware or TLS options
    // set disabled for one), until nothing more goes.
    const dropped = new Set<string>();
    const providers = new Set(byProvider.keys());
    let kept = [...new Set(lines)];
    for (let changed = true; changed; ) {
      changed = false;
      kept = kept.filter((l) => {
        const cause = /`([^`]+)` is disabled because of its own errors|unusable TLS options `([^`]+)`/.exec(
          l,
        );
        const from =
          cause === null
            ? false
            : cause[1] !== undefined
              ? [...dropped].some((d) => d.endsWith(`.${cause[1]}`))
              : [...dropped].some((d) => d === `tls.options.${cause[2]}`);
        if (!environmental(l, providers, declared) && !from) return true;
        dropped.add(objectOf(l));
        changed = true;
        return false;
      });
    }
    return kept.sort();
  }

  close(): void {
    this.#cache.closeAll();
    this.#ticker.stop();
  }
}
