import type { ConfigIssue, DisabledObject, DynamicConfig, Locator } from '../config/index.ts';

/**
 * What a provider yields: its FULL current configuration, with the problems found in it.
 * `config` undefined = rejected whole (the errors are in `issues`); keep the last good one.
 * A present `config` is applied even with errors: the objects they concern have been left out
 * (listed in `disabled`), and errors outside any object (a file that serves its last good
 * version) are reported only.
 */
export interface ProviderUpdate {
  readonly config: DynamicConfig | undefined;
  readonly issues: readonly ConfigIssue[];
  /** Maps a path of `config` to its file and position, for issues found later (a trial build). */
  readonly locate?: Locator;
  /** Objects left out of `config` because of errors, for the admin API (names not qualified). */
  readonly disabled?: readonly DisabledObject[];
}

/** A source of dynamic configuration. Names its objects are qualified with: `web@file`. */
export interface Provider {
  readonly name: string;
  /**
   * True when an update that would disable one of the provider's own objects must be rejected
   * whole instead (the admin API: its writer is answered 400, and nothing changes).
   */
  readonly wholeUpdates?: boolean;
  /** One update at start, then one per change; ends when `signal` aborts. */
  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate>;
}
