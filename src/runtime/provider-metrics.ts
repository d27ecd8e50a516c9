import type { MetricWriter } from '../observability/metrics/index.ts';
import type { ProviderPhase, ProviderStates } from '../providers/status.ts';

const PHASES: readonly ProviderPhase[] = ['starting', 'ready', 'done', 'down', 'stopped'];

/**
 * Scrape-time metrics of the providers: whether each is up, its phase, its failures and updates.
 * Read from the supervisors when Prometheus asks; nothing is counted on any hot path.
 */
export function providerCollector(states: ProviderStates): (w: MetricWriter) => void {
  return (w) => {
    for (const s of states.list()) {
      const provider = s.name;
      w.gauge(
        'traffic_provider_up',
        'Whether the provider delivers its configuration (1), or is down and its last good configuration serves (0).',
        { provider },
        s.phase === 'ready' || s.phase === 'done' ? 1 : 0,
      );
      for (const phase of PHASES) {
        w.gauge(
          'traffic_provider_phase',
          'The phase of the provider (1 for the current one).',
          { provider, phase },
          s.phase === phase ? 1 : 0,
        );
      }
      w.counter(
        'traffic_provider_failures_total',
        'Times the provider failed and was restarted.',
        { provider },
        s.failures,
      );
      w.counter(
        'traffic_provider_updates_total',
        'Configurations the provider passed on (unchanged ones are not counted).',
        { provider },
        s.updates,
      );
      w.gauge(
        'traffic_provider_last_update_timestamp_seconds',
        'When the provider last passed on a configuration (0 = never).',
        { provider },
        s.lastUpdateAt / 1000,
      );
    }
  };
}
