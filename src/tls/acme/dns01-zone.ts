/**
 * Where a DNS provider writes the record, as lego decides it (challenge/dns01: GetChallengeInfo,
 * FindZoneByFqdn): a CNAME at `_acme-challenge.<name>` is followed first (the delegation Let's
 * Encrypt recommends; lego's LEGO_DISABLE_CNAME_SUPPORT=true turns that off), then the zone is the
 * closest name, at or above the record, whose SOA the recursive servers answer (`resolvers`,
 * else the system's). The provider then asks its API for that zone by name.
 */
import { DnsLookup, DnsLookupError } from './dns01-lookup.ts';

export interface RecordLocation {
  /** Absolute name where the record is written (the CNAME target when one was followed). */
  readonly fqdn: string;
  /** Absolute name of the zone that holds it. */
  readonly zone: string;
}

export interface ZoneLocator {
  /** Where the record goes and its zone. */
  locate(fqdn: string, signal?: AbortSignal): Promise<RecordLocation>;
  /** Where the record goes, when the zone is known otherwise (Route 53's AWS_HOSTED_ZONE_ID). */
  follow(fqdn: string, signal?: AbortSignal): Promise<string>;
}

export interface DnsZoneLocatorOptions {
  /** `ip:port` of the recursive servers; empty = the system's. */
  readonly resolvers: readonly string[];
  /** lego follows a CNAME at the record name unless LEGO_DISABLE_CNAME_SUPPORT is true. */
  readonly followCname: boolean;
}

export class DnsZoneLocator implements ZoneLocator {
  readonly #opts: DnsZoneLocatorOptions;

  constructor(opts: DnsZoneLocatorOptions) {
    this.#opts = opts;
  }

  locate(fqdn: string, signal?: AbortSignal): Promise<RecordLocation> {
    return this.#with(fqdn, signal, async (lookup) => {
      const effective = this.#opts.followCname ? await lookup.followCname(fqdn) : fqdn;
      return { fqdn: effective, zone: await lookup.findZone(effective) };
    });
  }

  follow(fqdn: string, signal?: AbortSignal): Promise<string> {
    if (!this.#opts.followCname) return Promise.resolve(fqdn);
    return this.#with(fqdn, signal, (lookup) => lookup.followCname(fqdn));
  }

  async #with<T>(
    fqdn: string,
    signal: AbortSignal | undefined,
    fn: (lookup: DnsLookup) => Promise<T>,
  ): Promise<T> {
    signal?.throwIfAborted();
    const lookup = new DnsLookup(this.#opts.resolvers);
    const onAbort = (): void => lookup.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await fn(lookup);
    } catch (e) {
      signal?.throwIfAborted();
      if (e instanceof DnsLookupError) {
        throw new DnsLookupError(`could not find the DNS zone of ${fqdn}: ${e.message}`);
      }
      throw e;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** The name without its final dot. */
export function unFqdn(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/**
 * lego's ExtractSubDomain: the record's name relative to its zone (`_acme-challenge.www` in
 * `example.com.`). A record at the apex or outside the zone is an error, never a guess.
 */
export function relativeName(fqdn: string, zone: string): string {
  const name = unFqdn(fqdn).toLowerCase();
  const z = unFqdn(zone).toLowerCase();
  if (name === z || !name.endsWith(`.${z}`)) {
    throw new DnsLookupError(`${fqdn} is not a name below the zone ${zone}`);
  }
  return unFqdn(fqdn).slice(0, name.length - z.length - 1);
}

/** The domain a challenge record is for: `_acme-challenge.<domain>.` without the prefix and the dot. */
export function challengeDomain(fqdn: string): string {
  const name = unFqdn(fqdn);
  return name.startsWith('_acme-challenge.') ? name.slice('_acme-challenge.'.length) : name;
}

/**
 * lego's findZone of the providers that list their zones instead of asking the SOA (vultr,
 * ionos…): the longest of `zones` that `name` ends with, as Go's strings.HasSuffix compares (a
 * plain string suffix, as lego does). Undefined when none does.
 */
export function longestSuffixZone(name: string, zones: Iterable<string>): string | undefined {
  let best: string | undefined;
  for (const z of zones) {
    if (z !== '' && name.endsWith(z) && (best === undefined || z.length > best.length)) best = z;
  }
  return best;
}

/**
 * lego's UnFqdnDomainsSeq: the name and each name above it, without the final dot
 * (`a.example.com`, `example.com`, `com`), for the providers that ask their API which one is
 * a zone.
 */
export function namesUpward(fqdn: string): string[] {
  const labels = unFqdn(fqdn).split('.');
  return labels.map((_, i) => labels.slice(i).join('.')).filter((n) => n !== '');
}
