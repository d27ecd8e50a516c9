/**
 * lego's `bunny` DNS provider (providers/dns/bunny with nrdcg/bunny-go), against bunny.net's API
 * (https://docs.bunny.net/reference/dnszonepublic_index), `AccessKey: <BUNNY_API_KEY>`. The zone
 * is the longest of the account's zones (`GET /dnszone?page=1&per_page=1000`) that is the
 * record's (CNAME-followed) name or a name above it, the top-level domain excepted (no SOA
 * lookup); `present` is `PUT /dnszone/<id>/records` `{"Type":3,"Ttl":60,"Value":<value>,"Name":<name
 * relative to the zone>}` (3 is TXT); `cleanup` deletes (`DELETE /dnszone/<id>/records/<record
 * id>`) the zone's TXT record at that name holding the value, from the zone list (none: an error,
 * as in lego). Errors are `{"ErrorKey","Field","Message"}`.
 */
import { type ApiClient, type ApiMethod, apiUrl, arrayField, asObject, stringField } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { namesUpward, relativeName, type ZoneLocator } from './dns01-zone.ts';

export const BUNNY_API = 'https://api.bunny.net';
/** lego's minTTL: the default and the floor. */
const MIN_TTL = 60;
/** bunny.net's record type number for TXT. */
const TXT = 3;

export interface BunnyOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly apiKey: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

export class BunnyDnsProvider implements Dns01Provider {
  readonly #o: BunnyOptions;

  constructor(opts: BunnyOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const { zoneId, name } = await this.#where(fqdn, signal);
    await this.#call('PUT', ['dnszone', zoneId, 'records'], undefined, {
      Type: TXT,
      Ttl: this.#o.ttl,
      Value: value,
      Name: name,
    });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const { zoneId, name, records } = await this.#where(fqdn);
    // lego deletes the first TXT record at the name; we the one holding our value, so that a
    // wildcard's record and its base name's (two values at one name) are withdrawn one at a time.
    const ours = records.find(
      (r) =>
        stringField(r, 'Name') === name && asObject(r)?.['Type'] === TXT && stringField(r, 'Value') === value,
    );
    const id = stringField(ours, 'Id');
    if (id === undefined)
      throw new Error(`bunny: could not find TXT record zone=${zoneId}, subdomain=${name}`);
    await this.#call('DELETE', ['dnszone', zoneId, 'records', id]);
  }

  /** lego's findZone: the longest zone among the name and the names above it but the top-level one. */
  async #where(
    fqdn: string,
    signal?: AbortSignal,
  ): Promise<{ zoneId: string; name: string; records: unknown[] }> {
    const effective = await this.#o.zones.follow(fqdn, signal);
    const listed = await this.#call('GET', ['dnszone'], { page: '1', per_page: '1000' });
    const candidates = namesUpward(effective).slice(0, -1);
    let zone: Record<string, unknown> | undefined;
    for (const item of arrayField(listed, 'Items') ?? []) {
      const domain = stringField(item, 'Domain') ?? '';
      if (candidates.includes(domain) && domain.length > (stringField(zone, 'Domain') ?? '').length)
        zone = asObject(item);
    }
    const zoneId = stringField(zone, 'Id');
    const domain = stringField(zone, 'Domain');
    if (zoneId === undefined || domain === undefined) {
      throw new Error(`bunny: could not find DNSZone domain=${candidates[0] ?? effective}`);
    }
    return { zoneId, name: relativeName(effective, domain), records: arrayField(zone, 'Records') ?? [] };
  }

  #call(method: ApiMethod, path: string[], query?: Record<string, string>, body?: unknown): Promise<unknown> {
    const url = apiUrl(this.#o.baseUrl, path, query);
    const headers: Record<string, string> = { accesskey: this.#o.apiKey, 'user-agent': 'bunny-go' };
    // bunny-go's newRequest: a JSON content type whenever there is a body (DELETE sends an empty one).
    if (method !== 'GET') headers['content-type'] = 'application/json';
    return this.#o.api.json(
      { method, url, headers, ...(body === undefined ? {} : { body: `${JSON.stringify(body)}\n` }) },
      (b) => stringField(b, 'Message'),
    );
  }
}

/**
 * lego's BUNNY_API_KEY, BUNNY_TTL (60, at least 60), the timeouts (120 s, 2 s), and ours,
 * BUNNY_API_URL (default https://api.bunny.net) and BUNNY_HTTP_TIMEOUT (bunny-go's 10 s).
 */
export function bunnyFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const apiKey = vars.require('BUNNY_API_KEY', 'bunny');
  const ttl = vars.integer('BUNNY_TTL', MIN_TTL, MIN_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'bunny',
    prefix: 'BUNNY',
    apiUrlVar: 'BUNNY_API_URL',
    defaultApi: BUNNY_API,
    httpTimeoutS: 10,
    propagationS: 120,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () => new BunnyDnsProvider({ api: s.api, baseUrl: s.baseUrl, apiKey, ttl, zones: ctx.zones }),
  };
}
