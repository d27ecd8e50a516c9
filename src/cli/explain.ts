import { explain, explainRequestHead } from '../admin/index.ts';
import {
  type ConfigIssue,
  type DynamicConfig,
  formatIssue,
  loadStaticConfig,
  type RuleChecker,
  type StaticConfig,
  sortIssues,
} from '../config/index.ts';
import {
  defaultEntryPoints,
  enabledInternalServices,
  entryPointModelFor,
  listenedEntryPoints,
} from '../config/static/admin-entry-points.ts';
import { silentLogger } from '../core/logger.ts';
import { Ticker } from '../core/ticker.ts';
import { ApiProvider } from '../providers/api/index.ts';
import { fileProviderOptions, loadSources } from '../providers/index.ts';
import { compileRule } from '../router/index.ts';
import { buildSnapshot } from '../runtime/build-snapshot.ts';
import { internalServicesFor } from '../runtime/internal-services.ts';
import { mergeProviders } from '../runtime/merge-providers.ts';
import { ResourceCache } from '../runtime/resource-cache.ts';
import type { RuntimeSnapshot } from '../runtime/types.ts';

export interface ExplainOptions {
  /** Default: the first default entry point (every one but `traefik`). */
  readonly entryPoint?: string;
  /** Configuration flags, as for `run`. */
  readonly overrides?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** For `ClientIP` rules. Default 127.0.0.1. */
  readonly clientIp?: string;
}

const checkRule: RuleChecker = (rule) => {
  const r = compileRule(rule);
  return r.ok ? undefined : r.error;
};

/**
 * `traffic explain --config FILE 'GET https://host/path' -H 'Name: value'`: builds the routing
 * table the proxy would build from this configuration (its file provider and the API's persisted
 * changes; pools are created lazily, so nothing connects anywhere) and prints which router the
 * request takes, why each other candidate does not, and the middlewares and service it goes
 * through. Exit 0 when a router matches, 1 when none does, 2 on bad input or a configuration
 * with errors. `write` receives whole lines.
 */
export function runExplain(
  configFile: string | undefined,
  request: string,
  headers: readonly string[],
  write: (text: string) => void,
  options: ExplainOptions = {},
): number {
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
  const dynamic = config === undefined ? undefined : loadDynamic(config, loaded.inlineDynamic, issues);
  const errors = issues.filter((i) => i.severity === 'error');
  if (config === undefined || dynamic === undefined || errors.length > 0) {
    for (const i of sortIssues(errors)) write(`${formatIssue(i)}\n`);
    write(`configuration has ${errors.length} error${errors.length === 1 ? '' : 's'}: nothing to explain\n`);
    return 2;
  }
  const listened = listenedEntryPoints(config).map(([n]) => n);
  const defaults = defaultEntryPoints(config);
  const entryPoint = options.entryPoint ?? defaults[0] ?? listened[0];
  if (entryPoint === undefined || !listened.includes(entryPoint)) {
    write(entryPoint === undefined ? 'no entry point is defined\n' : `unknown entry point ${entryPoint}\n`);
    return 2;
  }
  const head = explainRequestHead({
    method,
    url,
    headers,
    entryPoint,
    ...(options.clientIp !== undefined ? { clientIp: options.clientIp } : {}),
  });
  if ('error' in head) {
    write(`${head.error}\n`);
    return 2;
  }
  const ticker = new Ticker();
  const cache = new ResourceCache(ticker);
  try {
    // Routers as the proxy sees them: the internal services (their pool is lazy and never dials
    // here), asDefault entry points and entry point middlewares applied.
    const internal = internalServicesFor(config, { host: '127.0.0.1', port: 9 }, '');
    const built = buildSnapshot(dynamic, 1, cache, silentLogger, {
      defaultEntryPoints: defaults,
      entryPointModel: entryPointModelFor(config),
      ...(config.serversTransport !== undefined ? { defaultTransport: config.serversTransport } : {}),
      ...(internal !== undefined ? { internal } : {}),
    });
    const buildErrors = built.issues.filter((i) => i.severity === 'error');
    for (const i of buildErrors) write(`${formatIssue(i)}\n`);
    write(`${method} ${url} on entry point ${entryPoint}\n`);
    return report(built.snapshot, explain(built.snapshot, entryPoint, head), write);
  } finally {
    cache.closeAll();
    ticker.stop();
  }
}

/** The file provider's configuration and the API's persisted one, merged as the watcher merges. */
function loadDynamic(
  config: StaticConfig,
  inline: Parameters<typeof fileProviderOptions>[1],
  issues: ConfigIssue[],
): DynamicConfig | undefined {
  const byProvider = new Map<string, DynamicConfig>();
  const fileOpts = fileProviderOptions(config, inline, { checkRule });
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
  return mergeProviders(byProvider);
}

function report(
  snapshot: RuntimeSnapshot,
  result: ReturnType<typeof explain>,
  write: (text: string) => void,
): number {
  const winner = result.candidates.find((c) => c.name === result.matched);
  if (winner === undefined) write('no router matches\n');
  else {
    write(`matched router ${winner.name} (priority ${winner.priority})\n`);
    write(`  rule: ${winner.rule}\n`);
    write(`  middlewares: ${result.middlewares.length === 0 ? '(none)' : result.middlewares.join(' -> ')}\n`);
    write(`  service: ${describeService(snapshot, result.service ?? '')}\n`);
  }
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
