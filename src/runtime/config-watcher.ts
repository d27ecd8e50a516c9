import { type DisabledObject, objectAt, objectKey } from '../config/dynamic/disabled.ts';
import type { DynamicConfig } from '../config/dynamic/schema.ts';
import { type ConfigIssue, formatIssue, issueLogLine } from '../config/issues.ts';
import type { Locator } from '../config/yaml-source.ts';
import type { Logger } from '../core/logger.ts';
import { collectYoung } from '../core/settle-heap.ts';
import type { Provider, ProviderUpdate } from '../providers/provider.ts';
import { buildPerObject } from './build-per-object.ts';
import type { BuildOptions } from './build-snapshot.ts';
import { mergeProviders } from './merge-providers.ts';
import { withoutUnreachedHealth } from './reached.ts';
import type { ResourceCache } from './resource-cache.ts';
import type { SnapshotRef } from './types.ts';

export interface ApplyOutcome {
  readonly applied: boolean;
  readonly generation: number;
  readonly issues: readonly ConfigIssue[];
  /** The provider whose update this was ('' for a rebuild of the whole). */
  readonly provider?: string;
  /**
   * Applied: the merged configuration the snapshot was built from, disabled objects left out and
   * before the static entry-point model (what data-plane workers build again, src/workers).
   */
  readonly built?: DynamicConfig;
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

/** What the watcher keeps of a provider's last accepted update. */
interface ProviderState {
  readonly config: DynamicConfig;
  readonly issues: readonly ConfigIssue[];
  readonly disabled: readonly DisabledObject[];
  readonly locate: Locator | undefined;
}

export interface WatcherOptions {
  /**
   * At start, how long to wait for every provider's first update before applying what has
   * arrived: one "configuration applied" for the whole start, not one per provider (Traefik
   * throttles provider updates the same way).
   */
  readonly firstApplyWaitMs?: number;
  /**
   * The composition root loads TLS when a snapshot first wants it (`tlsWanted`, built without
   * TLS: a proxy started without it) and then applies again: such a snapshot is logged at debug
   * only, so that the configuration's "configuration applied" is the one that has its TLS.
   */
  readonly tlsOnDemand?: boolean;
}

/**
 * Collects the latest configuration of every provider, merges them with names qualified
 * `name@provider`, builds a snapshot and swaps it in, object by object as Traefik does: a router,
 * service, middleware or servers transport with an error is left out (disabled, and reported in
 * the log, the admin API and the metrics), so is everything that needs it, and the rest applies.
 * A provider update that cannot be applied object by object (a provider rejected it whole: an
 * unreadable file or folder; a TLS certificate, options set or store with an error; two
 * providers defining one TLS options set differently) is rejected whole: that provider's last
 * good configuration stays in force.
 */
export class ConfigWatcher {
  readonly #providers: readonly Provider[];
  readonly #ref: SnapshotRef;
  readonly #cache: ResourceCache;
  readonly #logger: Logger;
  readonly #lastGood = new Map<string, ProviderState>();
  #generation = 0;
  readonly #listeners: ((o: ApplyOutcome) => void)[] = [];
  #applied = 0;
  #rejected = 0;
  #lastAppliedAt = 0;
  #lastRejectedAt = 0;
  #lastRejection: ReloadStatus['lastRejection'] = null;
  /** Build errors already logged, so that a rebuild (a new certificate) does not repeat them. */
  #loggedBuildErrors = new Set<string>();
  /** The warnings of the last applied build, formatted: logged when they first appear. */
  #buildWarnings = new Set<string>();
  /** Providers whose first update has not arrived yet; null once the first apply happened. */
  #waitingFor: Set<string> | null;
  readonly #firstApplyWaitMs: number;
  readonly #tlsOnDemand: boolean;

  readonly #buildOptions: BuildOptions;

  constructor(
    providers: readonly Provider[],
    ref: SnapshotRef,
    cache: ResourceCache,
    logger: Logger,
    buildOptions: BuildOptions = {},
    options: WatcherOptions = {},
  ) {
    this.#buildOptions = buildOptions;
    this.#providers = providers;
    this.#ref = ref;
    this.#cache = cache;
    this.#logger = logger;
    this.#waitingFor = new Set();
    this.#firstApplyWaitMs = options.firstApplyWaitMs ?? 2000;
    this.#tlsOnDemand = options.tlsOnDemand === true;
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
    return this.#lastGood.get(provider)?.config;
  }

  /** Every provider's last good configuration merged as if `provider` had sent `config`. */
  mergedWith(provider: string, config: DynamicConfig, issues: ConfigIssue[] = []): DynamicConfig {
    const m = this.#configs();
    m.set(provider, config);
    return mergeProviders(m, issues);
  }

  /** Called after each update was applied or rejected (tests and the admin API listen here). */
  onOutcome(fn: (o: ApplyOutcome) => void): void {
    this.#listeners.push(fn);
  }

  /** Runs every provider until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    // Read here, not in the constructor: the composition root adds providers that need the
    // watcher (the API's merged check) after making it.
    this.#waitingFor = new Set(this.#providers.map((p) => p.name));
    // Without any provider, the proxy's own routes (ping, API, metrics: the build's internal
    // services) are applied at once, as Traefik's internal provider always sends them.
    if (this.#providers.length === 0) this.#startNow();
    const timer = setTimeout(() => this.#startNow(), this.#firstApplyWaitMs);
    timer.unref();
    try {
      await Promise.all(this.#providers.map((p) => this.#follow(p, signal)));
    } finally {
      clearTimeout(timer);
    }
  }

  async #follow(provider: Provider, signal: AbortSignal): Promise<void> {
    try {
      for await (const update of provider.watch(signal)) {
        if (signal.aborted) return;
        this.#handle(provider.name, update);
      }
    } catch (e) {
      if (!signal.aborted) this.#logger.error('provider stopped', { provider: provider.name, error: e });
    }
  }

  /** The first apply once every provider has been heard from (or the wait is over). */
  #startNow(): void {
    if (this.#waitingFor === null || (this.#lastGood.size === 0 && this.#providers.length > 0)) return;
    this.#waitingFor = null;
    this.#apply('');
  }

  #handle(provider: string, update: ProviderUpdate): void {
    const { config, issues } = update;
    const errors = issues.filter((i) => i.severity === 'error');
    for (const i of issues) {
      if (i.severity !== 'warning') continue;
      // ERROR for what Traefik logs as an error (ConfigIssue.logAs).
      const { level, text } = issueLogLine(i);
      this.#logger[level](level === 'warn' ? 'configuration warning' : 'configuration error', {
        provider,
        issue: text,
      });
    }
    const waiting = this.#waitingFor;
    if (waiting !== null) waiting.delete(provider);
    if (config === undefined) {
      this.#reject(provider, errors.length > 0 ? errors : issues);
      if (waiting !== null && waiting.size === 0) this.#startNow();
      return;
    }
    // Applied anyway: each error disabled its object.
    for (const i of errors) this.#logger.error('configuration error', { provider, issue: formatIssue(i) });
    const previous = this.#lastGood.get(provider);
    this.#lastGood.set(provider, {
      config,
      issues,
      disabled: update.disabled ?? [],
      locate: update.locate,
    });
    if (waiting !== null) {
      if (waiting.size === 0) this.#startNow();
      return;
    }
    const outcome = this.#apply(provider);
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

  #configs(): Map<string, DynamicConfig> {
    return new Map([...this.#lastGood].map(([p, s]) => [p, s.config]));
  }

  /** Builds and swaps a snapshot from the last good configuration of every provider. */
  apply(provider = ''): ApplyOutcome {
    // Before the first apply, a rebuild request (a certificate arrived) has nothing to rebuild.
    if (this.#waitingFor !== null) return { applied: false, generation: this.#generation, issues: [] };
    return this.#apply(provider);
  }

  #apply(provider: string): ApplyOutcome {
    collectYoung();
    try {
      return this.#build(provider);
    } catch (e) {
      // A bug in building must not stop the provider loop: keep serving the last snapshot.
      this.#logger.error('configuration build failed', {
        provider,
        error: e instanceof Error ? e.stack : String(e),
      });
      this.#noteRejection(provider, []);
      const outcome: ApplyOutcome = { applied: false, generation: this.#generation, issues: [], provider };
      for (const fn of this.#listeners) fn(outcome);
      return outcome;
    }
  }

  #build(provider: string): ApplyOutcome {
    const mergeIssues: ConfigIssue[] = [];
    const merged = mergeProviders(this.#configs(), mergeIssues);
    const generation = this.#generation + 1;
    const mergeErrors = mergeIssues.filter((i) => i.severity === 'error');
    const built =
      mergeErrors.length > 0
        ? ({ ok: false, errors: mergeErrors } as const)
        : buildPerObject(merged, generation, this.#cache, this.#logger, this.#buildOptions);
    if (!built.ok) return this.#refuse(provider, built.errors);
    const { result } = built;
    const whole = this.#providers.find((p) => p.name === provider)?.wholeUpdates === true;
    const own = (name: string): boolean => name.endsWith(`@${provider}`);
    if (whole && built.disabled.some((d) => own(d.name))) {
      const errors = built.errors.filter((i) => own(String(i.path[2])));
      return this.#refuse(provider, errors);
    }
    const buildErrors = built.errors.map((i) => this.#locate(i));
    const logged = new Set<string>();
    for (const i of buildErrors) {
      const text = formatIssue(i.file === undefined ? i : unqualified(i));
      logged.add(text);
      if (!this.#loggedBuildErrors.has(text)) this.#logger.error('configuration error', { issue: text });
    }
    this.#loggedBuildErrors = logged;
    const disabled = new Map<string, DisabledObject>();
    const issues: ConfigIssue[] = [];
    for (const [p, state] of this.#lastGood) {
      for (const d of state.disabled) {
        // As mergeProviders names it (Traefik's MakeQualifiedName): `@` in the name or not.
        const name = `${d.name}@${p}`;
        disabled.set(objectKey(d.section, name, d.kind), { ...d, name });
      }
      for (const i of state.issues) issues.push(qualifyIssue(i, p));
    }
    for (const d of built.disabled) disabled.set(objectKey(d.section, d.name, d.kind), d);
    issues.push(...buildErrors, ...result.issues.map((i) => this.#locate(i)));
    this.#generation = generation;
    this.#applied++;
    this.#lastAppliedAt = Date.now();
    const snapshot = { ...result.snapshot, issues, disabled };
    this.#ref.swap(snapshot);
    // In-flight requests of the old generation keep their pools until their response ends:
    // a closed pool destroys sockets as they are released, never under a running exchange.
    // Health checks run only for the services routers reach (Traefik builds no other).
    this.#cache.retain(result.pools, withoutUnreachedHealth(snapshot, result.sharedKeys, result.healthKeys));
    const applied = {
      generation,
      ...result.counts,
      ...(disabled.size > 0 ? { disabled: disabled.size } : {}),
    };
    if (this.#tlsOnDemand && result.snapshot.tlsWanted && result.snapshot.tls === null)
      this.#logger.debug('configuration applied, TLS loading', applied);
    else this.#logger.info('configuration applied', applied);
    // Warnings found while building (a certificate expired or without its intermediates, routers
    // disagreeing about TLS options) are logged once, not again at every reload that keeps them.
    // Those Traefik logs as errors (a TCP or UDP router left out for another provider's missing
    // service: ConfigIssue.logAs) at ERROR.
    // `error`: Traefik's words where the build knows them (ConfigIssue.traefik), as its managers
    // log the error (`the service "s@p" does not exist`).
    const warnings = new Map<string, { level: 'warn' | 'error'; traefik: string | undefined }>();
    for (const i of result.issues) {
      if (i.severity !== 'warning') continue;
      const { level, text } = issueLogLine(this.#locate(i));
      warnings.set(text, { level, traefik: i.traefik });
    }
    for (const [w, { level, traefik }] of warnings) {
      if (this.#buildWarnings.has(w)) continue;
      this.#logger[level](level === 'warn' ? 'configuration warning' : 'configuration error', {
        issue: w,
        ...(traefik === undefined ? {} : { error: traefik }),
      });
    }
    this.#buildWarnings = new Set(warnings.keys());
    const outcome: ApplyOutcome = { applied: true, generation, issues, provider, built: built.config };
    for (const fn of this.#listeners) fn(outcome);
    return outcome;
  }

  /** The merged configuration cannot be applied: the snapshot in force stays. */
  #refuse(provider: string, found: readonly ConfigIssue[]): ApplyOutcome {
    const errors = found.map((i) => this.#locate(i));
    for (const i of errors) this.#logger.error('configuration rejected', { issue: formatIssue(i) });
    this.#noteRejection(provider, errors);
    const outcome: ApplyOutcome = { applied: false, generation: this.#generation, issues: errors, provider };
    for (const fn of this.#listeners) fn(outcome);
    return outcome;
  }

  /**
   * A build issue about `name@provider` (an `http`, `tcp` or `udp` object, or a `tls.options`
   * set) located in that provider's files, when it has them.
   */
  #locate(i: ConfigIssue): ConfigIssue {
    if (i.file !== undefined) return i;
    const name = namedAt(i.path);
    if (name === undefined || (i.path[0] === 'tls' && !name.includes('@'))) return this.#locateShared(i);
    const sep = name.lastIndexOf('@');
    const state = sep === -1 ? undefined : this.#lastGood.get(name.slice(sep + 1));
    if (state?.locate === undefined) return i;
    const local = [i.path[0]!, i.path[1]!, name.slice(0, sep), ...i.path.slice(3)];
    const { exact: _, ...where } = state.locate(local, 'value');
    if (where.file !== undefined) return { ...i, ...where };
    // A modelled copy (`<ep>-<router>`, entry-point-model.ts) is not in the file: located at the
    // router it was made from, named as the build names it.
    if (i.path[0] !== 'http' || i.path[1] !== 'routers') return i;
    const copy = String(local[2]);
    for (const ep of this.#buildOptions.entryPointModel?.all ?? []) {
      if (!copy.startsWith(`${ep}-`) || copy.length <= ep.length + 1) continue;
      const from = [i.path[0], i.path[1], copy.slice(ep.length + 1), ...i.path.slice(3)];
      const { exact: __, ...at } = state.locate(from, 'value');
      if (at.file !== undefined) return { ...i, ...at };
    }
    return i;
  }

  /**
   * A build issue about the `tls` section's shared parts (certificates, the default store, the
   * `default` options set), which merge across providers unqualified: located in the first
   * provider whose files hold that path.
   */
  #locateShared(i: ConfigIssue): ConfigIssue {
    if (i.path[0] !== 'tls') return i;
    for (const state of this.#lastGood.values()) {
      if (state.locate === undefined) continue;
      const { exact: _, ...where } = state.locate(i.path, 'value');
      if (where.file !== undefined) return { ...i, ...where };
    }
    return i;
  }
}

/** An issue about `name@provider` located in that provider's file, named as the file names it. */
function unqualified(i: ConfigIssue): ConfigIssue {
  const name = namedAt(i.path);
  const sep = name === undefined ? -1 : name.lastIndexOf('@');
  if (name === undefined || sep === -1) return i;
  return { ...i, path: [i.path[0]!, i.path[1]!, name.slice(0, sep), ...i.path.slice(3)] };
}

/** The name an issue is about: an `http`, `tcp` or `udp` object's, or a `tls.options` set's. */
function namedAt(path: ConfigIssue['path']): string | undefined {
  const kind = path[0];
  const named =
    kind === 'http' || kind === 'tcp' || kind === 'udp'
      ? objectAt(['http', ...path.slice(1)]) !== undefined
      : kind === 'tls' && path[1] === 'options' && typeof path[2] === 'string';
  return named ? String(path[2]) : undefined;
}

/** A provider's issue about `name`, about `name@provider` as the merged configuration names it. */
function qualifyIssue(i: ConfigIssue, provider: string): ConfigIssue {
  // `tcp` and `udp` objects too: the admin API finds an object's issues by its qualified name.
  const kind = i.path[0];
  if (kind !== 'http' && kind !== 'tcp' && kind !== 'udp') return i;
  const at = objectAt(['http', ...i.path.slice(1)]);
  if (at === undefined) return i;
  // Every name gets its provider, `@` in it or not, as mergeProviders names the object (Traefik's
  // MakeQualifiedName, pkg/server/aggregator.go): an issue about `r@x` of docker is about
  // `r@x@docker`, where Traefik's runtime AddError puts it (RouterInfo of that name).
  return { ...i, path: [kind, at.section, `${at.name}@${provider}`, ...i.path.slice(3)] };
}
