/** A router's `observability` as Traefik's API shows it (pkg/server/aggregator.go). */

export interface RouterObservabilityView {
  readonly accessLogs: boolean;
  readonly metrics: boolean;
  readonly tracing: boolean;
  readonly traceVerbosity: 'minimal' | 'detailed';
}

/** Every key unset: Traefik's defaults (one object, shared by the views). */
export const DEFAULT_OBSERVABILITY: RouterObservabilityView = Object.freeze({
  accessLogs: true,
  metrics: true,
  tracing: true,
  traceVerbosity: 'minimal',
});

/**
 * A root router's observability as Traefik's API shows it (applyDefaultObservabilityModel, after
 * the entry point's model merged in): its keys, each unset one `true` (`minimal`).
 */
export function observabilityView(
  own: { readonly [K in keyof RouterObservabilityView]?: RouterObservabilityView[K] | undefined } | undefined,
): RouterObservabilityView {
  if (own === undefined) return DEFAULT_OBSERVABILITY;
  return {
    accessLogs: own.accessLogs ?? true,
    metrics: own.metrics ?? true,
    tracing: own.tracing ?? true,
    traceVerbosity: own.traceVerbosity ?? 'minimal',
  };
}
