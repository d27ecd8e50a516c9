/**
 * A data-plane worker's side of `workers: N` (src/workers/control-plane.ts): it receives each
 * configuration from the control plane, builds its own snapshot from it (its own pools, its own
 * middleware state), holds it until the control plane says every worker has built it, then swaps.
 * It answers metric scrapes with its own exposition and drains when told to stop.
 */
import type { DynamicConfig } from '../config/dynamic/schema.ts';
import type { Logger } from '../core/logger.ts';
import { type BuildOptions, type BuildResult, buildSnapshot } from '../runtime/build-snapshot.ts';
import type { ResourceCache } from '../runtime/resource-cache.ts';
import type { RuntimeSnapshot, SnapshotRef } from '../runtime/types.ts';
import type { ServerPool } from '../upstream/server-pool.ts';
import type { AcmeMirror } from './acme-mirror.ts';
import { HealthMirror } from './health-hub.ts';
import type { OcspMirror } from './ocsp-mirror.ts';
import type { BridgeAddress, FromWorker, ToWorker } from './protocol.ts';
import { splitLocalLimits } from './split-limits.ts';

export interface WorkerInit {
  readonly ports: Readonly<Record<string, number>>;
  readonly bridge: BridgeAddress | null;
  /** Every worker's TLS session-ticket keys derive from it. */
  readonly ticketSecret: Buffer;
}

export interface ServeOptions {
  readonly ref: SnapshotRef;
  readonly cache: ResourceCache;
  readonly logger: Logger;
  /** What every build gets; TLS joins it when a configuration first needs it (`loadTls`). */
  readonly buildOptions: () => BuildOptions;
  /** Loads TLS into the build options (node:tls and the certificate code, on first need). */
  readonly loadTls: () => Promise<void>;
  /** After each swap: what the single process does after an applied configuration. */
  readonly onCommit: (snap: RuntimeSnapshot) => void;
  /** TLS demanded by a ClientHello could not be brought in (load or build failed): TlsGate.refused. */
  readonly onTlsRefused?: () => void;
  readonly metrics: { render(): string } | null;
  /** The ACME certificates and challenges the control plane sends; null without resolvers. */
  readonly acme: AcmeMirror | null;
  /** The OCSP responses the control plane fetches; null without static `ocsp`. */
  readonly ocsp: OcspMirror | null;
  readonly reopenLogs: () => void;
  /** Drains and closes everything; resolves when the worker may exit. */
  readonly shutdown: (signal: string) => Promise<void>;
}

export class DataPlane {
  /** 1..N: stable across replacements (the control plane forks a replacement into the same slot). */
  readonly slot: number;
  /** How many workers share the limits (`inFlightReq`, `rateLimit`). */
  readonly workers: number;
  readonly health = new HealthMirror((key, index, ms) => this.#send({ t: 'ejected', key, index, ms }));
  readonly #init: Promise<WorkerInit>;
  #serve: ServeOptions | null = null;
  /** Built, not yet swapped: generation → build. */
  readonly #held = new Map<number, BuildResult & { readonly source: DynamicConfig }>();
  /** The configuration the serving snapshot was built from (as its build got it). */
  #serving: DynamicConfig | null = null;
  #generation = 0;
  #stopping = false;
  /** `wantTls` was called (TLS loads, or has loaded, for a ClientHello). */
  #tlsDemanded = false;
  /** Messages are handled one at a time: a build that loads TLS first must not be overtaken. */
  #queue: Promise<void> = Promise.resolve();

  constructor(slot: number, workers: number) {
    this.slot = slot;
    this.workers = workers;
    let resolveInit: (i: WorkerInit) => void = () => {};
    this.#init = new Promise((r) => {
      resolveInit = r;
    });
    process.on('message', (m: ToWorker) => {
      if (m.t === 'init') {
        return resolveInit({
          ports: m.ports,
          bridge: m.bridge,
          ticketSecret: Buffer.from(m.ticketSecret, 'base64'),
        });
      }
      this.#queue = this.#queue.then(
        () => this.#handle(m),
        () => this.#handle(m),
      );
    });
    // The control plane is gone (killed): no one will send configurations or stop us.
    process.on('disconnect', () => void this.stop('control plane gone'));
    this.#send({ t: 'hello' });
  }

  /** The ports to bind and the admin bridge, from the control plane. */
  init(): Promise<WorkerInit> {
    return this.#init;
  }

  listening(ports: Readonly<Record<string, number>>): void {
    this.#send({ t: 'listening', ports });
  }

  /** Serves configurations from now on. */
  serve(opts: ServeOptions): void {
    this.#serve = opts;
  }

  async #handle(m: ToWorker): Promise<void> {
    const o = this.#serve;
    switch (m.t) {
      case 'init':
        return;
      case 'prepare':
        if (o === null) return;
        this.health.load(m.health);
        if (m.acme !== null) o.acme?.load(m.acme);
        if (m.ocsp !== null) o.ocsp?.load(m.ocsp);
        return this.#prepare(o, m.generation, m.config);
      case 'eject':
        this.health.applyEjection(m.key, m.index, m.ms);
        return;
      case 'ocsp':
        o?.ocsp?.update(m.staple);
        return;
      case 'challenge':
        // Before serve() there is nothing to answer with: the first prepare brings the state.
        o?.acme?.challenge(m.change);
        this.#send({ t: 'challenged', id: m.id });
        return;
      case 'commit':
        if (o !== null) this.#commit(o, m.generation);
        return;
      case 'health':
        this.health.update(m.key, m.index, m.healthy);
        return;
      case 'metrics':
        this.#send({ t: 'metrics', id: m.id, text: o?.metrics?.render() ?? '' });
        return;
      case 'reopen':
        o?.reopenLogs();
        return;
      case 'shutdown':
        return this.stop(m.signal);
    }
  }

  async #prepare(o: ServeOptions, generation: number, received: DynamicConfig): Promise<void> {
    let error: string | null = null;
    try {
      const config = splitLocalLimits(received, this.workers);
      let built = buildSnapshot(config, generation, o.cache, o.logger, o.buildOptions());
      if (built.snapshot.tlsWanted && o.buildOptions().tls === undefined) {
        // The first configuration whose routers terminate TLS in a worker started without it.
        await o.loadTls();
        built = buildSnapshot(config, generation, o.cache, o.logger, o.buildOptions());
      }
      const errors = built.issues.filter((i) => i.severity === 'error');
      if (errors.length > 0) error = errors.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      else this.#held.set(generation, { ...built, source: config });
    } catch (e) {
      error = e instanceof Error ? (e.stack ?? e.message) : String(e);
    }
    if (error !== null) o.logger.error('worker cannot build the configuration', { generation, error });
    this.#send({ t: 'prepared', generation, error });
  }

  /**
   * A ClientHello reached a worker that has not loaded TLS (no configuration terminates it):
   * TLS is loaded and the serving generation built again with it, in the message queue (never
   * beside a prepare or a commit). Its TLS comes from the same configuration as the other
   * workers'. Once: later calls find TLS in the build options.
   */
  wantTls(): void {
    if (this.#tlsDemanded) return;
    this.#tlsDemanded = true;
    this.#queue = this.#queue.then(async () => {
      const o = this.#serve;
      if (o === null || this.#stopping || o.buildOptions().tls !== undefined) return;
      try {
        await o.loadTls();
        // Nothing served yet: the first prepare builds with TLS.
        const source = this.#serving;
        if (source === null) return;
        const built = buildSnapshot(source, this.#generation, o.cache, o.logger, o.buildOptions());
        const errors = built.issues.filter((i) => i.severity === 'error');
        if (errors.length > 0) {
          const error = errors.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
          o.logger.error('worker cannot build the configuration with TLS', {
            generation: this.#generation,
            error,
          });
          o.onTlsRefused?.();
          return;
        }
        this.#swap(o, built);
      } catch (e) {
        this.#tlsDemanded = false;
        o.logger.error('cannot load TLS', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
        o.onTlsRefused?.();
      }
    });
  }

  #commit(o: ServeOptions, generation: number): void {
    const built = this.#held.get(generation);
    if (built === undefined || generation <= this.#generation) return;
    // Older builds are dropped; later generations' survive the swap's clean-up (#swap).
    for (const g of this.#held.keys()) if (g < generation) this.#held.delete(g);
    this.#held.delete(generation);
    this.#generation = generation;
    this.#serving = built.source;
    this.#swap(o, built);
    this.#send({ t: 'committed', generation });
  }

  /** Puts `built` in place; what held builds of later generations use survives the clean-up. */
  #swap(o: ServeOptions, built: BuildResult): void {
    const pools = new Set<ServerPool>(built.pools);
    const keys = new Set<string>(built.sharedKeys);
    for (const b of this.#held.values()) {
      for (const p of b.pools) pools.add(p);
      for (const k of b.sharedKeys) keys.add(k);
    }
    o.ref.swap(built.snapshot);
    o.cache.retain(pools, keys);
    o.onCommit(o.ref.current);
  }

  /** Drains (the shutdown given to `serve`) and exits: on the control plane's word or a signal. */
  async stop(signal: string): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const o = this.#serve;
    if (o !== null) await o.shutdown(signal);
    process.exit(0);
  }

  #send(m: FromWorker | { t: 'hello' }): void {
    if (process.send === undefined || process.connected !== true) return;
    try {
      process.send(m);
    } catch {
      // The channel closed under us: 'disconnect' follows.
    }
  }
}
