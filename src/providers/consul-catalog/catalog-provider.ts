import type { ConnectionOptions } from 'node:tls';
import { issue } from '../../config/issues.ts';
import type { ConsulCatalogProviderConfig } from '../../config/static/providers.ts';
import { type Constraint, compileConstraints, constraintIssues } from '../docker/constraints.ts';
import { type ProviderValidation, updateFromData } from '../dynamic-data.ts';
import { clientTlsOptions, EngineError, engineFetch } from '../engine-client.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { sleep } from '../sleep.ts';
import { type CatalogEntry, type CatalogService, catalogConfig, isConnect } from './catalog-config.ts';
import {
  type ConnectCerts,
  connectCerts,
  type LeafAnswer,
  leafFrom,
  type RootsAnswer,
  rootsFrom,
} from './connect-certs.ts';

/** How long one blocking query may wait (Consul's default). */
const WAIT = '5m';

const ROOTS = '/v1/agent/connect/ca/roots';

/**
 * The Connect roots and leaf as last read, with the index of each: blocking queries on both
 * (Traefik's `connect_roots` and `connect_leaf` watch plans) wake a new configuration when either
 * changes, whether or not the catalog is watched.
 */
class ConnectState {
  roots: RootsAnswer | undefined;
  leaf: LeafAnswer | undefined;
  rootsIndex = 0;
  leafIndex = 0;
  get certs(): ConnectCerts | undefined {
    return connectCerts(this.roots, this.leaf);
  }
}

/**
 * Traefik's Consul Catalog provider (pkg/provider/consulcatalog): the services of the catalog,
 * their instances and health, with tags as labels. Without `watch`, the catalog is read every
 * `refreshInterval`; with it, blocking queries on `/v1/catalog/services` and
 * `/v1/health/state/any` (`index` = the last `X-Consul-Index`) wake a read as soon as a service
 * or a check changes. An unchanged configuration is dropped by the supervisor. Any failure
 * fails the provider (restarted with backoff, its last good configuration serving).
 *
 * With `connectAware`, the Connect CA roots and the leaf certificate of `serviceName` are read
 * before the first configuration (Traefik waits for them too), then followed by blocking queries:
 * a rotated leaf or new roots rebuild the configuration, which changes only the Connect
 * services' serversTransports (other routes keep their pools and connections).
 */
export class ConsulCatalogProvider implements Provider {
  readonly name = 'consulcatalog';
  readonly #cfg: ConsulCatalogProviderConfig;
  readonly #validation: ProviderValidation;
  readonly #constraint: Constraint | { error: string };
  /** A TagRegex that does not compile: a warning on every update (it matches nothing, as in Traefik). */
  readonly #constraintWarnings: string[] = [];
  readonly #tls: ConnectionOptions | undefined;
  readonly #base: string;
  readonly #headers: Record<string, string>;

  constructor(cfg: ConsulCatalogProviderConfig, validation: ProviderValidation) {
    this.#cfg = cfg;
    this.#validation = validation;
    this.#constraint = compileConstraints(cfg.constraints, 'tags', this.#constraintWarnings);
    this.#tls = clientTlsOptions(cfg.endpoint.tls);
    const a = cfg.endpoint.address;
    this.#base = /^https?:\/\//i.test(a) ? a.replace(/\/+$/, '') : `${cfg.endpoint.scheme}://${a}`;
    this.#headers = cfg.endpoint.token === undefined ? {} : { 'x-consul-token': cfg.endpoint.token };
  }

  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate> {
    return this.#run(signal);
  }

  async #get(
    path: string,
    query: Record<string, string>,
    signal: AbortSignal,
  ): Promise<{ index: number; json: unknown }> {
    const q = new URLSearchParams(query);
    if (this.#cfg.endpoint.datacenter !== undefined) q.set('dc', this.#cfg.endpoint.datacenter);
    const text = q.toString();
    const { res, body } = await engineFetch({
      url: `${this.#base}${path}${text === '' ? '' : `?${text}`}`,
      headers: this.#headers,
      signal,
      ...(this.#tls !== undefined ? { tls: this.#tls } : {}),
    });
    const index = Number(res.headers['x-consul-index'] ?? 0);
    return {
      index: Number.isInteger(index) && index >= 0 ? index : 0,
      json: JSON.parse(body.toString('utf8')),
    };
  }

  /** The whole catalog as an update, and the catalog's index it was read at. */
  async #read(
    signal: AbortSignal,
    certs: ConnectCerts | undefined,
  ): Promise<{ update: ProviderUpdate; index: number }> {
    const { json, index } = await this.#get('/v1/catalog/services', {}, signal);
    const catalog = json as Record<string, string[] | null>;
    const services: CatalogService[] = [];
    for (const name of Object.keys(catalog).sort()) {
      if (name === 'consul') continue;
      // Traefik (getConsulServicesData): the service's tags say whether it is a Connect one;
      // then its sidecars or Connect-native instances are read, not the service's own.
      const connect = isConnect(catalog[name], this.#cfg) === true;
      if (connect && !this.#cfg.connectAware) continue;
      const kind = connect ? 'connect' : 'service';
      const r = await this.#get(`/v1/health/${kind}/${encodeURIComponent(name)}`, {}, signal);
      services.push({ name, entries: r.json as CatalogEntry[] });
    }
    const built = catalogConfig(services, this.#cfg, this.#constraint as Constraint, certs);
    const issues = [...constraintIssues(this.#constraintWarnings, this.name), ...built.issues];
    const update = updateFromData(built.data, this.name, built.sourceOf, this.#validation, issues, {
      quietCase: true,
    });
    return { update, index };
  }

  /** The Connect roots and leaf, read now (no blocking). */
  async #readCerts(state: ConnectState, signal: AbortSignal): Promise<void> {
    const [roots, leaf] = await Promise.all([
      this.#get(ROOTS, {}, signal),
      this.#get(this.#leafPath(), {}, signal),
    ]);
    state.roots = rootsFrom(roots.json);
    state.rootsIndex = roots.index;
    state.leaf = leafFrom(leaf.json);
    state.leafIndex = leaf.index;
  }

  #leafPath(): string {
    return `/v1/agent/connect/ca/leaf/${encodeURIComponent(this.#cfg.serviceName)}`;
  }

  /**
   * Blocking queries on the roots and the leaf until what either says changes (an index that
   * moved with the same certificates, as after a mere re-sign of nothing, wakes nobody).
   */
  async #certsChanged(state: ConnectState, signal: AbortSignal): Promise<void> {
    const watchOne = async (which: 'roots' | 'leaf'): Promise<void> => {
      for (;;) {
        const from = which === 'roots' ? state.rootsIndex : state.leafIndex;
        const path = which === 'roots' ? ROOTS : this.#leafPath();
        const r = await this.#get(path, { index: String(from), wait: WAIT }, signal);
        if (r.index === from) continue;
        if (which === 'roots') {
          const next = rootsFrom(r.json);
          state.rootsIndex = r.index;
          if (JSON.stringify(next) === JSON.stringify(state.roots)) continue;
          state.roots = next;
        } else {
          const next = leafFrom(r.json);
          state.leafIndex = r.index;
          if (next.cert === state.leaf?.cert && next.key === state.leaf.key) continue;
          state.leaf = next;
        }
        return;
      }
    };
    await Promise.race([watchOne('roots'), watchOne('leaf')]);
  }

  /** Blocking queries on `path` until its index moves away from `from`. */
  async #changed(path: string, from: number, signal: AbortSignal): Promise<void> {
    for (;;) {
      const r = await this.#get(path, { index: String(from), wait: WAIT }, signal);
      if (r.index !== from) return;
    }
  }

  async *#run(signal: AbortSignal): AsyncGenerator<ProviderUpdate, void, undefined> {
    if (typeof this.#constraint !== 'function') {
      yield {
        config: undefined,
        issues: [
          issue('error', `invalid constraints: ${this.#constraint.error}`, [
            'providers',
            'consulCatalog',
            'constraints',
          ]),
        ],
      };
      return;
    }
    const connect = this.#cfg.connectAware ? new ConnectState() : undefined;
    try {
      if (connect !== undefined) await this.#readCerts(connect, signal);
      while (!signal.aborted) {
        let health = 0;
        // The health index is taken before the read and the catalog's with it, so that a change
        // made while reading wakes the blocking queries at once.
        if (this.#cfg.watch) health = (await this.#get('/v1/health/state/any', {}, signal)).index;
        const { update, index } = await this.#read(signal, connect?.certs);
        yield update;
        if (signal.aborted) return;
        const ctl = new AbortController();
        const stop = (): void => ctl.abort();
        signal.addEventListener('abort', stop, { once: true });
        try {
          const waits: Promise<unknown>[] = this.#cfg.watch
            ? [
                this.#changed('/v1/catalog/services', index, ctl.signal),
                this.#changed('/v1/health/state/any', health, ctl.signal),
              ]
            : [sleep(this.#cfg.refreshInterval, ctl.signal)];
          if (connect !== undefined) waits.push(this.#certsChanged(connect, ctl.signal));
          // The other queries are aborted below: their rejections are expected.
          for (const p of waits) p.catch(() => {});
          await Promise.race(waits);
        } finally {
          signal.removeEventListener('abort', stop);
          ctl.abort();
        }
      }
    } catch (e) {
      if (signal.aborted) return;
      if (e instanceof EngineError) throw e;
      throw new EngineError(`consul catalog ${this.#base}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
