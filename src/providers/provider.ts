import type { ConfigIssue, DynamicConfig, Locator } from '../config/index.ts';

/**
 * What a provider yields: its FULL current configuration, with the problems found in it.
 * `config` undefined = rejected whole (the errors are in `issues`); keep the last good one.
 * A present `config` may still come with errors: the objects they concern have been left out.
 */
export interface ProviderUpdate {
  readonly config: DynamicConfig | undefined;
  readonly issues: readonly ConfigIssue[];
  /** Maps a path of `config` to its file and position, for issues found later (a trial build). */
  readonly locate?: Locator;
}

/** A source of dynamic configuration. Names its objects are qualified with: `web@file`. */
export interface Provider {
  readonly name: string;
  /** One update at start, then one per change; ends when `signal` aborts. */
  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate>;
}
