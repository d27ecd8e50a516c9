import type { Picker } from '../balancer/index.ts';
import type { RequestHead } from '../core/request.ts';
import type { Middleware } from '../middleware/middleware.ts';
import type { UpstreamPool } from '../upstream/pool.ts';

/** One upstream server of a service, with the pool shared across snapshots (ResourceCache). */
export interface ServerRuntime {
  readonly url: string;
  /** host:port as sent in Host when passHostHeader is false. */
  readonly authority: string;
  readonly pool: UpstreamPool;
}

export interface ServiceRuntime {
  /** Qualified name, `svc@file`. */
  readonly name: string;
  readonly servers: readonly ServerRuntime[];
  readonly picker: Picker;
  /** Requests in flight per server (same indexes); read by leastConn/p2c pickers. */
  readonly inFlight: Int32Array;
  readonly passHostHeader: boolean;
}

/** Where a matched router sends a request: its middleware chain, then its service. */
export interface RouteTarget {
  readonly router: string;
  readonly middlewares: readonly Middleware[];
  readonly service: ServiceRuntime;
}

export interface RouteTable {
  match(entryPoint: string, req: RequestHead): RouteTarget | undefined;
}

/**
 * Everything a request needs, built once per configuration generation and never mutated. A
 * request reads `SnapshotRef.current` once and keeps that snapshot to the end.
 */
export interface RuntimeSnapshot {
  readonly generation: number;
  readonly routes: RouteTable;
}

export class SnapshotRef {
  #current: RuntimeSnapshot;
  constructor(initial: RuntimeSnapshot) {
    this.#current = initial;
  }
  get current(): RuntimeSnapshot {
    return this.#current;
  }
  /** One assignment: requests already running keep the snapshot they started with. */
  swap(next: RuntimeSnapshot): RuntimeSnapshot {
    const prev = this.#current;
    this.#current = next;
    return prev;
  }
}

export const EMPTY_SNAPSHOT: RuntimeSnapshot = { generation: 0, routes: { match: () => undefined } };
