/**
 * Composition root: the only file that knows every concrete class. Parses the command line,
 * loads the static configuration, opens the entry points, starts the providers and wires the
 * configuration watcher to the listeners through one SnapshotRef.
 */
import { closeSync, openSync } from 'node:fs';
import { BlockList, isIPv6 } from 'node:net';
import { helpText, parseCommand, runValidate } from './cli/index.ts';
import {
  type EntryPointConfig,
  formatIssue,
  hasErrors,
  loadStaticConfig,
  parseAddress,
  type RuleChecker,
  type StaticConfig,
} from './config/index.ts';
import { createLogger, type Logger } from './core/logger.ts';
import { Ticker } from './core/ticker.ts';
import { DEFAULT_REQUEST_LIMITS } from './http1/request-head.ts';
import { HttpListener } from './listeners/http-listener.ts';
import { AccessLog } from './observability/access-log.ts';
import { FileProvider, fileProviderOptions } from './providers/file/index.ts';
import type { Provider } from './providers/provider.ts';
import type { EntryPointContext } from './proxy/entry-point-context.ts';
import { compileBreakerExpression } from './resilience/circuit-breaker/index.ts';
import { compileRule } from './router/index.ts';
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
    draining: false,
  };
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
  const accessLog =
    config.accessLog === undefined
      ? null
      : new AccessLog({ format: config.accessLog.format, filePath: config.accessLog.filePath });

  const listeners: HttpListener[] = [];
  for (const [name, ep] of Object.entries(config.entryPoints)) {
    const addr = parseAddress(ep.address);
    if ('error' in addr) throw new Error(`entry point ${name}: ${addr.error}`);
    const ctx = entryPointContext(name, ep, addr.port, ref, ticker, logger, accessLog);
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
  if (providers.length === 0) logger.warn('no configuration provider: every request will get 404');
  const watcher = new ConfigWatcher(providers, ref, cache, logger);
  const stop = new AbortController();
  const watching = watcher.run(stop.signal);

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
      await watching.catch(() => {});
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
