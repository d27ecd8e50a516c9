/**
 * What a supervised provider is doing, for the admin API, the dashboard and the metrics.
 *
 * - `starting`: its watch runs and has not delivered a configuration yet;
 * - `ready`: it delivered and watches for changes;
 * - `done`: its watch ended by itself (a file provider with `watch: false`): its last
 *   configuration stays;
 * - `down`: its watch failed (the engine is unreachable, answered an error, the stream broke);
 *   its last good configuration keeps serving and it is restarted at `retryAt`;
 * - `stopped`: the process is shutting down.
 */
export type ProviderPhase = 'starting' | 'ready' | 'done' | 'down' | 'stopped';

export interface ProviderStatus {
  readonly name: string;
  readonly phase: ProviderPhase;
  /** Epoch ms of the last phase change. */
  readonly since: number;
  /** Updates passed on to the configuration watcher. */
  readonly updates: number;
  /** Updates dropped because they equalled the last one passed on (Traefik skips them too). */
  readonly unchanged: number;
  /** Times the provider's watch failed (and was restarted). */
  readonly failures: number;
  readonly lastError: string | null;
  /** Epoch ms; 0 = never. */
  readonly lastErrorAt: number;
  /** Epoch ms of the last update passed on; 0 = none yet. */
  readonly lastUpdateAt: number;
  /** While `down`: epoch ms of the next attempt; 0 otherwise. */
  readonly retryAt: number;
  /** `providersThrottleDuration` as applied to this provider (0 = not throttled). */
  readonly throttleMs: number;
  /** The watcher's verdict on the provider's last update. */
  readonly lastOutcome: { readonly applied: boolean; readonly errors: number; readonly at: number } | null;
}

/** The supervised providers of the process, in the order they were configured. */
export interface ProviderStates {
  list(): readonly ProviderStatus[];
}
