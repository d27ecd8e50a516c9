import type { ConnectionOptions } from 'node:tls';
import { issue } from '../../config/issues.ts';
import type { ConsulCatalogProviderConfig } from '../../config/static/providers.ts';
import { type Constraint, compileConstraints } from '../docker/constraints.ts';
import { type ProviderValidation, updateFromData } from '../dynamic-data.ts';
import { clientTlsOptions, EngineError, engineFetch } from '../engine-client.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { sleep } from '../sleep.ts';
import { type CatalogEntry, catalogConfig } from './catalog-config.ts';

/** How long one blocking query may wait (Consul's default). */
const WAIT = '5m';

/**
 * Traefik's Consul Catalog provider (pkg/provider/consulcatalog): the services of the catalog,
 * their instances and health, with tags as labels. Without `watch`, the catalog is read every
 * `refreshInterval`; with it, blocking queries on `/v1/catalog/services` and
 * `/v1/health/state/any` (`index` = the last `X-Consul-Index`) wake a read as soon as a service
 * or a check changes. An unchanged configuration is dropped by the supervisor. Any failure
 * fails the provider (restarted with backoff, its last good configuration serving).
 */
export class ConsulCatalogProvider implements Provider {
  readonly name = 'consulcatalog';
  readonly #cfg: ConsulCatalogProviderConfig;
  readonly #validation: ProviderValidation;
  readonly #constraint: Constraint | { error: string };
  readonly #tls: ConnectionOptions | undefined;
  readonly #base: string;
  readonly #headers: Record<string, string>;

  constructor(cfg: ConsulCatalogProviderConfig, validation: ProviderValidation) {
    this.#cfg = cfg;
    this.#validation = validation;
    this.#constraint = compileConstraints(cfg.constraints, 'tags');
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
  async #read(signal: AbortSignal): Promise<{ update: ProviderUpdate; index: number }> {
    const { json, index } = await this.#get('/v1/catalog/services', {}, signal);
    const entries: CatalogEntry[] = [];
    for (const name of Object.keys(json as Record<string, unknown>).sort()) {
      if (name === 'consul') continue;
      const r = await this.#get(`/v1/health/service/${encodeURIComponent(name)}`, {}, signal);
      entries.push(...(r.json as CatalogEntry[]));
    }
    const built = catalogConfig(entries, this.#cfg, this.#constraint as Constraint);
    const update = updateFromData(built.data, this.name, built.sourceOf, this.#validation, built.issues, {
      quietCase: true,
    });
    return { update, index };
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
    try {
      while (!signal.aborted) {
        if (!this.#cfg.watch) {
          yield (await this.#read(signal)).update;
          if (!(await sleep(this.#cfg.refreshInterval, signal))) return;
          continue;
        }
        // The health index is taken before the read and the catalog's with it, so that a change
        // made while reading wakes the blocking queries at once.
        const health = (await this.#get('/v1/health/state/any', {}, signal)).index;
        const { update, index } = await this.#read(signal);
        yield update;
        if (signal.aborted) return;
        const ctl = new AbortController();
        const stop = (): void => ctl.abort();
        signal.addEventListener('abort', stop, { once: true });
        try {
          const both = [
            this.#changed('/v1/catalog/services', index, ctl.signal),
            this.#changed('/v1/health/state/any', health, ctl.signal),
          ];
          // The other query is aborted below: its rejection is expected.
          for (const p of both) p.catch(() => {});
          await Promise.race(both);
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
