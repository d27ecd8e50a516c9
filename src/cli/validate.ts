import {
  type ConfigIssue,
  type ConfigPath,
  formatIssue,
  loadStaticConfig,
  type RuleChecker,
  sortIssues,
} from '../config/index.ts';
import type { Place } from '../config/issues.ts';
import { defaultEntryPoints } from '../config/static/admin-entry-points.ts';
import { tlsEntryPoints } from '../config/static/entry-point-tls.ts';
import { salvageStatic } from '../config/static/salvage.ts';
import type { StaticConfig } from '../config/static/schema.ts';
import { type Locator, noLocation } from '../config/yaml-source.ts';
import { silentLogger } from '../core/logger.ts';
import type { PluginCatalog } from '../plugins/catalog.ts';
import {
  fileProviderOptions,
  fileProviderOptionsOf,
  loadSources,
  type ProviderUpdate,
} from '../providers/index.ts';

/**
 * `traffic validate`: loads the static configuration and every dynamic source it names, prints
 * every issue, and returns the exit code (0 = no error). `write` receives whole lines, each ending
 * in a newline. The TLS section is built as the proxy would build it: certificate and key files
 * are read, keys matched to their certificates, options sets and router references checked.
 */
export async function runValidate(
  configFile: string | undefined,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  checkRule: RuleChecker | undefined,
  checkBreakerExpression: RuleChecker | undefined,
  write: (text: string) => void,
  /** Said first: the sources given and not read (cli/static-source.ts). */
  ignoredSources: readonly ConfigIssue[] = [],
): Promise<number> {
  const loaded = loadStaticConfig({ ...(configFile !== undefined ? { file: configFile } : {}), argv, env });
  const issues: ConfigIssue[] = [...ignoredSources, ...loaded.issues];
  let counts = { routers: 0, services: 0, middlewares: 0 };
  const checks = {
    ...(checkRule !== undefined ? { checkRule } : {}),
    ...(checkBreakerExpression !== undefined ? { checkBreakerExpression } : {}),
  };
  const config = loaded.config;
  if (config !== undefined) issues.push(...(await dnsProviderIssues(config, env, configFile, loaded.locate)));
  const plugins = config === undefined ? undefined : await localPlugins(config, configFile, loaded.locate);
  if (plugins !== undefined) issues.push(...plugins.issues);
  // With errors in the static file, the dynamic files it names are checked all the same, from
  // what can be read of it: one run reports every problem.
  const salvaged = config === undefined ? salvageStatic(loaded.data, configFile) : undefined;
  const opts =
    config !== undefined
      ? fileProviderOptions(config, configFile, checks)
      : fileProviderOptionsOf(salvaged?.file, salvaged?.entryPoints, configFile, {
          ...checks,
          ...(salvaged?.internalServices !== undefined
            ? { internalServices: salvaged.internalServices }
            : {}),
          ...(salvaged?.certResolvers !== undefined ? { certResolvers: salvaged.certResolvers } : {}),
        });
  if (opts !== undefined) {
    const update = loadSources(opts, opts);
    issues.push(...update.issues);
    if (update.config !== undefined && config !== undefined) {
      issues.push(...(await tlsIssues(config.entryPoints, config.core?.strictTLSOptions === true, update)));
      issues.push(...(await shadowIssues(config, update)));
      issues.push(...(await pluginIssues(update, plugins?.catalog, plugins?.unchecked)));
      issues.push(...(await buildIssues(config, configFile, update, issues, plugins?.unchecked)));
    } else if (update.config !== undefined) {
      // The static file has errors: the certificates of the dynamic files are read all the same
      // (unreadable files, keys that do not match), so that one run reports them too. What
      // depends on the static entry points and options (router TLS, the default certificate)
      // waits for a valid static file.
      const found = await tlsIssues({}, false, update);
      issues.push(...found.filter((i) => i.path[0] === 'tls' && i.path[1] === 'certificates'));
    }
    const http = update.config?.http;
    if (http !== undefined) {
      counts = {
        routers: Object.keys(http.routers).length,
        services: Object.keys(http.services).length,
        middlewares: Object.keys(http.middlewares).length,
      };
    }
  }
  for (const i of sortIssues(issues)) write(`${formatIssue(i)}\n`);
  const errors = issues.filter((i) => i.severity === 'error').length;
  if (errors > 0) {
    write(`configuration has ${errors} error${errors === 1 ? '' : 's'}\n`);
    return 1;
  }
  write(
    `configuration OK: ${counts.routers} routers, ${counts.services} services, ${counts.middlewares} middlewares\n`,
  );
  return 0;
}

/**
 * What building the TLS state finds (unreadable files, mismatched keys, unknown options or
 * resolvers), located in the files. The TLS modules are loaded only when there is TLS to check.
 */
async function tlsIssues(
  entryPoints: StaticConfig['entryPoints'],
  strictOptions: boolean,
  update: ProviderUpdate,
): Promise<ConfigIssue[]> {
  const dynamic = update.config;
  if (dynamic === undefined) return [];
  const tlsEps = tlsEntryPoints(entryPoints);
  const t = dynamic.tls;
  const routerTls = Object.values(dynamic.http.routers).some((r) => r.tls !== undefined);
  const hasTls =
    t.certificates.length > 0 ||
    Object.keys(t.options).length > 0 ||
    Object.keys(t.stores).length > 0 ||
    routerTls ||
    tlsEps.size > 0;
  if (!hasTls) return [];
  const [{ buildTls }, { GeneratedDefaultCertificate, TrustedRoots }, { mergeProviders }] = await Promise.all(
    [import('../runtime/build-tls.ts'), import('../tls/index.ts'), import('../runtime/merge-providers.ts')],
  );
  const found: ConfigIssue[] = [];
  // Names qualified as the running proxy qualifies them (`a@file`), so references resolve alike.
  buildTls(
    mergeProviders(new Map([['file', dynamic]])),
    {
      entryPoints: tlsEps,
      generated: new GeneratedDefaultCertificate(),
      // A certificate file without its intermediates: a warning, as the proxy logs it.
      roots: new TrustedRoots(),
      build: buildTls,
      strictOptions,
    },
    found,
  );
  return found.map((i) => inFiles(i, update.locate, 'value'));
}

/**
 * An issue of a build over the file provider's configuration as the load's issues are: its names
 * as written (`a@file` → `a`), located in the files at `target` unless it already is.
 */
function inFiles(i: ConfigIssue, locate: Locator | undefined, target: 'key' | 'value'): ConfigIssue {
  const path = i.path.map((seg) => (typeof seg === 'string' ? seg.replace(/@file$/, '') : seg));
  if (i.file !== undefined || locate === undefined) return { ...i, path };
  const { exact: _, ...where } = locate(path, target);
  return where.file === undefined ? { ...i, path } : { ...i, path, ...where };
}

/**
 * What building the configuration as the proxy builds it disables (a basicAuth without users, a
 * usersFile that cannot be read, a router whose middleware is disabled…), as `traffic explain`
 * and the running proxy report it, located in the files; those already reported are not repeated.
 * Nothing connects: the build's pools are lazy and closed at once.
 */
async function buildIssues(
  config: StaticConfig,
  configFile: string | undefined,
  update: ProviderUpdate,
  known: readonly ConfigIssue[],
  /** Catalog plugins not installed yet: their middlewares are not checked, nor what they cause. */
  unchecked: ReadonlySet<string> = new Set(),
): Promise<ConfigIssue[]> {
  if (update.config === undefined) return [];
  const skipped: string[] = [];
  for (const [name, m] of Object.entries(update.config.http.middlewares))
    if (m.type === 'plugin' && unchecked.has(m.config.name)) skipped.push(name);
  const concernsSkipped = (i: ConfigIssue, path: ConfigIssue['path']): boolean =>
    skipped.some((n) => (path[1] === 'middlewares' && path[2] === n) || i.message.includes(`\`${n}@file\``));
  const [{ buildOptions }, { buildPerObject }, { mergeProviders }, { ResourceCache }, { Ticker }] =
    await Promise.all([
      import('./explain.ts'),
      import('../runtime/build-per-object.ts'),
      import('../runtime/merge-providers.ts'),
      import('../runtime/resource-cache.ts'),
      import('../core/ticker.ts'),
    ]);
  const ticker = new Ticker();
  const cache = new ResourceCache(ticker);
  let errors: readonly ConfigIssue[];
  try {
    const merged = mergeProviders(new Map([['file', update.config]]));
    errors = buildPerObject(merged, 1, cache, silentLogger, await buildOptions(config, configFile)).errors;
  } finally {
    cache.closeAll();
    ticker.stop();
  }
  const keyOf = (i: ConfigIssue): string => `${i.path.join('.')}\n${i.message}`;
  const seen = new Set(known.map((i) => keyOf(inFiles(i, undefined, 'key'))));
  const out: ConfigIssue[] = [];
  for (const e of errors) {
    const i = inFiles(e, update.locate, 'key');
    const key = keyOf(i);
    if (seen.has(key) || concernsSkipped(i, i.path)) continue;
    seen.add(key);
    out.push(i);
  }
  return out;
}

/**
 * Routers that ask for a path the API, ping or metrics answer first on their entry point (as the
 * proxy's build finds them), located in the files.
 */
async function shadowIssues(config: StaticConfig, update: ProviderUpdate): Promise<ConfigIssue[]> {
  if (update.config === undefined) return [];
  const { internalServicesFor } = await import('../runtime/internal-services.ts');
  const internal = internalServicesFor(config, { host: '127.0.0.1', port: 9 }, '');
  if (internal === undefined) return [];
  const found = internal.shadowedRouters(update.config, defaultEntryPoints(config));
  const locate = update.locate;
  if (locate === undefined) return found;
  return found.map((i) => {
    const { exact: _, ...where } = locate(i.path, 'value');
    return { ...i, ...where };
  });
}

/**
 * The local plugins, imported as `run` imports them: each one that cannot be is an error naming
 * the path looked at (the proxy would start without it, or not at all with abortOnPluginFailure).
 */
async function localPlugins(
  config: StaticConfig,
  configFile: string | undefined,
  locate: Locator | undefined,
): Promise<{ catalog: PluginCatalog; issues: ConfigIssue[]; unchecked: ReadonlySet<string> } | undefined> {
  const declared = config.experimental?.localPlugins ?? {};
  const remote = config.experimental?.plugins ?? {};
  if (Object.keys(declared).length === 0 && Object.keys(remote).length === 0) return undefined;
  const { installedRemotePlugins, loadLocalPlugins, unusablePluginIssue } = await import(
    '../plugins/index.ts'
  );
  // Catalog plugins are downloaded when the proxy starts, never here: those installed by an
  // earlier start are checked as local ones, the others (and their middlewares) are not.
  const installed = await installedRemotePlugins(remote, silentLogger);
  const host = await loadLocalPlugins(declared, configFile, silentLogger, undefined, installed.decls);
  const issues = host.unusable.map((p) =>
    unusablePluginIssue(p.name, p.error, locate, p.name in remote ? 'plugins' : 'localPlugins'),
  );
  for (const name of installed.notInstalled) {
    const path = ['experimental', 'plugins', name];
    const { exact: _, ...where } = locate?.(path, 'key') ?? { exact: false };
    issues.push({
      severity: 'warning',
      message: `not installed yet: downloaded from the plugin catalog when the proxy starts (into ./plugins-storage); the middlewares using it are not checked`,
      path,
      ...where,
    });
  }
  return { catalog: host, issues, unchecked: installed.notInstalled };
}

/** The plugin middlewares' problems: unknown plugins, and what their schemas say of their options. */
async function pluginIssues(
  update: ProviderUpdate,
  catalog: PluginCatalog | undefined,
  unchecked: ReadonlySet<string> = new Set(),
): Promise<ConfigIssue[]> {
  const middlewares = update.config?.http.middlewares ?? {};
  if (!Object.values(middlewares).some((m) => m.type === 'plugin')) return [];
  const { pluginMiddlewareIssues } = await import('../plugins/index.ts');
  return pluginMiddlewareIssues(middlewares, catalog, update.locate, unchecked);
}

/**
 * DNS-01 providers read their settings from the environment (lego's variables): checked here as
 * `run` checks them before it opens any port, so that validate never says OK where run refuses.
 */
async function dnsProviderIssues(
  config: StaticConfig,
  env: NodeJS.ProcessEnv,
  file: string | undefined,
  locate: Locator | undefined,
): Promise<ConfigIssue[]> {
  const withDns = Object.entries(config.certificatesResolvers ?? {}).filter(([, r]) => r.acme?.dnsChallenge);
  if (withDns.length === 0) return [];
  const { dnsProvidersFor, dnsChallengeDeprecations } = await import('../tls/acme/index.ts');
  // At the key in the file (line:col), as every other issue; the file alone when it is not there
  // (a flag or variable set it).
  const where = (path: ConfigPath): Place => {
    const { exact: _, ...at } = (locate ?? noLocation)(path);
    const inFile = file === undefined ? {} : { file };
    return at.line !== undefined ? { ...inFile, ...at } : inFile;
  };
  const out: ConfigIssue[] = [];
  for (const [name, r] of withDns) {
    const dnsChallenge = r.acme?.dnsChallenge;
    for (const d of dnsChallenge === undefined ? [] : dnsChallengeDeprecations(dnsChallenge)) {
      const path = ['certificatesResolvers', name, 'acme', 'dnsChallenge', d.key];
      out.push({ severity: 'warning', message: d.message, path, ...where(path) });
    }
  }
  const { errors } = dnsProvidersFor(
    withDns.map(([name, r]) => [name, r.acme?.dnsChallenge] as const),
    env,
    // As `run` (main.ts): route53 without keys takes the AWS default chain, asked only when a
    // certificate is due, so that it is no error here either.
    {
      awsCredentials: async (e, signal) =>
        (await import('../providers/ecs/aws-client.ts')).resolveCredentials('', '', e, signal),
    },
  );
  // The message names the resolver's dnsChallenge: located at its provider.
  for (const e of errors)
    out.push({
      severity: 'error',
      message: e.message,
      path: [],
      ...where(['certificatesResolvers', e.resolver, 'acme', 'dnsChallenge', 'provider']),
    });
  return out;
}
