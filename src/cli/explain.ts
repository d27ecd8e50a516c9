import { type ExplainResult, explain, explainRequestHead } from '../admin/index.ts';
import {
  type ConfigIssue,
  type DynamicConfig,
  formatIssue,
  loadStaticConfig,
  parseAddress,
  type StaticConfig,
  sortIssues,
} from '../config/index.ts';
import {
  defaultEntryPoints,
  enabledInternalServices,
  entryPointModelFor,
  listenedEntryPoints,
} from '../config/static/admin-entry-points.ts';
import { tlsEntryPoints } from '../config/static/entry-point-tls.ts';
import { silentLogger } from '../core/logger.ts';
import { Ticker } from '../core/ticker.ts';
import { ApiProvider } from '../providers/api/index.ts';
import { fileProviderOptions, loadSources } from '../providers/index.ts';
import { buildPerObject } from '../runtime/build-per-object.ts';
import type { BuildOptions } from '../runtime/build-snapshot.ts';
import { internalServicesFor } from '../runtime/internal-services.ts';
import { mergeProviders } from '../runtime/merge-providers.ts';
import { entryPointRedirections } from '../runtime/redirections.ts';
import { ResourceCache } from '../runtime/resource-cache.ts';
// The proxy's rule checker: HTTP rules, and TCP rules (`HostSNI`…) in their own language.
import { checkRule } from '../runtime/rule-checks.ts';
import type { RuntimeSnapshot } from '../runtime/types.ts';

export interface ExplainOptions {
  /**
   * Default: for an `https://` URL the entry point that terminates TLS on the URL's port (else
   * the first that terminates TLS), for `http://` the same among the others; among the default
   * entry points (every one but `traefik`).
   */
  readonly entryPoint?: string;
  /** Configuration flags, as for `run`. */
  readonly overrides?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** For `ClientIP` rules. Default 127.0.0.1. */
  readonly clientIp?: string;
}

/** Redirects followed at most: a loop between two routers is cut there. */
const MAX_HOPS = 5;

/**
 * `traffic explain --config FILE [--entrypoint NAME] 'GET https://host/path' -H 'Name: value'`:
 * builds the routing table the proxy would build from this configuration (its file provider and
 * the API's persisted changes, TLS entry points and entry point redirections; pools are created
 * lazily, so nothing connects anywhere) and prints which router the request takes, why each
 * other candidate does not, and the middlewares and service it goes through. A redirect (an
 * entry point's redirection, a redirectScheme or redirectRegex middleware) is shown and followed
 * to the entry point it leads to. Objects with configuration errors are disabled, as the proxy
 * disables them (the errors are printed). Exit 0 when a router matches, 1 when none does, 2 on
 * bad input or a configuration that cannot be loaded. `write` receives whole lines.
 */
export async function runExplain(
  configFile: string | undefined,
  request: string,
  headers: readonly string[],
  write: (text: string) => void,
  options: ExplainOptions = {},
): Promise<number> {
  const words = request.trim().split(/\s+/);
  if (words.length > 2 || words[0] === '') {
    write(`expected a request like 'GET https://host/path', got ${JSON.stringify(request)}\n`);
    return 2;
  }
  const method = words.length === 2 ? words[0]! : 'GET';
  const url = words.at(-1)!;
  const loaded = loadStaticConfig({
    ...(configFile !== undefined ? { file: configFile } : {}),
    argv: options.overrides ?? [],
    env: options.env ?? {},
  });
  const issues: ConfigIssue[] = [...loaded.issues];
  const config = loaded.config;
  const dynamic = config === undefined ? undefined : loadDynamic(config, configFile, issues);
  const errors = sortIssues(issues.filter((i) => i.severity === 'error'));
  if (config === undefined || dynamic === undefined) {
    for (const i of errors) write(`${formatIssue(i)}\n`);
    write(`configuration has ${errors.length} error${errors.length === 1 ? '' : 's'}: nothing to explain\n`);
    return 2;
  }
  const listened = listenedEntryPoints(config);
  if (options.entryPoint !== undefined && !listened.some(([n]) => n === options.entryPoint)) {
    write(`unknown entry point ${options.entryPoint}\n`);
    return 2;
  }
  const ticker = new Ticker();
  const cache = new ResourceCache(ticker);
  // SPIFFE transports build as in the proxy (no SVID is fetched: nothing connects here).
  if ((config.spiffe?.workloadAPIAddr ?? '') !== '')
    (await import('../upstream/spiffe.ts')).setSpiffeSource({ identity: null });
  try {
    const built = buildPerObject(dynamic, 1, cache, silentLogger, await buildOptions(config, configFile));
    if (!built.ok) {
      for (const i of [...errors, ...built.errors]) write(`${formatIssue(i)}\n`);
      write('the configuration cannot be applied: nothing to explain\n');
      return 2;
    }
    for (const i of sortIssues([...errors, ...built.errors])) write(`${formatIssue(i)}\n`);
    if (errors.length + built.errors.length > 0) {
      write('(the objects these errors concern are disabled, as the proxy disables them)\n');
    }
    const snapshot = built.result.snapshot;
    let entryPoint = options.entryPoint;
    let target = url;
    for (let hop = 0; ; hop++) {
      const https = /^https:/i.test(target);
      entryPoint ??= pickEntryPoint(config, https, urlPort(target));
      if (entryPoint === undefined) {
        write('no entry point is defined\n');
        return 2;
      }
      const tls = listened.find(([n]) => n === entryPoint)?.[1].http.tls !== undefined;
      write(`${method} ${target} on entry point ${entryPoint}\n`);
      if (https !== tls) {
        write(
          `  (entry point ${entryPoint} ${tls ? 'terminates TLS' : 'does not terminate TLS'}: the request arrives there as ${tls ? 'https' : 'http'})\n`,
        );
      }
      const head = explainRequestHead({
        method,
        url: tls === https ? target : target.replace(/^https?:/i, tls ? 'https:' : 'http:'),
        headers,
        entryPoint,
        ...(options.clientIp !== undefined ? { clientIp: options.clientIp } : {}),
      });
      if ('error' in head) {
        write(`${head.error}\n`);
        return 2;
      }
      const result = explain(snapshot, entryPoint, head);
      const code = report(snapshot, result, write);
      const r = result.redirect;
      if (r === undefined || code !== 0) return code;
      if (!/^https?:\/\//i.test(r.location)) return 0;
      if (hop + 1 >= MAX_HOPS) {
        write(`(not followed further: ${MAX_HOPS} redirects)\n`);
        return 0;
      }
      // An entry point's redirection names its target; a middleware's goes by scheme and port.
      const named = r.by.endsWith('@internal')
        ? entryPointRedirections(config).targets.get(entryPoint)
        : undefined;
      entryPoint = named;
      target = r.location;
    }
  } finally {
    cache.closeAll();
    ticker.stop();
  }
}

/**
 * What the proxy adds to every build: the internal services (their pool is lazy and never dials
 * here), asDefault entry points and entry point middlewares, the static serversTransport, TLS
 * entry points (certificates checked) and entry point redirections.
 */
export async function buildOptions(
  config: StaticConfig,
  configFile: string | undefined,
): Promise<BuildOptions> {
  const { redirections } = entryPointRedirections(config);
  // The local plugins are imported and their middlewares made, as the proxy makes them (none runs).
  const declared = config.experimental?.localPlugins ?? {};
  const remote = config.experimental?.plugins ?? {};
  let plugins: BuildOptions['plugins'];
  if (Object.keys(declared).length > 0 || Object.keys(remote).length > 0) {
    const { installedRemotePlugins, loadLocalPlugins, pluginMiddlewares } = await import(
      '../plugins/index.ts'
    );
    // Catalog plugins as an earlier start installed them (nothing is downloaded here).
    const { decls } = await installedRemotePlugins(remote, silentLogger);
    plugins = pluginMiddlewares(await loadLocalPlugins(declared, configFile, silentLogger, undefined, decls));
  }
  const tlsEps = tlsEntryPoints(config.entryPoints);
  const internal = internalServicesFor(config, { host: '127.0.0.1', port: 9 }, '');
  const base: BuildOptions = {
    defaultEntryPoints: defaultEntryPoints(config),
    providersPrecedence: config.providers.precedence,
    entryPointModel: entryPointModelFor(config),
    ...(config.serversTransport !== undefined ? { defaultTransport: config.serversTransport } : {}),
    ...(internal !== undefined ? { internal } : {}),
    ...(redirections.size === 0 ? {} : { redirections }),
    ...(plugins === undefined ? {} : { plugins }),
  };
  if (tlsEps.size === 0) return base;
  const [{ buildTls }, { GeneratedDefaultCertificate }] = await Promise.all([
    import('../runtime/build-tls.ts'),
    import('../tls/index.ts'),
  ]);
  return {
    ...base,
    tls: {
      build: buildTls,
      entryPoints: tlsEps,
      generated: new GeneratedDefaultCertificate(),
      strictOptions: config.core?.strictTLSOptions === true,
    },
  };
}

/** The file provider's configuration and the API's persisted one, merged as the watcher merges. */
function loadDynamic(
  config: StaticConfig,
  staticFile: string | undefined,
  issues: ConfigIssue[],
): DynamicConfig | undefined {
  const byProvider = new Map<string, DynamicConfig>();
  const fileOpts = fileProviderOptions(config, staticFile, { checkRule });
  if (fileOpts !== undefined) {
    const update = loadSources(fileOpts, fileOpts);
    issues.push(...update.issues);
    if (update.config === undefined) return undefined;
    byProvider.set('file', update.config);
  }
  const persistFile = config.api?.persistFile ?? '';
  if (persistFile !== '') {
    const update = new ApiProvider({
      persistFile,
      checkRule,
      knownProviders: fileOpts === undefined ? [] : ['file'],
      internalServices: enabledInternalServices(config),
    }).currentUpdate();
    issues.push(...update.issues);
    if (update.config === undefined) return undefined;
    byProvider.set('api', update.config);
  }
  return mergeProviders(byProvider, issues);
}

/** The explicit port of a URL, or undefined. */
function urlPort(url: string): number | undefined {
  const m = /^https?:\/\/(?:\[[^\]]*\]|[^/:?#]*):(\d+)/i.exec(url);
  return m === null ? undefined : Number(m[1]);
}

/**
 * The entry point a request for this URL would arrive on: among the default entry points (every
 * one but `traefik`), those that terminate TLS for `https://` (the others for `http://`), the one
 * listening on the URL's port, else the first. Without one of that kind, the first default entry
 * point, else the first listened.
 */
function pickEntryPoint(config: StaticConfig, https: boolean, port: number | undefined): string | undefined {
  const defaults = defaultEntryPoints(config);
  const kind = defaults.filter((n) => (config.entryPoints[n]?.http.tls !== undefined) === https);
  const portOf = (n: string): number | undefined => {
    const a = parseAddress(config.entryPoints[n]?.address ?? '');
    return 'error' in a ? undefined : a.port;
  };
  const wanted = port ?? (https ? 443 : 80);
  return (
    kind.find((n) => portOf(n) === wanted) ?? kind[0] ?? defaults[0] ?? listenedEntryPoints(config)[0]?.[0]
  );
}

function report(snapshot: RuntimeSnapshot, result: ExplainResult, write: (text: string) => void): number {
  const winner = result.candidates.find((c) => c.name === result.matched);
  if (winner === undefined) write('no router matches\n');
  else if (result.redirect !== undefined && winner.name.endsWith('@internal')) {
    write(`matched router ${winner.name} (the proxy's own)\n`);
  } else {
    write(`matched router ${winner.name} (priority ${winner.priority})\n`);
    write(`  rule: ${winner.rule}\n`);
    write(`  middlewares: ${result.middlewares.length === 0 ? '(none)' : result.middlewares.join(' -> ')}\n`);
    write(`  service: ${describeService(snapshot, result.service ?? '')}\n`);
  }
  const r = result.redirect;
  if (r !== undefined) write(`  redirect: ${r.status} to ${r.location} (by ${r.by})\n`);
  const others = result.candidates.filter((c) => c !== winner);
  if (others.length > 0) write(winner === undefined ? 'candidates:\n' : 'other candidates:\n');
  for (const c of others) {
    let why: string;
    if (!c.matched) why = 'rule does not match';
    else if (winner !== undefined && c.priority < winner.priority)
      why = `matches, but has a lower priority than ${winner.name}`;
    else why = `matches, but ${winner?.name ?? 'another router'} comes first (same priority, name order)`;
    write(`  ${c.name} (priority ${c.priority}): ${why}: ${c.rule}\n`);
  }
  return winner === undefined ? 1 : 0;
}

function describeService(snapshot: RuntimeSnapshot, name: string): string {
  if (name.endsWith('@internal')) return `${name} (served by the proxy itself)`;
  const svc = snapshot.config.http.services[name];
  if (svc === undefined) return `${name} (not defined)`;
  if (svc.kind === 'loadBalancer') {
    const urls = svc.loadBalancer.servers.map((s) => s.url);
    return `${name} (loadBalancer: ${urls.length === 0 ? 'no servers' : urls.join(', ')})`;
  }
  return `${name} (${svc.kind})`;
}
