import type { Server, Socket } from 'node:net';
import { unwrapIp } from '../core/ip.ts';
import { clientKey } from './client-key.ts';
import { type OverloadManager, SHED_EVENT_LOOP, type SheddingListener } from './overload-manager.ts';

/** Static limits of one entry point (`entryPoints.<n>.transport`); 0 = no limit. */
export interface ConnectionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
}

/** Why a request was answered 503 by the overload manager (the metric's `reason` label). */
export type ShedReason = 'event_loop_delay' | 'heap' | 'request_body_memory';

/** Why a connection was closed at accept. */
export type RefusalReason = 'max_connections' | 'max_connections_per_ip';

/**
 * An entry point's side of the overload manager: the connection caps, enforced when a
 * connection is accepted (before a byte is read or a TLS handshake is made), and what requests
 * read of the manager's state. `shedding` is copied here by the manager, so that the hot path
 * reads one field of an object it already holds (EntryPointContext.overload).
 *
 * Decisions are counted here, per reason, for the metrics (overload/overload-metrics.ts).
 */
export class EntryPointGate implements SheddingListener {
  readonly entryPoint: string;
  readonly manager: OverloadManager;
  readonly limits: ConnectionLimits;
  /** Mirror of `manager.shedding` (SHED_* bits); 0 = admit. Read per request. */
  shedding = 0;
  /** The headers of a 503 of ours (Retry-After). */
  readonly retryAfterHeaders: ReadonlyArray<readonly [string, string]>;
  /** Peers the per-IP cap does not apply to (forwardedHeaders.trustedIPs: they carry many clients). */
  readonly #exempt: (ip: string) => boolean;
  /** Open connections per client key, only when maxConnectionsPerIp is set. */
  readonly #perClient = new Map<string, number>();
  /** The 'close' listener of counted sockets: one function per gate, not one per connection. */
  readonly #onClose: (this: Socket) => void;

  // ---- decisions, by reason (read by the metrics collector)
  readonly shed: Record<ShedReason, number> = { event_loop_delay: 0, heap: 0, request_body_memory: 0 };
  readonly refused: Record<RefusalReason, number> = { max_connections: 0, max_connections_per_ip: 0 };
  /** Requests admitted while shedding because they are never shed (ping, API, ACME …). */
  exempted = 0;

  constructor(
    entryPoint: string,
    manager: OverloadManager,
    limits: ConnectionLimits,
    exempt: (ip: string) => boolean = () => false,
  ) {
    this.entryPoint = entryPoint;
    this.manager = manager;
    this.limits = limits;
    this.#exempt = exempt;
    this.retryAfterHeaders = [['Retry-After', String(manager.settings.retryAfterSeconds)]];
    const gate = this;
    this.#onClose = function (this: Socket) {
      gate.#release(clientKey(this.remoteAddress));
    };
    manager.follow(this);
  }

  /**
   * Puts the entry point's cap on its server. node enforces `maxConnections` itself, before it
   * makes a socket object: the connection is closed at once and 'drop' is emitted. Every
   * connection counts, TLS handshakes in progress and HTTP/2 sessions included.
   */
  attach(server: Server): void {
    if (this.limits.maxConnections <= 0) return;
    server.maxConnections = this.limits.maxConnections;
    server.on('drop', () => {
      this.refused.max_connections++;
    });
  }

  /** Whether the per-IP cap applies (the listener asks once per connection only then). */
  get perClient(): boolean {
    return this.limits.maxConnectionsPerIp > 0;
  }

  /**
   * The per-IP cap, on a freshly accepted socket: counts it and returns true, or destroys it
   * (nothing read, nothing written) and returns false.
   */
  admitConnection(socket: Socket): boolean {
    const addr = socket.remoteAddress;
    const key = clientKey(addr);
    if (key === '' || this.#exempt(unwrapIp(addr))) return true;
    const n = this.#perClient.get(key) ?? 0;
    if (n >= this.limits.maxConnectionsPerIp) {
      this.refused.max_connections_per_ip++;
      socket.destroy();
      return false;
    }
    this.#perClient.set(key, n + 1);
    socket.on('close', this.#onClose);
    return true;
  }

  #release(key: string): void {
    const n = this.#perClient.get(key);
    if (n === undefined) return;
    if (n <= 1) this.#perClient.delete(key);
    else this.#perClient.set(key, n - 1);
  }

  /** Clients with at least one counted connection (a gauge). */
  get clients(): number {
    return this.#perClient.size;
  }

  /** Counts a request shed for the pressure in `bits` (SHED_*); returns the reason. */
  countShed(bits: number): ShedReason {
    const reason: ShedReason = (bits & SHED_EVENT_LOOP) !== 0 ? 'event_loop_delay' : 'heap';
    this.shed[reason]++;
    return reason;
  }
}
