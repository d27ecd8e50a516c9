/**
 * What `dnsChallenge` asks of the propagation check, with Traefik's precedence: the v3.3 keys
 * under `propagation`, then the deprecated `delayBeforeCheck` and `disablePropagationCheck`, then
 * the provider's defaults. The timeout and polling interval are the provider's (lego's
 * `*_PROPAGATION_TIMEOUT` and `*_POLLING_INTERVAL`, read with its other variables).
 */
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import type { PropagationSettings } from './dns01-propagation.ts';

/** lego's dns01.DefaultPropagationTimeout and DefaultPollingInterval. */
export const DEFAULT_PROPAGATION_TIMEOUT_MS = 60_000;
export const DEFAULT_POLLING_INTERVAL_MS = 2_000;

export interface ProviderTimeouts {
  readonly timeoutMs: number;
  readonly intervalMs: number;
}

/** A deprecated key in use: where it is, and what replaces it. */
export interface DnsChallengeDeprecation {
  readonly key: 'delayBeforeCheck' | 'disablePropagationCheck';
  readonly message: string;
}

export function propagationSettings(
  challenge: DnsChallengeConfig,
  timeouts: ProviderTimeouts = {
    timeoutMs: DEFAULT_PROPAGATION_TIMEOUT_MS,
    intervalMs: DEFAULT_POLLING_INTERVAL_MS,
  },
): PropagationSettings {
  const p = challenge.propagation ?? {};
  const resolvers = challenge.resolvers ?? [];
  // pebble-challtestsrv is at once the resolver and the zone's only server, and answers SOA and
  // NS with NOTIMP, so the authoritative check cannot work against it: its record is checked on
  // the resolvers instead. Its DNS port is not in our configuration (only its management URL),
  // and no other DNS serves its records, so without `resolvers` there is nowhere to check.
  const testDns = challenge.provider === 'challtestsrv';
  return {
    resolvers,
    delayBeforeChecksMs: p.delayBeforeChecks ?? challenge.delayBeforeCheck ?? 0,
    disableChecks:
      p.disableChecks ?? (challenge.disablePropagationCheck === true || (testDns && resolvers.length === 0)),
    requireAllRNS: p.requireAllRNS ?? testDns,
    disableANSChecks: p.disableANSChecks ?? testDns,
    timeoutMs: timeouts.timeoutMs,
    intervalMs: timeouts.intervalMs,
  };
}

/** Traefik v3.3 deprecates the pre-`propagation` keys (they keep working, with a warning). */
export function dnsChallengeDeprecations(challenge: DnsChallengeConfig): DnsChallengeDeprecation[] {
  const out: DnsChallengeDeprecation[] = [];
  if (challenge.delayBeforeCheck !== undefined) {
    out.push({
      key: 'delayBeforeCheck',
      message:
        challenge.propagation?.delayBeforeChecks === undefined
          ? '`delayBeforeCheck` is deprecated: use `propagation.delayBeforeChecks`'
          : '`delayBeforeCheck` is deprecated and ignored: `propagation.delayBeforeChecks` is set',
    });
  }
  if (challenge.disablePropagationCheck !== undefined) {
    out.push({
      key: 'disablePropagationCheck',
      message:
        challenge.propagation?.disableChecks === undefined
          ? '`disablePropagationCheck` is deprecated: use `propagation.disableChecks`'
          : '`disablePropagationCheck` is deprecated and ignored: `propagation.disableChecks` is set',
    });
  }
  return out;
}
