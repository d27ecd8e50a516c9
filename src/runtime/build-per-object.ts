import {
  type DisabledObject,
  objectAt,
  objectKey,
  pruneDisabled,
  references,
} from '../config/dynamic/disabled.ts';
import type { DynamicConfig, HttpSection, RouterConfig } from '../config/dynamic/schema.ts';
import type { ConfigIssue } from '../config/issues.ts';
import type { Logger } from '../core/logger.ts';
import { type BuildOptions, type BuildResult, buildSnapshot } from './build-snapshot.ts';
import type { ResourceCache } from './resource-cache.ts';

function splitKey(key: string): [HttpSection, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash) as HttpSection, key.slice(slash + 1)];
}

function keyOf(i: ConfigIssue): string {
  const at = objectAt(i.path);
  return at === undefined ? '' : objectKey(at.section, at.name);
}

export type PerObjectBuild =
  | {
      readonly ok: true;
      readonly result: BuildResult;
      /** The configuration built: the merged one without the disabled objects. */
      readonly config: DynamicConfig;
      /** Objects left out because building them (or what they need) failed. */
      readonly disabled: readonly DisabledObject[];
      /** The errors of those objects; the result's own issues are warnings only. */
      readonly errors: readonly ConfigIssue[];
    }
  | {
      /** An error outside any router, service, middleware or transport (TLS): nothing applies. */
      readonly ok: false;
      readonly errors: readonly ConfigIssue[];
    };

/**
 * Builds a snapshot object by object, as Traefik applies a configuration: an object whose build
 * fails (a middleware that cannot be created, a rule that does not compile, a router naming TLS
 * options or a certificate resolver that does not exist) is left out, and so is everything that
 * needs it, each with an error naming the cause; the rest is built again without them. A
 * certificate of `tls.certificates` (or the default store's `defaultCertificate`) that cannot be
 * read or used is left out with its error, as Traefik's tlsmanager `UpdateConfigs` logs "Unable
 * to append certificate" and goes on: its hosts get another certificate or the default one. A
 * named TLS options set that cannot be built (a caFile that cannot be read) is left out with its
 * error, and the routers naming it are treated as naming options that do not exist (their
 * handshakes are refused), as Traefik's tlsmanager `Get` fails for them alone ("building TLS
 * config", pkg/tls/tlsmanager.go) while the other routers serve. The `default` set too: Traefik's
 * buildEntryPointHandler (pkg/server/router/tcp/manager.go) logs "Error during the build of the
 * default TLS configuration" and its nil config closes every ClientHello that would use it (the
 * HTTPS forwarder, the routers without options: "special closing route"), while cleartext and
 * the routers with other options serve. Any other error about stores refuses the build whole.
 */
export function buildPerObject(
  merged: DynamicConfig,
  generation: number,
  cache: ResourceCache,
  logger: Logger,
  opts: BuildOptions,
): PerObjectBuild {
  let config = merged;
  const disabled: DisabledObject[] = [];
  const errors: ConfigIssue[] = [];
  // Routers left out for TLS options that do not exist: their hosts' handshakes are refused.
  const brokenOptions = new Map<string, RouterConfig>();
  // Errors of named options sets left out, reported once (each pass compiles the sets again).
  const brokenSets = new Set<string>();
  // Modelled copies (`<ep>-<router>`) a core.strictTLSOptions conflict disabled: router → the
  // entry points of those copies, which the next passes do not make (BuildOptions.droppedCopies).
  const droppedCopies = new Map<string, Set<string>>();
  // Each pass leaves out at least one object that is still there: this ends.
  for (;;) {
    const tlsOpts =
      brokenOptions.size === 0 || opts.tls === undefined
        ? opts
        : { ...opts, tls: { ...opts.tls, brokenOptions } };
    const passOpts = droppedCopies.size === 0 ? tlsOpts : { ...tlsOpts, droppedCopies };
    const result = buildSnapshot(config, generation, cache, logger, passOpts);
    const roots = new Set<string>();
    const whole: ConfigIssue[] = [];
    const found: ConfigIssue[] = [];
    const seen = new Set<string>();
    // Copies disabled in this pass: their errors are all kept (one per host in conflict).
    const droppedNow = new Set<string>();
    for (const raw of result.issues) {
      if (raw.severity !== 'error') continue;
      const copy = strictConflictCopy(raw, config, opts.entryPointModel?.all);
      if (copy !== undefined) {
        // Traefik disables only the copy on the entry point of the conflict, which its API lists
        // as `<ep>-<router>` with the error; the router's other copies serve under their own
        // `<ep>-<router>` names (applyModel's modelRouterNames, pkg/server/aggregator.go).
        const name = String(raw.path[2]);
        const eps = droppedCopies.get(copy.router) ?? new Set<string>();
        droppedCopies.set(copy.router, eps);
        if (!eps.has(copy.entryPoint)) {
          eps.add(copy.entryPoint);
          droppedNow.add(name);
          const value = result.snapshot.config.http.routers[name];
          disabled.push({ section: 'routers', name, parsed: value !== undefined, value });
        }
        if (droppedNow.has(name)) errors.push(raw);
        continue;
      }
      const i = atModelledRouter(raw, config, opts.entryPointModel?.all);
      const once = `${i.path.join('\u0000')}\u0001${i.message}`;
      if (seen.has(once)) continue;
      seen.add(once);
      const at = objectAt(i.path);
      if (at !== undefined && Object.hasOwn(config.http[at.section], at.name)) {
        roots.add(objectKey(at.section, at.name));
        found.push(i);
      } else if (optionsSetAt(i.path) !== undefined) {
        const key = `${i.path.join('.')}: ${i.message}`;
        if (!brokenSets.has(key)) {
          brokenSets.add(key);
          errors.push(i);
        }
      } else whole.push(i);
    }
    if (whole.length > 0) {
      const certs = whole.filter((i) => certificateAt(i.path) !== undefined);
      if (certs.length < whole.length) return { ok: false, errors: whole };
      const next = withoutCertificates(config, certs);
      // Nothing left to take out (an issue about a certificate already gone): refuse as before.
      if (next === config) return { ok: false, errors: whole };
      errors.push(...certs);
      config = next;
      continue;
    }
    if (roots.size === 0 && droppedNow.size > 0) continue;
    if (roots.size === 0) return { ok: true, result, config, disabled, errors };
    // The build repeats a failed middleware's error on every router and chain using it: those
    // are dependants, and get an error naming the object they need instead.
    const causes = new Set(
      [...roots].filter((key) => {
        const [section, name] = splitKey(key);
        return !references(config.http, section, name).some((r) => roots.has(objectKey(r.section, r.name)));
      }),
    );
    const primary = causes.size > 0 ? causes : roots;
    for (const i of found) {
      const p = i.path;
      if (p[1] === 'routers' && p[3] === 'tls' && p[4] === 'options' && primary.has(keyOf(i))) {
        const name = String(p[2]);
        const router = config.http.routers[name];
        if (router !== undefined) brokenOptions.set(name, router);
      }
    }
    errors.push(...found.filter((i) => primary.has(keyOf(i))));
    const pruned = pruneDisabled(config, primary);
    errors.push(...pruned.issues);
    disabled.push(...pruned.disabled);
    config = pruned.config;
  }
}

const STRICT_CONFLICT = ': core.strictTLSOptions disables them';

/**
 * The router and entry point of a modelled copy (`<ep>-<router>`) that a core.strictTLSOptions
 * conflict disables (tls/sni.ts), else undefined.
 */
function strictConflictCopy(
  i: ConfigIssue,
  config: DynamicConfig,
  entryPoints: readonly string[] | undefined,
): { router: string; entryPoint: string } | undefined {
  if (!i.message.endsWith(STRICT_CONFLICT) || entryPoints === undefined) return undefined;
  const p = i.path;
  if (p[0] !== 'http' || p[1] !== 'routers' || typeof p[2] !== 'string') return undefined;
  const name = p[2];
  if (Object.hasOwn(config.http.routers, name)) return undefined;
  for (const ep of entryPoints) {
    if (!name.startsWith(`${ep}-`)) continue;
    const router = name.slice(ep.length + 1);
    if (Object.hasOwn(config.http.routers, router)) return { router, entryPoint: ep };
  }
  return undefined;
}

/**
 * An issue about `<entryPoint>-<router>`, a copy the entry point model made of a router on several
 * entry points (config/dynamic/entry-point-model.ts, Traefik's modelRouterNames), moved to the
 * router it was made from, which is the object this build can leave out (and where the file
 * locates it): the router is disabled on every entry point. The issue is returned as it is when
 * its router exists or no such router does.
 */
function atModelledRouter(
  i: ConfigIssue,
  config: DynamicConfig,
  entryPoints: readonly string[] | undefined,
): ConfigIssue {
  const p = i.path;
  if (entryPoints === undefined || p[0] !== 'http' || p[1] !== 'routers' || typeof p[2] !== 'string')
    return i;
  const name = p[2];
  if (Object.hasOwn(config.http.routers, name)) return i;
  for (const ep of entryPoints) {
    if (!name.startsWith(`${ep}-`)) continue;
    const original = name.slice(ep.length + 1);
    if (Object.hasOwn(config.http.routers, original))
      return { ...i, path: ['http', 'routers', original, ...p.slice(3)] };
  }
  return i;
}

/** `tls.options.<name>…` → name (`default` included); else undefined. */
function optionsSetAt(path: ConfigIssue['path']): string | undefined {
  if (path[0] !== 'tls' || path[1] !== 'options' || typeof path[2] !== 'string') return undefined;
  return path[2];
}

/** `tls.certificates[i]` → i; the default store's defaultCertificate → 'default'; else undefined. */
function certificateAt(path: ConfigIssue['path']): number | 'default' | undefined {
  if (path[0] !== 'tls') return undefined;
  if (path[1] === 'certificates' && typeof path[2] === 'number') return path[2];
  if (path[1] === 'stores' && path[2] === 'default' && path[3] === 'defaultCertificate') return 'default';
  return undefined;
}

/** `config` without the certificates the issues are about (indexes kept stable by a filter). */
function withoutCertificates(config: DynamicConfig, issues: readonly ConfigIssue[]): DynamicConfig {
  const bad = new Set(issues.map((i) => certificateAt(i.path)));
  const tls = config.tls;
  const certificates = tls.certificates.filter((_, i) => !bad.has(i));
  let stores = tls.stores;
  const store = stores['default'];
  if (bad.has('default') && store?.defaultCertificate !== undefined) {
    const { defaultCertificate: _, ...rest } = store;
    stores = { ...stores, default: rest };
  }
  if (certificates.length === tls.certificates.length && stores === tls.stores) return config;
  return { ...config, tls: { ...tls, certificates, stores } };
}
