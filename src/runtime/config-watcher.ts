import { deepEqual } from '../config/dynamic/merge.ts';
import type { DynamicConfig } from '../config/dynamic/schema.ts';
import { emptyDynamicConfig } from '../config/dynamic/schema.ts';
import { type ConfigIssue, formatIssue } from '../config/issues.ts';
import type { Logger } from '../core/logger.ts';
import type { Provider } from '../providers/provider.ts';
import { type BuildOptions, buildSnapshot } from './build-snapshot.ts';
import type { ResourceCache } from './resource-cache.ts';
import type { SnapshotRef } from './types.ts';

export interface ApplyOutcome {
  readonly applied: boolean;
  readonly generation: number;
  readonly issues: readonly ConfigIssue[];
  /** The provider whose update this was ('' for a rebuild of the whole). */
  readonly provider?: string;
}

/** Reload counters, for metrics and the admin API. */
export interface ReloadStatus {
  readonly generation: number;
  readonly applied: number;
  readonly rejected: number;
  /** Epoch ms of the last applied configuration (0 = none yet). */
  readonly lastAppliedAt: number;
  readonly lastRejectedAt: number;
  /** The issues of the last rejected update, with its provider. */
  readonly lastRejection: { readonly provider: string; readonly issues: readonly ConfigIssue[] } | null;
}

/**
 * Collects the latest configuration of every provider, merges them with names qualified
 * `name@provider`, builds a snapshot and swaps it in. A provider update with errors is rejected
 * whole: that provider's last good configuration stays in force, and the errors are logged with
 * their file positions.
 */
export class ConfigWatcher {
  readonly #providers: readonly Provider[];
  readonly #ref: SnapshotRef;
  readonly #cache: ResourceCache;
  readonly #logger: Logger;
  readonly #lastGood = new Map<string, DynamicConfig>();
  #generation = 0;
  readonly #listeners: ((o: ApplyOutcome) => void)[] = [];
  #applied = 0;
  #rejected = 0;
  #lastAppliedAt = 0;
  #lastRejectedAt = 0;
  #lastRejection: ReloadStatus['lastRejection'] = null;
  /** The warnings of the last applied build, formatted: logged when they first appear. */
  #buildWarnings = new Set<string>();

  readonly #buildOptions: BuildOptions;

  constructor(
    providers: readonly Provider[],
    ref: SnapshotRef,
    cache: ResourceCache,
    logger: Logger,
    buildOptions: BuildOptions = {},
  ) {
    this.#buildOptions = buildOptions;
    this.#providers = providers;
    this.#ref = ref;
    this.#cache = cache;
    this.#logger = logger;
  }

  get generation(): number {
    return this.#generation;
  }

  get status(): ReloadStatus {
    return {
      generation: this.#generation,
      applied: this.#applied,
      rejected: this.#rejected,
      lastAppliedAt: this.#lastAppliedAt,
      lastRejectedAt: this.#lastRejectedAt,
      lastRejection: this.#lastRejection,
    };
  }

  /** The configuration last accepted from `provider` (names not yet qualified). */
  lastGood(provider: string): DynamicConfig | undefined {
    return this.#lastGood.get(provider);
  }

  /** Every provider's last good configuration merged as if `provider` had sent `config`. */
  mergedWith(provider: string, config: DynamicConfig, issues: ConfigIssue[] = []): DynamicConfig {
    const m = new Map(this.#lastGood);
    m.set(provider, config);
    return mergeProviders(m, issues);
  }

  /** Called after each update was applied or rejected (tests and the admin API listen here). */
  onOutcome(fn: (o: ApplyOutcome) => void): void {
    this.#listeners.push(fn);
  }

  /** Runs every provider until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all(this.#providers.map((p) => this.#follow(p, signal)));
  }

  async #follow(provider: Provider, signal: AbortSignal): Promise<void> {
    try {
      for await (const update of provider.watch(signal)) {
        if (signal.aborted) return;
        this.#handle(provider.name, update.config, update.issues);
      }
    } catch (e) {
      if (!signal.aborted) this.#logger.error('provider stopped', { provider: provider.name, error: e });
    }
  }

  #handle(provider: string, config: DynamicConfig | undefined, issues: readonly ConfigIssue[]): void {
    const errors = issues.filter((i) => i.severity === 'error');
    for (const i of issues) {
      if (i.severity === 'warning')
        this.#logger.warn('configuration warning', { provider, issue: formatIssue(i) });
    }
    if (config === undefined || errors.length > 0) {
      this.#reject(provider, errors.length > 0 ? errors : issues);
      return;
    }
    const previous = this.#lastGood.get(provider);
    this.#lastGood.set(provider, config);
    let outcome: ApplyOutcome;
    try {
      outcome = this.apply(provider);
    } catch (e) {
      // A bug in building must not stop the provider loop: keep serving the last snapshot.
      this.#logger.error('configuration build failed', {
        provider,
        error: e instanceof Error ? e.stack : String(e),
      });
      outcome = { applied: false, generation: this.#generation, issues: [], provider };
      this.#noteRejection(provider, []);
      for (const fn of this.#listeners) fn(outcome);
    }
    if (!outcome.applied) {
      // The provider's config is fine on its own but breaks the merged whole: keep the old one.
      if (previous === undefined) this.#lastGood.delete(provider);
      else this.#lastGood.set(provider, previous);
    }
  }

  #reject(provider: string, issues: readonly ConfigIssue[]): void {
    for (const i of issues) {
      this.#logger.error('configuration rejected', { provider, issue: formatIssue(i) });
    }
    this.#noteRejection(provider, issues);
    const outcome: ApplyOutcome = { applied: false, generation: this.#generation, issues, provider };
    for (const fn of this.#listeners) fn(outcome);
  }

  #noteRejection(provider: string, issues: readonly ConfigIssue[]): void {
    this.#rejected++;
    this.#lastRejectedAt = Date.now();
    this.#lastRejection = { provider, issues };
  }

  /** Builds and swaps a snapshot from the last good configuration of every provider. */
  apply(provider = ''): ApplyOutcome {
    const mergeIssues: ConfigIssue[] = [];
    const merged = mergeProviders(this.#lastGood, mergeIssues);
    const generation = this.#generation + 1;
    const result = buildSnapshot(merged, generation, this.#cache, this.#logger, this.#buildOptions);
    const errors = [...mergeIssues, ...result.issues].filter((i) => i.severity === 'error');
    if (errors.length > 0) {
      for (const i of errors) this.#logger.error('configuration rejected', { issue: formatIssue(i) });
      this.#noteRejection(provider, errors);
      const outcome: ApplyOutcome = {
        applied: false,
        generation: this.#generation,
        issues: errors,
        provider,
      };
      for (const fn of this.#listeners) fn(outcome);
      return outcome;
    }
    this.#generation = generation;
    this.#applied++;
    this.#lastAppliedAt = Date.now();
    this.#ref.swap(result.snapshot);
    // In-flight requests of the old generation keep their pools until their response ends:
    // a closed pool destroys sockets as they are released, never under a running exchange.
    this.#cache.retain(result.pools, result.sharedKeys);
    this.#logger.info('configuration applied', { generation, ...result.counts });
    // Warnings found while building (a certificate expired or without its intermediates, routers
    // disagreeing about TLS options) are logged once, not again at every reload that keeps them.
    const warnings = new Set(result.issues.filter((i) => i.severity === 'warning').map(formatIssue));
    for (const w of warnings) {
      if (!this.#buildWarnings.has(w)) this.#logger.warn('configuration warning', { issue: w });
    }
    this.#buildWarnings = warnings;
    const outcome: ApplyOutcome = { applied: true, generation, issues: result.issues, provider };
    for (const fn of this.#listeners) fn(outcome);
    return outcome;
  }
}

/**
 * Qualifies every object name with its provider and merges all providers into one config.
 * TLS options and stores are global names (`default`): two providers giving one of them
 * different contents is an error pushed to `issues` (Traefik logs it and drops the object; we
 * refuse the update and keep serving the last good configuration).
 */
export function mergeProviders(
  byProvider: ReadonlyMap<string, DynamicConfig>,
  issues: ConfigIssue[] = [],
): DynamicConfig {
  const out = emptyDynamicConfig();
  const owners = new Map<string, string>();
  const conflict = (part: 'options' | 'stores', name: string, provider: string): void => {
    issues.push({
      severity: 'error',
      message: `TLS ${part === 'options' ? 'options' : 'store'} \`${name}\` is defined by providers ${owners.get(`${part}/${name}`)} and ${provider} with different contents: define it in one provider`,
      path: ['tls', part, name],
    });
  };
  for (const [provider, cfg] of byProvider) {
    const sections = ['routers', 'services', 'middlewares', 'serversTransports'] as const;
    for (const section of sections) {
      const src = cfg.http[section] as Record<string, unknown>;
      const dst = out.http[section] as Record<string, unknown>;
      for (const [name, value] of Object.entries(src)) {
        dst[name.includes('@') ? name : `${name}@${provider}`] = value;
      }
    }
    // TLS: certificates from every provider; options qualified like other objects except
    // `default`, which is the one global set (Traefik's rule); stores merged by name.
    const tls = cfg.tls;
    out.tls.certificates.push(...tls.certificates);
    for (const [name, opts] of Object.entries(tls.options)) {
      const key = name === 'default' || name.includes('@') ? name : `${name}@${provider}`;
      if (!Object.hasOwn(out.tls.options, key)) {
        out.tls.options[key] = opts;
        owners.set(`options/${key}`, provider);
      } else if (!deepEqual(out.tls.options[key], opts)) conflict('options', key, provider);
    }
    for (const [name, store] of Object.entries(tls.stores)) {
      if (!Object.hasOwn(out.tls.stores, name)) {
        out.tls.stores[name] = store;
        owners.set(`stores/${name}`, provider);
      } else if (!deepEqual(out.tls.stores[name], store)) conflict('stores', name, provider);
    }
  }
  return out;
}
