/**
 * Composition root: the only file that knows every concrete class. Parses the command line,
 * loads the static configuration, opens the entry points, starts the providers and wires the
 * configuration watcher to the listeners through one SnapshotRef.
 */
import { closeSync, openSync } from 'node:fs';
import { BlockList, isIPv6 } from 'node:net';
import type { AdminServer } from './admin/index.ts';
import { helpText, packageVersion, parseCommand, runValidate } from './cli/index.ts';
import type { DynamicConfig } from './config/dynamic/schema.ts';
import {
  type EntryPointConfig,
  formatIssue,
  hasErrors,
  loadStaticConfig,
  parseAddress,
  type RuleChecker,
  type StaticConfig,
} from './config/index.ts';
import type { ConfigIssue } from './config/issues.ts';
import { createLogger, type Logger } from './core/logger.ts';
import { Ticker } from './core/ticker.ts';
import { DEFAULT_REQUEST_LIMITS } from './http1/request-head.ts';
import { HttpListener } from './listeners/http-listener.ts';
import { type AccessLog, createAccessLog } from './observability/access-log.ts';
import type { TrafficMetrics } from './observability/metrics/index.ts';
import type { Tracer } from './observability/tracing/index.ts';
import type { ApiProvider } from './providers/api/index.ts';
import { FileProvider, fileProviderOptions } from './providers/file/index.ts';
import type { Provider } from './providers/provider.ts';
import type { EntryPointContext } from './proxy/entry-point-context.ts';
import { EntryPointMetrics } from './proxy/route-metrics.ts';
import { compileBreakerExpression } from './resilience/circuit-breaker/index.ts';
import { compileRule } from './router/index.ts';
import { buildSnapshot } from './runtime/build-snapshot.ts';
import { ConfigWatcher } from './runtime/config-watcher.ts';
import { ResourceCache } from './runtime/resource-cache.ts';
import { EMPTY_SNAPSHOT, SnapshotRef } from './runtime/types.ts';

const checkRule: RuleChecker = (rule) => {
  const r = compileRule(rule);
  return r.ok ? undefined : r.error;
};

const checkBreakerExpression: RuleChecker = (src) => {
  const r = compileBreakerExpression(src);
  return r.ok ? undefined : { message: r.error, offset: r.offset };
};

function trustedMatcher(cidrs: readonly string[], insecure: boolean): (ip: string) => boolean {
  if (insecure) return () => true;
  if (cidrs.length === 0) return () => false;
  const list = new BlockList();
  for (const c of cidrs) {
    const slash = c.indexOf('/');
    const ip = slash === -1 ? c : c.slice(0, slash);
    const type = isIPv6(ip) ? 'ipv6' : 'ipv4';
    if (slash === -1) list.addAddress(ip, type);
    else list.addSubnet(ip, Number(c.slice(slash + 1)), type);
  }
  return (ip) => ip !== '' && list.check(ip, isIPv6(ip) ? 'ipv6' : 'ipv4');
}

function entryPointContext(
  name: string,
  ep: EntryPointConfig,
  port: number,
  ref: SnapshotRef,
  ticker: Ticker,
  logger: Logger,
  accessLog: AccessLog | null,
  metrics: TrafficMetrics | null,
  tracer: Tracer | null,
): EntryPointContext {
  const t = ep.transport.respondingTimeouts;
  return {
    name,
    scheme: 'http',
    port: String(port),
    limits: { ...DEFAULT_REQUEST_LIMITS, maxHeaderBytes: ep.http.maxHeaderBytes },
    readHeaderTimeoutMs: t.readHeaderTimeout,
    idleTimeoutMs: t.idleTimeout,
    readTimeoutMs: t.readTimeout,
    keepAliveMaxRequests: ep.transport.keepAliveMaxRequests,
    isTrusted: trustedMatcher(ep.forwardedHeaders.trustedIPs, ep.forwardedHeaders.insecure),
    snapshots: ref,
    ticker,
    logger,
    accessLog,
    metrics: metrics === null ? null : new EntryPointMetrics(metrics, name),
    tracer,
    draining: false,
  };
}

/** Where the API, ping and metrics are served when their entry point is not configured. */
const DEFAULT_ADMIN_ADDRESS = '127.0.0.1:8082';

/** The entry points that serve the API, ping or metrics instead of proxying. */
function adminEntryPoints(config: StaticConfig): Set<string> {
  const names = new Set<string>();
  if (config.api !== undefined) names.add(config.api.entryPoint);
  if (config.ping !== undefined) names.add(config.ping.entryPoint);
  if (config.metrics?.prometheus !== undefined) names.add(config.metrics.prometheus.entryPoint);
  return names;
}

/**
 * Serves the admin handler on `address`. node:http is loaded here, on demand: it costs ~17 MB of
 * resident memory that a proxy without an admin entry point should not pay.
 */
async function listenAdmin(
  admin: AdminServer,
  address: string,
): Promise<{ address: string; close(): Promise<void> }> {
  const addr = parseAddress(address);
  if ('error' in addr) throw new Error(addr.error);
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => admin.handle(req, res));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(
      { host: addr.host === undefined || addr.host === '' ? undefined : addr.host, port: addr.port },
      () => {
        server.off('error', reject);
        resolve();
      },
    );
  });
  const a = server.address();
  const bound = a !== null && typeof a !== 'string' ? `${a.address}:${a.port}` : address;
  return {
    address: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A fresh cache per trial: pools are lazy and shared state is closed again, so nothing leaks. */
function trialBuild(merged: DynamicConfig, logger: Logger): readonly ConfigIssue[] {
  const ticker = new Ticker();
  const cache = new ResourceCache(ticker);
  try {
    return buildSnapshot(merged, 0, cache, logger).issues.filter((i) => i.severity === 'error');
  } finally {
    cache.closeAll();
    ticker.stop();
  }
}

async function run(config: StaticConfig, inline: Parameters<typeof fileProviderOptions>[1]): Promise<number> {
  const logger = createLogger({
    level: config.log.level,
    format: config.log.format === 'json' ? 'json' : 'text',
  });
  const ticker = new Ticker();
  const cache = new ResourceCache(ticker);
  const ref = new SnapshotRef(EMPTY_SNAPSHOT);
  // Without a listening socket the event loop empties and the process would end with 0 at once,
  // which a supervisor reads as "finished fine".
  if (Object.keys(config.entryPoints).length === 0) {
    logger.error('no entry point is defined: nothing to listen on');
    return 1;
  }
  const accessLogPath = config.accessLog?.filePath ?? '';
  if (accessLogPath !== '') {
    // AccessLog opens its file asynchronously and would then drop (and hold) every line: a path
    // that cannot be opened is a configuration error, reported before any entry point opens.
    try {
      closeSync(openSync(accessLogPath, 'a', 0o640));
    } catch (e) {
      logger.error('cannot open the access log', { filePath: accessLogPath, error: e });
      return 1;
    }
  }
  const accessLog = config.accessLog === undefined ? null : createAccessLog(config.accessLog, logger);
  const prom = config.metrics?.prometheus;
  const metrics =
    prom === undefined
      ? null
      : new (await import('./observability/metrics/index.ts')).TrafficMetrics({
          buckets: prom.buckets,
          addEntryPointsLabels: prom.addEntryPointsLabels,
          addRoutersLabels: prom.addRoutersLabels,
          addServicesLabels: prom.addServicesLabels,
        });
  const tc = config.tracing;
  const tracer =
    tc === undefined
      ? null
      : new (await import('./observability/tracing/index.ts')).Tracer(
          {
            serviceName: tc.serviceName,
            sampleRate: tc.sampleRate,
            globalAttributes: tc.globalAttributes,
            endpoint: tc.otlp?.http?.endpoint ?? 'http://localhost:4318/v1/traces',
            headers: tc.otlp?.http?.headers ?? {},
          },
          logger,
        );
  const adminNames = adminEntryPoints(config);

  const listeners: HttpListener[] = [];
  for (const [name, ep] of Object.entries(config.entryPoints)) {
    if (adminNames.has(name)) continue;
    const addr = parseAddress(ep.address);
    if ('error' in addr) throw new Error(`entry point ${name}: ${addr.error}`);
    const ctx = entryPointContext(name, ep, addr.port, ref, ticker, logger, accessLog, metrics, tracer);
    const listener = new HttpListener(ctx);
    try {
      const bound = await listener.listen(addr.host ?? '', addr.port);
      (ctx as { port: string }).port = String(bound.port);
      logger.info('entry point listening', { entryPoint: name, address: `${bound.address}:${bound.port}` });
    } catch (e) {
      logger.error('cannot listen', { entryPoint: name, address: ep.address, error: e });
      for (const l of listeners) await l.shutdown(0);
      return 1;
    }
    listeners.push(listener);
  }

  const providers: Provider[] = [];
  const fileOpts = fileProviderOptions(config, inline, { checkRule, checkBreakerExpression });
  if (fileOpts !== undefined) providers.push(new FileProvider(fileOpts));
  // The watcher is needed by the API provider's merged check; it reads `providers` only in run().
  const watcher = new ConfigWatcher(providers, ref, cache, logger);
  let api: ApiProvider | null = null;
  if (config.api !== undefined) {
    // Read-only too: the persisted API configuration still serves; the AdminServer refuses writes.
    // Modules a proxy without an API, metrics or tracing never loads (resident memory).
    const { ApiProvider } = await import('./providers/api/index.ts');
    api = new ApiProvider({
      persistFile: config.api.persistFile,
      entryPoints: Object.keys(config.entryPoints).filter((n) => !adminNames.has(n)),
      knownProviders: fileOpts === undefined ? [] : ['file'],
      checkRule,
      checkBreakerExpression,
      validateMerged: (own) => trialBuild(watcher.mergedWith('api', own), logger),
    });
    providers.push(api);
  }
  if (providers.length === 0) logger.warn('no configuration provider: every request will get 404');
  if (metrics !== null) {
    const { runtimeCollector } = await import('./runtime/metrics-collector.ts');
    metrics.addCollector(runtimeCollector(ref, watcher));
  }
  const adminModule = adminNames.size === 0 ? null : await import('./admin/index.ts');
  const dashboardAsset =
    config.api?.dashboard === true ? (await import('./admin/dashboard/index.ts')).dashboardAsset : null;

  const admins: { close(): Promise<void> }[] = [];
  for (const name of adminNames) {
    const ep = config.entryPoints[name];
    const address = ep?.address ?? DEFAULT_ADMIN_ADDRESS;
    const admin = new adminModule!.AdminServer({
      snapshots: ref,
      watcher,
      api: config.api !== undefined && config.api.entryPoint === name ? api : null,
      proxyEntryPoints: Object.keys(config.entryPoints).filter((n) => !adminNames.has(n)),
      // Proxy entry points first: explain defaults to the first one.
      entryPoints: Object.entries(config.entryPoints)
        .filter(([n]) => !adminNames.has(n))
        .concat(Object.entries(config.entryPoints).filter(([n]) => adminNames.has(n)))
        .map(([n, e]) => ({ name: n, address: e.address })),
      version: packageVersion(),
      auth: config.api?.auth,
      insecure: config.api?.insecure ?? false,
      readOnly: config.api?.readOnly ?? false,
      metrics: prom !== undefined && prom.entryPoint === name ? metrics : null,
      dashboard: config.api?.entryPoint === name ? dashboardAsset : null,
      logger,
    });
    try {
      const bound = await listenAdmin(admin, address);
      admins.push(bound);
      logger.info('entry point listening', { entryPoint: name, address: bound.address, admin: true });
    } catch (e) {
      logger.error('cannot listen', { entryPoint: name, address, error: e });
      for (const l of listeners) await l.shutdown(0);
      for (const a of admins) await a.close();
      return 1;
    }
  }

  const stop = new AbortController();
  const watching = watcher.run(stop.signal);
  if (accessLog !== null) process.on('SIGUSR1', () => accessLog.reopen());

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      const grace = Math.max(
        0,
        ...Object.values(config.entryPoints).map((e) => e.transport.lifeCycle.graceTimeOut),
      );
      logger.info('shutting down', { signal, graceMs: grace });
      stop.abort();
      await Promise.all(listeners.map((l) => l.shutdown(grace)));
      await Promise.all(admins.map((a) => a.close()));
      await watching.catch(() => {});
      await tracer?.close();
      cache.closeAll();
      ticker.stop();
      await accessLog?.close();
      logger.info('stopped');
      resolve(0);
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
  });
}

async function main(): Promise<number> {
  const cmd = parseCommand(process.argv.slice(2), process.env);
  switch (cmd.kind) {
    case 'help':
      process.stdout.write(cmd.text);
      return 0;
    case 'version':
      process.stdout.write(`traffic ${cmd.version} (node ${process.versions.node})\n`);
      return 0;
    case 'error':
      process.stderr.write(`traffic: ${cmd.message}\n\n${helpText()}`);
      return 2;
    case 'validate':
      return runValidate(cmd.configFile, cmd.overrides, process.env, checkRule, checkBreakerExpression, (t) =>
        process.stdout.write(t),
      );
    case 'explain':
      return (await import('./cli/explain.ts')).runExplain(
        cmd.configFile,
        cmd.request,
        cmd.headers,
        (t) => process.stdout.write(t),
        {
          overrides: cmd.overrides,
          env: process.env,
        },
      );
    case 'run': {
      const loaded = loadStaticConfig({
        ...(cmd.configFile !== undefined ? { file: cmd.configFile } : {}),
        argv: cmd.overrides,
        env: process.env,
      });
      for (const i of loaded.issues) process.stderr.write(`${formatIssue(i)}\n`);
      if (loaded.config === undefined || hasErrors(loaded.issues)) return 1;
      return run(loaded.config, loaded.inlineDynamic);
    }
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Let stdout/stderr flush; nothing else should be keeping the loop alive.
    setImmediate(() => process.exit(code)).unref();
  },
  (err: unknown) => {
    process.stderr.write(
      `traffic: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
