import { createHash } from 'node:crypto';
import { type DynamicConfig, dynamicConfigSchema } from '../../config/dynamic/schema.ts';
import { type RuleChecker, validateDynamic } from '../../config/dynamic/validate.ts';
import { type ConfigIssue, issue } from '../../config/issues.ts';
import { noLocation } from '../../config/yaml-source.ts';
import { fromZodIssues } from '../../config/zod-issues.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import {
  API_SECTIONS,
  type ApiRawConfig,
  type ApiSection,
  type DiffEntry,
  diffConfigs,
  emptyRawConfig,
} from './config-diff.ts';
import { canonicalJson, isJsonObject, mergePatch, setOwn } from './json-values.ts';
import { readIfExists, writeFileAtomic } from './persist.ts';

export interface ApiProviderOptions {
  /** Where committed configurations are written (mode 0600) and read back at start; '' = memory only. */
  readonly persistFile?: string;
  /** When given, a router's entry points must be among these. */
  readonly entryPoints?: readonly string[];
  /** Internal services a router may name (`api` for `api@internal`). Default: none. */
  readonly internalServices?: ReadonlySet<string>;
  /** When given, a router's certificate resolver must be among these. */
  readonly certResolvers?: readonly string[];
  /** Providers whose objects the API's objects may refer to (`svc@file`). Default `['file']`. */
  readonly knownProviders?: readonly string[];
  readonly checkRule?: RuleChecker;
  readonly checkBreakerExpression?: RuleChecker;
  /**
   * Checks the API's configuration merged with every other provider's (references across
   * providers, what only a build finds). Called by `propose` once the API's own checks pass.
   */
  readonly validateMerged?: (config: DynamicConfig) => readonly ConfigIssue[];
  /** Previous configurations kept for `rollback`. Default 10. */
  readonly historySize?: number;
}

/** One change a client asks for. `name` may carry the provider suffix `@api`. */
export type ApiChange =
  | { readonly kind: 'put'; readonly section: ApiSection; readonly name: string; readonly value: unknown }
  | { readonly kind: 'patch'; readonly section: ApiSection; readonly name: string; readonly patch: unknown }
  | { readonly kind: 'delete'; readonly section: ApiSection; readonly name: string }
  | { readonly kind: 'replace'; readonly config: unknown };

export interface Proposal {
  /** No error among `issues`: the configuration may be committed. */
  readonly ok: boolean;
  readonly issues: readonly ConfigIssue[];
  /** The configuration the change would produce (the current one when the change is malformed). */
  readonly config: ApiRawConfig;
  readonly diff: readonly DiffEntry[];
  /** The change patches or deletes an object that does not exist. */
  readonly missing: boolean;
}

interface Subscriber {
  readonly queue: ProviderUpdate[];
  wake: (() => void) | undefined;
}

interface State {
  readonly config: ApiRawConfig;
  readonly history: readonly ApiRawConfig[];
}

/**
 * The admin API's changes, as a provider like any other: its objects are `name@api`, its updates
 * go through the configuration watcher, and a change is validated whole before it is committed.
 */
export class ApiProvider implements Provider {
  readonly name = 'api';
  /** A write is answered with its outcome: one that would disable its own objects is refused. */
  readonly wholeUpdates = true;
  readonly #opts: ApiProviderOptions;
  readonly #file: string;
  readonly #historySize: number;
  #state: State = { config: emptyRawConfig(), history: [] };
  /** The state before the last commit or rollback, for `revertUnapplied`. */
  #before: State | undefined;
  #etag: string;
  /** Set when the persisted file exists but cannot be read: writes would overwrite it. */
  readonly #loadError: string | undefined;
  readonly #subscribers = new Set<Subscriber>();

  constructor(opts: ApiProviderOptions = {}) {
    this.#opts = opts;
    this.#file = opts.persistFile ?? '';
    this.#historySize = opts.historySize ?? 10;
    let loadError: string | undefined;
    if (this.#file !== '') {
      try {
        const text = readIfExists(this.#file);
        if (text !== undefined) this.#state = { config: normalise(JSON.parse(text)), history: [] };
      } catch (e) {
        loadError = `cannot read the persisted API configuration ${this.#file}: ${
          e instanceof Error ? e.message : String(e)
        }; fix or remove the file`;
      }
    }
    this.#loadError = loadError;
    this.#etag = etagOf(this.#state.config);
  }

  /** The current configuration, in the shape clients write it. */
  get config(): ApiRawConfig {
    return this.#state.config;
  }

  /** A hash of the current configuration's canonical JSON (unquoted). */
  get etag(): string {
    return this.#etag;
  }

  /** How many previous configurations `rollback` can go back to. */
  get historyLength(): number {
    return this.#state.history.length;
  }

  /** What `change` would produce, validated, and how it differs from the current configuration. */
  propose(change: ApiChange): Proposal {
    const current = this.#state.config;
    const rejected = (issues: ConfigIssue[], missing = false): Proposal => ({
      ok: false,
      issues,
      config: current,
      diff: [],
      missing,
    });
    if (this.#loadError !== undefined) return rejected([issue('error', this.#loadError, [])]);
    let next: ApiRawConfig;
    if (change.kind === 'replace') {
      if (!isJsonObject(change.config))
        return rejected([issue('error', 'the configuration must be an object', [])]);
      const shape = this.#parse(change.config);
      if (shape.parsed === undefined) return rejected(shape.issues);
      next = normalise(change.config);
    } else {
      const name = change.name.endsWith('@api') ? change.name.slice(0, -4) : change.name;
      const path = ['http', change.section, name];
      if (name === '') return rejected([issue('error', 'a name must not be empty', path)]);
      if (name === '__proto__') return rejected([issue('error', 'a name must not be `__proto__`', path)]);
      const objects = current.http[change.section];
      const exists = Object.hasOwn(objects, name);
      if (change.kind !== 'put' && !exists)
        return rejected(
          [issue('error', `${singular(change.section)} \`${name}\` does not exist`, path)],
          true,
        );
      const updated: Record<string, unknown> = { ...objects };
      if (change.kind === 'delete') delete updated[name];
      else if (change.kind === 'put') setOwn(updated, name, change.value);
      else setOwn(updated, name, mergePatch(objects[name], change.patch));
      next = { http: { ...current.http, [change.section]: updated } };
    }
    const diff = diffConfigs(current, next);
    const checked = this.#check(next, true);
    return { ok: !hasError(checked.issues), issues: checked.issues, config: next, diff, missing: false };
  }

  /**
   * Makes `config` (a successful proposal's) current: persisted first, so that a failed write
   * changes nothing, then yielded to the watcher. Throws when it does not pass the checks.
   */
  commit(config: ApiRawConfig): void {
    if (this.#loadError !== undefined) throw new Error(this.#loadError);
    const checked = this.#check(config, false);
    if (checked.config === undefined || hasError(checked.issues)) {
      throw new Error('commit of a configuration that does not validate');
    }
    const history = [...this.#state.history, this.#state.config].slice(-this.#historySize);
    this.#set({ config, history });
    this.#publish({ config: checked.config, issues: checked.issues });
  }

  /**
   * Goes back to the configuration before the last commit. False when there is none. The
   * restored configuration is checked again: what it refers to in other providers may be gone,
   * in which case the watcher rejects it and `revertUnapplied` undoes this.
   */
  rollback(): boolean {
    const history = this.#state.history;
    const previous = history.at(-1);
    if (previous === undefined) return false;
    this.#set({ config: previous, history: history.slice(0, -1) });
    this.#publish(this.#update(previous));
    return true;
  }

  /**
   * Undoes the last commit or rollback without yielding anything: for when the watcher rejected
   * that update and kept serving the previous configuration, which is current again here.
   */
  revertUnapplied(): void {
    const before = this.#before;
    if (before === undefined) return;
    this.#set(before);
    this.#before = undefined;
  }

  /** What `watch` would yield now for the current configuration (for `traffic explain`). */
  currentUpdate(): ProviderUpdate {
    return this.#update(this.#state.config);
  }

  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate> {
    return this.#run(signal);
  }

  async *#run(signal: AbortSignal): AsyncGenerator<ProviderUpdate, void, undefined> {
    if (signal.aborted) return;
    const sub: Subscriber = { queue: [], wake: undefined };
    this.#subscribers.add(sub);
    const onAbort = (): void => sub.wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      yield this.#update(this.#state.config);
      while (!signal.aborted) {
        const next = sub.queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => {
          sub.wake = resolve;
        });
        sub.wake = undefined;
      }
    } finally {
      this.#subscribers.delete(sub);
      signal.removeEventListener('abort', onAbort);
    }
  }

  #set(next: State): void {
    if (this.#file !== '') writeFileAtomic(this.#file, `${JSON.stringify(next.config, null, 2)}\n`);
    this.#before = this.#state;
    this.#state = next;
    this.#etag = etagOf(next.config);
  }

  #publish(update: ProviderUpdate): void {
    for (const sub of this.#subscribers) {
      sub.queue.push(update);
      sub.wake?.();
    }
  }

  #update(config: ApiRawConfig): ProviderUpdate {
    if (this.#loadError !== undefined)
      return { config: undefined, issues: [issue('error', this.#loadError, [])] };
    const checked = this.#check(config, false);
    return { config: hasError(checked.issues) ? undefined : checked.config, issues: checked.issues };
  }

  #parse(raw: unknown): { parsed?: DynamicConfig; issues: ConfigIssue[] } {
    const r = dynamicConfigSchema.safeParse(raw, { reportInput: true });
    if (r.success) return { parsed: r.data, issues: [] };
    return { issues: fromZodIssues(r.error.issues, { locate: noLocation }) };
  }

  #check(raw: ApiRawConfig, merged: boolean): { config?: DynamicConfig; issues: ConfigIssue[] } {
    const shape = this.#parse(raw);
    if (shape.parsed === undefined) return shape;
    const o = this.#opts;
    const v = validateDynamic(shape.parsed, {
      provider: 'api',
      knownProviders: o.knownProviders ?? ['file'],
      ...(o.entryPoints !== undefined ? { entryPoints: o.entryPoints } : {}),
      ...(o.internalServices !== undefined ? { internalServices: o.internalServices } : {}),
      ...(o.certResolvers !== undefined ? { certResolvers: o.certResolvers } : {}),
      ...(o.checkRule !== undefined ? { checkRule: o.checkRule } : {}),
      ...(o.checkBreakerExpression !== undefined ? { checkBreakerExpression: o.checkBreakerExpression } : {}),
    });
    const issues = [...v.issues];
    if (merged && !hasError(issues) && o.validateMerged !== undefined) {
      issues.push(...o.validateMerged(shape.parsed));
    }
    return { config: shape.parsed, issues };
  }
}

function hasError(issues: readonly ConfigIssue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}

function singular(section: ApiSection): string {
  return section === 'serversTransports' ? 'serversTransport' : section.slice(0, -1);
}

function etagOf(config: ApiRawConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 32);
}

/**
 * Every section present and an object. Anything else is dropped: a replace has passed the
 * schema (which refuses unknown keys) before it gets here, and the persisted file is ours.
 */
function normalise(raw: unknown): ApiRawConfig {
  const http = isJsonObject(raw) && isJsonObject(raw['http']) ? raw['http'] : {};
  const out = emptyRawConfig();
  const sections = out.http as Record<ApiSection, Readonly<Record<string, unknown>>>;
  for (const s of API_SECTIONS) {
    const v = http[s];
    if (isJsonObject(v)) sections[s] = v;
  }
  return out;
}
