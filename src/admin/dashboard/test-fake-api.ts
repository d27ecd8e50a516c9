/**
 * A stand-in for the admin entry point in the dashboard's browser tests: the dashboard's assets
 * through `dashboardAsset`, and the read endpoints of the admin JSON API answered from a state
 * object the test edits between steps (a server going down is one assignment).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DashboardAsset, dashboardAsset } from './index.ts';

export interface FakeServer {
  url: string;
  status: 'up' | 'down';
  inFlight: number;
  pool: { idle: number; busy: number; connecting: number; opened: number; closed: number; reused: number };
}

export interface FakeService {
  name: string;
  provider: string;
  type: 'loadBalancer' | 'weighted' | 'mirroring' | 'failover' | 'highestRandomWeight';
  status: 'enabled' | 'disabled';
  issues: string[];
  servers?: FakeServer[];
  services?: string[];
  config: unknown;
}

export interface FakeRouter {
  name: string;
  provider: string;
  rule: string;
  priority: number;
  entryPoints: string[];
  middlewares: string[];
  service: string;
  status: 'enabled' | 'disabled';
  issues: string[];
}

export interface FakeMiddleware {
  name: string;
  provider: string;
  type: string;
  status: 'enabled' | 'disabled';
  issues: string[];
  config: unknown;
}

export interface FakeState {
  generation: number;
  applied: number;
  rejected: number;
  lastRejection: { provider: string; issues: string[] } | null;
  /** Issues of the configuration in force outside any object (the overview's `issues`). */
  issues: { severity: 'error' | 'warning'; text: string }[];
  routers: FakeRouter[];
  services: FakeService[];
  middlewares: FakeMiddleware[];
  /** `/api/tcp/routers` (absent = none; the other layer 4 lists are empty). */
  tcpRouters?: Record<string, unknown>[];
  /** `/api/providers`: the supervised providers' states (absent = none). */
  providers?: {
    name: string;
    phase: string;
    since: number;
    updates: number;
    failures: number;
    lastError: string | null;
    lastErrorAt: number;
  }[];
  /** When set, every `/api/` request gets this status (the API is failing). */
  failWith: number | null;
}

export interface FakeAdmin {
  readonly state: FakeState;
  /** `http://127.0.0.1:<port>/dashboard/` */
  readonly dashboardUrl: string;
  /** How many API requests arrived so far, by path. */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

export function pool(opened = 0): FakeServer['pool'] {
  return { idle: opened, busy: 0, connecting: 0, opened, closed: 0, reused: 0 };
}

function counts(list: readonly { status: string; issues: readonly string[] }[]) {
  return {
    total: list.length,
    warnings: list.filter((o) => o.status === 'enabled' && o.issues.length > 0).length,
    errors: list.filter((o) => o.status === 'disabled').length,
  };
}

function api(state: FakeState, path: string): { status: number; body: unknown } {
  const at = 1_700_000_000_000;
  switch (path) {
    case 'overview':
      return {
        status: 200,
        body: {
          version: '0.1.0-test',
          generation: state.generation,
          reloads: {
            applied: state.applied,
            rejected: state.rejected,
            lastAppliedAt: at,
            lastRejectedAt: state.lastRejection === null ? 0 : at + 1000,
            lastRejection: state.lastRejection,
          },
          http: {
            routers: counts(state.routers),
            services: counts(state.services),
            middlewares: counts(state.middlewares),
          },
          issues: state.issues,
        },
      };
    case 'http/routers':
      return { status: 200, body: state.routers };
    case 'http/services':
      return { status: 200, body: state.services.map(({ config: _, ...rest }) => rest) };
    case 'providers':
      return { status: 200, body: state.providers ?? [] };
    case 'http/middlewares':
      return { status: 200, body: state.middlewares };
    case 'tcp/routers':
      return { status: 200, body: state.tcpRouters ?? [] };
    case 'tcp/services':
    case 'udp/routers':
    case 'udp/services':
      return { status: 200, body: [] };
    default:
      break;
  }
  if (path.startsWith('http/services/')) {
    const name = decodeURIComponent(path.slice('http/services/'.length));
    const found = state.services.find((s) => s.name === name);
    if (found !== undefined) return { status: 200, body: found };
  }
  return { status: 404, body: { error: `not found: /api/${path}` } };
}

export async function startFakeAdmin(
  state: FakeState,
  assets: (path: string) => DashboardAsset | undefined = dashboardAsset,
): Promise<FakeAdmin> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const target = req.url ?? '/';
    const asset = assets(target);
    if (asset !== undefined) {
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store' });
      res.end(asset.body);
      return;
    }
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    if (!path.startsWith('/api/')) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const apiPath = path.slice('/api/'.length);
    hits.set(apiPath, (hits.get(apiPath) ?? 0) + 1);
    const answer =
      state.failWith === null
        ? api(state, apiPath)
        : { status: state.failWith, body: { error: 'the fake API is failing' } };
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    state,
    hits,
    dashboardUrl: `http://127.0.0.1:${port}/dashboard/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
