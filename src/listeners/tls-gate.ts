import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../core/logger.ts';
import type { SnapshotRef } from '../runtime/types.ts';
import { ALERT_INTERNAL_ERROR, recordVersionOf, refuseWithAlert } from '../tls/alerts.ts';

/** The parts of a ClientHello the TLS layer needs. */
export interface HelloInfo {
  readonly serverName: string | undefined;
  readonly alpn: readonly string[];
}

/** What the gate needs of a TLS front (listeners/tls-front). */
export interface TlsHandshaker {
  handshake(
    socket: Socket,
    buffered: Buffer,
    hello: HelloInfo,
    options?: string,
    onSecure?: (socket: TLSSocket) => void,
  ): void;
  close(): void;
}

export type TlsFrontFactory = (entryPoint: string, onSecure: (socket: TLSSocket) => void) => TlsHandshaker;

interface Parked {
  readonly entryPoint: string;
  readonly socket: Socket;
  readonly buffered: Buffer;
  readonly hello: HelloInfo;
  readonly options: string | undefined;
  readonly onSecure: ((socket: TLSSocket) => void) | undefined;
}

/** ClientHellos held while TLS loads; more are refused (a burst at start-up, not a queue). */
const MAX_PARKED = 1024;
/** How long a held ClientHello waits for TLS to be ready. */
const PARK_MS = 10_000;

/**
 * The TLS fronts of every entry point, which exist once TLS is loaded. A proxy whose static
 * configuration terminates no TLS loads it when a configuration first asks for it (a router
 * with `tls`), or when a ClientHello first arrives (`onDemand`): Traefik answers every
 * ClientHello, its HTTPS forwarder being always set with the default TLS options and store
 * (pkg/server/router/tcp/manager.go buildEntryPointHandler). ClientHellos that arrive meanwhile
 * are held, then handed to the fronts once a snapshot with certificates is in place.
 */
export class TlsGate {
  readonly #ref: SnapshotRef;
  readonly #logger: Logger;
  readonly #factory: () => Promise<TlsFrontFactory>;
  readonly #onSecure = new Map<string, (socket: TLSSocket) => void>();
  readonly #fronts = new Map<string, TlsHandshaker>();
  #parked: Parked[] = [];
  /** Loads TLS and rebuilds the snapshot with it; null: a ClientHello no router wants is closed. */
  #demand: (() => void) | null = null;
  #demanded = false;
  /** TLS could not be brought in (its rebuild refused): ClientHellos are refused, not held. */
  #refused = false;

  constructor(ref: SnapshotRef, logger: Logger, factory: () => Promise<TlsFrontFactory>) {
    this.#ref = ref;
    this.#logger = logger;
    this.#factory = factory;
  }

  /** `onSecure`: where the entry point's HTTPS connections go once their handshake is done. */
  addEntryPoint(name: string, onSecure: (socket: TLSSocket) => void): void {
    this.#onSecure.set(name, onSecure);
  }

  /**
   * `load`: what a ClientHello does when nothing has loaded TLS yet (loads it, builds the
   * snapshot again with it; called again by later ClientHellos until that snapshot is in place).
   */
  onDemand(load: () => void): void {
    this.#demand = load;
  }

  /** TLS is loaded: makes the fronts (once). */
  async load(): Promise<void> {
    if (this.#fronts.size > 0) return;
    const make = await this.#factory();
    for (const [name, onSecure] of this.#onSecure) this.#fronts.set(name, make(name, onSecure));
  }

  handshake(
    entryPoint: string,
    socket: Socket,
    buffered: Buffer,
    hello: HelloInfo,
    options?: string,
    onSecure?: (socket: TLSSocket) => void,
  ): void {
    const snap = this.#ref.current;
    const front = this.#fronts.get(entryPoint);
    if (front !== undefined && snap.tls !== null) {
      front.handshake(socket, buffered, hello, options, onSecure);
      return;
    }
    if ((!snap.tlsWanted && this.#demand === null) || this.#parked.length >= MAX_PARKED) {
      // Nothing here terminates TLS (or too many are waiting).
      socket.destroy();
      return;
    }
    if (!snap.tlsWanted && this.#demand !== null) {
      if (this.#fronts.size === 0 && !this.#demanded) {
        this.#demanded = true;
        this.#logger.info('loading TLS for a ClientHello (no router terminates TLS)', { entryPoint });
      }
      this.#demand();
    }
    if (this.#refused) {
      refuse(socket, buffered);
      return;
    }
    const p: Parked = { entryPoint, socket, buffered, hello, options, onSecure };
    this.#parked.push(p);
    const drop = (): void => {
      const i = this.#parked.indexOf(p);
      if (i !== -1) this.#parked.splice(i, 1);
    };
    socket.once('close', drop);
    socket.on('error', () => socket.destroy());
    setTimeout(() => {
      if (this.#parked.includes(p)) {
        drop();
        socket.destroy();
      }
    }, PARK_MS).unref();
  }

  /**
   * The rebuild that was to bring TLS in was refused, or TLS could not be loaded: no snapshot
   * will have it until the configuration changes. The held ClientHellos are refused at once (they
   * waited PARK_MS for nothing), and so are the next ones until `ready`. Traefik, whose TLS is
   * always there, would complete their handshake with its default certificate; the nearest a
   * proxy with no TLS state can answer is Go's alert for a server that cannot get a configuration
   * for a ClientHello (crypto/tls handshake_server.go: an error from GetCertificate or
   * GetConfigForClient is internal_error).
   */
  refused(): void {
    this.#refused = true;
    const parked = this.#parked;
    this.#parked = [];
    if (parked.length > 0)
      this.#logger.debug('TLS not loaded: held handshakes refused', { connections: parked.length });
    for (const p of parked) if (!p.socket.destroyed) refuse(p.socket, p.buffered);
  }

  /** A snapshot with TLS is in place: the held ClientHellos get their handshake. */
  ready(): void {
    this.#refused = false;
    if (this.#parked.length === 0 || this.#fronts.size === 0) return;
    const parked = this.#parked;
    this.#parked = [];
    this.#logger.debug('TLS ready: handshakes resume', { connections: parked.length });
    for (const p of parked) {
      if (p.socket.destroyed) continue;
      this.handshake(p.entryPoint, p.socket, p.buffered, p.hello, p.options, p.onSecure);
    }
  }

  /** Shutdown: held and half-done handshakes are dropped. */
  close(): void {
    for (const p of this.#parked) p.socket.destroy();
    this.#parked = [];
    for (const f of this.#fronts.values()) f.close();
  }
}

function refuse(socket: Socket, buffered: Buffer): void {
  refuseWithAlert(socket, ALERT_INTERNAL_ERROR, recordVersionOf(buffered));
}
