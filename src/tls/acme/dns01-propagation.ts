/**
 * lego's DNS propagation check (what Traefik runs between a DNS provider's Present and telling
 * the CA to validate): the CA resolves the TXT record itself, possibly before every authoritative
 * nameserver of the zone has it, and an authorization that fails then fails the whole order. So
 * the record is polled until it is seen, bounded by the provider's propagation timeout:
 *
 * - on every authoritative nameserver of the zone (found from the SOA and NS through the
 *   recursive servers), unless `disableANSChecks`;
 * - on every recursive server (`resolvers`, else the system's) when `requireAllRNS`.
 *
 * `delayBeforeChecks` waits once before the first check (Traefik sleeps before every attempt,
 * which only makes a failing check slower); `disableChecks` skips the checks after that delay.
 * Timers go through the injected Scheduler, so tests decide when time passes.
 */
import type { Logger } from '../../core/logger.ts';
import { DnsLookup, DnsLookupError, type Nameserver } from './dns01-lookup.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { type Scheduler, systemScheduler } from './scheduler.ts';

export interface PropagationSettings {
  /** `ip:port` of the servers for recursive questions; empty = the system's (resolv.conf). */
  readonly resolvers: readonly string[];
  readonly delayBeforeChecksMs: number;
  readonly disableChecks: boolean;
  /** Every recursive server must serve the record. */
  readonly requireAllRNS: boolean;
  /** Do not look for the zone's authoritative nameservers (nor ask them). */
  readonly disableANSChecks: boolean;
  /** The provider's `*_PROPAGATION_TIMEOUT` (lego's default 60 s). */
  readonly timeoutMs: number;
  /** The provider's `*_POLLING_INTERVAL` (lego's default 2 s). */
  readonly intervalMs: number;
}

export interface PropagationCheckOptions extends PropagationSettings {
  readonly scheduler?: Scheduler;
  readonly logger?: Logger;
  /** Where authoritative nameservers listen: 53, as lego assumes; tests use their own port. */
  readonly authoritativePort?: number;
}

/** The record was not seen everywhere it had to be within the propagation timeout. */
export class Dns01PropagationError extends Error {
  readonly fqdn: string;
  constructor(fqdn: string, message: string) {
    super(message);
    this.name = 'Dns01PropagationError';
    this.fqdn = fqdn;
  }
}

export class Dns01PropagationCheck {
  readonly settings: PropagationSettings;
  readonly #scheduler: Scheduler;
  readonly #log: Logger | undefined;
  readonly #port: number;

  constructor(opts: PropagationCheckOptions) {
    this.settings = {
      resolvers: opts.resolvers,
      delayBeforeChecksMs: opts.delayBeforeChecksMs,
      disableChecks: opts.disableChecks,
      requireAllRNS: opts.requireAllRNS,
      disableANSChecks: opts.disableANSChecks,
      timeoutMs: opts.timeoutMs,
      intervalMs: opts.intervalMs,
    };
    this.#scheduler = opts.scheduler ?? systemScheduler;
    this.#log = opts.logger;
    this.#port = opts.authoritativePort ?? 53;
  }

  /** Resolves once TXT `value` at `fqdn` is seen where the settings require it. */
  async wait(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const s = this.settings;
    signal?.throwIfAborted();
    if (s.delayBeforeChecksMs > 0) {
      this.#log?.debug('acme dns-01 waiting before the propagation check', {
        record: fqdn,
        delayMs: s.delayBeforeChecksMs,
      });
      await new Sleep(this.#scheduler, signal).until(s.delayBeforeChecksMs);
    }
    if (s.disableChecks) return;
    // Nothing to ask: lego's check then only makes its first recursive query, whose answer it ignores.
    if (!s.requireAllRNS && s.disableANSChecks) return;
    await this.#poll(fqdn, value, signal);
  }

  async #poll(fqdn: string, value: string, signal: AbortSignal | undefined): Promise<void> {
    const s = this.settings;
    let expired = false;
    const sleep = new Sleep(this.#scheduler, signal);
    const deadline = this.#scheduler.setTimeout(() => {
      expired = true;
      sleep.wake();
    }, s.timeoutMs);
    // The zone and its nameservers do not change while one record propagates: found once.
    let authoritative: { zone: string; nameservers: Nameserver[]; fqdn: string } | undefined;
    let first = true;
    try {
      for (;;) {
        const lookup = new DnsLookup(s.resolvers);
        const onAbort = (): void => lookup.cancel();
        signal?.addEventListener('abort', onAbort, { once: true });
        let missing: string[];
        try {
          if (first) {
            this.#log?.info('acme dns-01 waiting for the record to propagate', {
              record: fqdn,
              resolvers: lookup.recursiveServers(),
              authoritative: !s.disableANSChecks,
              requireAllRNS: s.requireAllRNS,
            });
            first = false;
          }
          const effective = await lookup.followCname(fqdn);
          const checks: Promise<string | undefined>[] = [];
          if (s.requireAllRNS) {
            for (const server of lookup.recursiveServers())
              checks.push(this.#ask(lookup, effective, value, server, `recursive nameserver ${server}`));
          }
          if (!s.disableANSChecks) {
            if (authoritative?.fqdn !== effective) {
              const zone = await lookup.findZone(effective);
              authoritative = {
                zone,
                nameservers: await lookup.nameservers(zone, this.#port),
                fqdn: effective,
              };
            }
            for (const ns of authoritative.nameservers) {
              const label = `authoritative nameserver ${ns.name} of ${authoritative.zone}`;
              checks.push(
                ns.server === undefined
                  ? Promise.resolve(`${label}: ${ns.detail ?? 'no address'}`)
                  : this.#ask(lookup, effective, value, ns.server, `${label} (${ns.server})`),
              );
            }
          }
          missing = (await Promise.all(checks)).filter((m) => m !== undefined);
        } catch (e) {
          signal?.throwIfAborted();
          if (!(e instanceof DnsLookupError)) throw e;
          missing = [e.message];
        } finally {
          signal?.removeEventListener('abort', onAbort);
        }
        signal?.throwIfAborted();
        if (missing.length === 0) {
          this.#log?.info('acme dns-01 record propagated', { record: fqdn });
          return;
        }
        this.#log?.debug('acme dns-01 record not propagated yet', { record: fqdn, missing });
        if (!expired) await sleep.until(s.intervalMs);
        if (expired) {
          throw new Dns01PropagationError(
            fqdn,
            `dns-01: TXT record ${fqdn} "${value}" not seen within ${seconds(s.timeoutMs)} (the DNS provider's propagation timeout): ${missing.join('; ')}`,
          );
        }
      }
    } finally {
      this.#scheduler.clearTimeout(deadline);
    }
  }

  async #ask(
    lookup: DnsLookup,
    fqdn: string,
    value: string,
    server: string,
    label: string,
  ): Promise<string | undefined> {
    const a = await lookup.txt(fqdn, value, server);
    return a.found ? undefined : `${label}: ${a.detail}`;
  }
}

/**
 * A provider whose `present` returns once the record has propagated. When the check fails, the
 * record is withdrawn before the error goes up (lego cleans up after a failed Solve as well):
 * the solver only cleans up after a `present` that succeeded.
 */
export class PropagationCheckedDnsProvider implements Dns01Provider {
  readonly provider: Dns01Provider;
  readonly check: Dns01PropagationCheck;
  readonly #log: Logger | undefined;

  constructor(provider: Dns01Provider, check: Dns01PropagationCheck, logger?: Logger) {
    this.provider = provider;
    this.check = check;
    this.#log = logger;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    await this.provider.present(fqdn, value, signal);
    try {
      await this.check.wait(fqdn, value, signal);
    } catch (e) {
      try {
        await this.provider.cleanup(fqdn, value);
      } catch (c) {
        this.#log?.warn('acme challenge cleanup failed', { record: fqdn, error: c });
      }
      throw e;
    }
  }

  cleanup(fqdn: string, value: string): Promise<void> {
    return this.provider.cleanup(fqdn, value);
  }
}

/** One pending timer at a time, ended early by `wake()` (the deadline) or the abort signal. */
class Sleep {
  readonly #scheduler: Scheduler;
  readonly #signal: AbortSignal | undefined;
  #done: (() => void) | undefined;

  constructor(scheduler: Scheduler, signal: AbortSignal | undefined) {
    this.#scheduler = scheduler;
    this.#signal = signal;
  }

  until(ms: number): Promise<void> {
    const signal = this.#signal;
    return new Promise<void>((resolve, reject) => {
      const finish = (): void => {
        this.#done = undefined;
        this.#scheduler.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        finish();
        reject(signal?.reason);
      };
      const timer = this.#scheduler.setTimeout(() => {
        finish();
        resolve();
      }, ms);
      this.#done = () => {
        finish();
        resolve();
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  wake(): void {
    this.#done?.();
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
