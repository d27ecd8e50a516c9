/** A running admin API over a real watcher, for the admin tests. Not part of the public surface. */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import type { RuleChecker } from '../config/index.ts';
import { type InternalServiceName, isInternalServiceName } from '../config/internal-services.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import { Ticker } from '../core/ticker.ts';
import { ApiProvider, type ApiProviderOptions } from '../providers/api/index.ts';
import type { Provider } from '../providers/provider.ts';
import { compileRule } from '../router/index.ts';
import { type BuildOptions, buildSnapshot } from '../runtime/build-snapshot.ts';
import { type ApplyOutcome, ConfigWatcher } from '../runtime/config-watcher.ts';
import type { InternalOrigin } from '../runtime/internal-services.ts';
import { ResourceCache } from '../runtime/resource-cache.ts';
import { EMPTY_SNAPSHOT, SnapshotRef } from '../runtime/types.ts';
import { AdminServer, type AdminServerDeps } from './admin-server.ts';

export const checkRule: RuleChecker = (rule) => {
  const r = compileRule(rule);
  return r.ok ? undefined : r.error;
};

export interface TestAdmin {
  readonly base: string;
  readonly api: ApiProvider;
  readonly watcher: ConfigWatcher;
  readonly ref: SnapshotRef;
  request(path: string, init?: RequestInit): Promise<Response>;
  json(path: string, init?: RequestInit): Promise<{ status: number; body: unknown; headers: Headers }>;
}

export interface TestAdminOptions {
  readonly provider?: ApiProviderOptions;
  /** Check the merged configuration by building it (what main.ts is expected to do). */
  readonly validateMerged?: boolean;
  readonly server?: Partial<Omit<AdminServerDeps, 'snapshots' | 'watcher' | 'logger'>>;
  /** The client address the proxy reports (to test non-loopback peers); default the socket's. */
  readonly peer?: string;
  /** How the request reached the server, as the proxy's identity header would say. */
  readonly via?: InternalOrigin['via'];
  readonly hostPinned?: boolean;
  /** The internal service the router named; a request may pick another with `x-test-service`. */
  readonly service?: InternalServiceName;
  /** Providers besides the API provider (for `tcp` and `udp` objects, which it does not hold). */
  readonly providers?: readonly Provider[];
  /** How the watcher builds snapshots (UDP entry points…). */
  readonly build?: BuildOptions;
  /** The watcher's logger (health checks log through it); default silent. */
  readonly logger?: Logger;
  readonly entryPoints?: readonly { readonly name: string; readonly address: string }[];
}

/** The ApiProvider as the only provider, wired as src/main.ts wires providers, and an admin server. */
export async function startAdmin(t: TestContext, opts: TestAdminOptions = {}): Promise<TestAdmin> {
  const ticker = new Ticker();
  const cache = new ResourceCache(ticker);
  const ref = new SnapshotRef(EMPTY_SNAPSHOT);
  let watcher: ConfigWatcher | undefined;
  const entryPoints = opts.entryPoints ?? [
    { name: 'web', address: ':8080' },
    { name: 'traefik', address: '127.0.0.1:8081' },
  ];
  const api = new ApiProvider({
    entryPoints: entryPoints.map((e) => e.name),
    checkRule,
    ...(opts.validateMerged === false
      ? {}
      : {
          validateMerged: (c) => {
            const scratch = new ResourceCache(ticker);
            const r = buildSnapshot(watcher!.mergedWith('api', c), 0, scratch, silentLogger);
            scratch.closeAll();
            return r.issues.filter((i) => i.severity === 'error');
          },
        }),
    ...opts.provider,
  });
  watcher = new ConfigWatcher(
    [api, ...(opts.providers ?? [])],
    ref,
    cache,
    opts.logger ?? silentLogger,
    opts.build ?? {},
  );
  const first = new Promise<ApplyOutcome>((resolve) => watcher.onOutcome(resolve));
  const stop = new AbortController();
  const watching = watcher.run(stop.signal);
  await first;
  const admin = new AdminServer({
    snapshots: ref,
    watcher,
    api,
    entryPoints,
    version: '1.2.3',
    auth: undefined,
    insecure: false,
    readOnly: false,
    metrics: null,
    dashboard: null,
    logger: silentLogger,
    ...opts.server,
  });
  // Stands for the proxy's internal route, which tells the server who the client is.
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const asked = req.headers['x-test-service'];
    const service =
      typeof asked === 'string' && isInternalServiceName(asked) ? asked : (opts.service ?? 'api');
    admin.serve(req, res, {
      service,
      clientIp: opts.peer ?? req.socket.remoteAddress ?? '',
      via: opts.via ?? 'entryPoint',
      hostPinned: opts.hostPinned ?? false,
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    server.closeAllConnections();
    server.close();
    stop.abort();
    await watching;
    cache.closeAll();
    ticker.stop();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const request = (path: string, init?: RequestInit) => fetch(base + path, init);
  return {
    base,
    api,
    watcher,
    ref,
    request,
    json: async (path, init) => {
      const res = await request(path, init);
      const text = await res.text();
      // Go's 404 page (a path no route takes) is text: the body is that text then.
      const plain = text === '' || text === '404 page not found\n';
      return { status: res.status, body: plain ? text || undefined : JSON.parse(text), headers: res.headers };
    },
  };
}

/** A JSON request body. */
export function jsonBody(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}
