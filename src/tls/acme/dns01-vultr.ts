/**
 * lego's `vultr` DNS provider (providers/dns/vultr, with vultr/govultr v3), against Vultr's API v2
 * (https://www.vultr.com/api/#tag/dns), `Authorization: Bearer <VULTR_API_KEY>`. The zone is the
 * longest Vultr domain the certificate's domain ends with (`GET /v2/domains?per_page=25`, then
 * `&cursor=<meta.links.next>` until a domain equals it or there is no next page; lego does not
 * ask the SOA here); `present` is `POST /v2/domains/<zone>/records` `{"name":<name relative to
 * the zone>,"type":"TXT","data":"\"<value>\"","ttl":120,"priority":0}`; `cleanup` lists `GET
 * /v2/domains/<zone>/records?per_page=25` (every page) and deletes (`DELETE …/records/<id>`) the
 * TXT records at that name. Any status outside 200–204 is an error quoting the body.
 */
import {
  type ApiClient,
  type ApiMethod,
  apiUrl,
  arrayField,
  asObject,
  bearerJsonCall,
  stringField,
} from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { challengeDomain, longestSuffixZone, relativeName, type ZoneLocator } from './dns01-zone.ts';

export const VULTR_API = 'https://api.vultr.com';
/** lego's dns01.DefaultTTL. */
const DEFAULT_TTL = 120;
/** lego's ListOptions{PerPage: 25}. */
const PER_PAGE = '25';

export interface VultrOptions {
  readonly api: ApiClient;
  /** Without the version: `/v2` is added, as govultr's paths hold it. */
  readonly baseUrl: URL;
  readonly apiKey: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

export class VultrDnsProvider implements Dns01Provider {
  readonly #o: VultrOptions;

  constructor(opts: VultrOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const { zone, name } = await this.#where(fqdn, signal);
    await this.#call('POST', ['domains', zone, 'records'], undefined, {
      name,
      type: 'TXT',
      data: `"${value}"`,
      ...(this.#o.ttl === 0 ? {} : { ttl: this.#o.ttl }),
      priority: 0,
    });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const { zone, name } = await this.#where(fqdn);
    const records = await this.#list(['domains', zone, 'records'], 'records', () => false);
    // lego deletes every TXT record at the name; we delete ours only, so that a wildcard's
    // record and its base name's (two values at one name) are withdrawn one at a time.
    for (const r of records) {
      if (
        stringField(r, 'type') === 'TXT' &&
        stringField(r, 'name') === name &&
        stringField(r, 'data') === `"${value}"`
      ) {
        await this.#call('DELETE', ['domains', zone, 'records', stringField(r, 'id') ?? '']);
      }
    }
  }

  /** lego's getHostedZone (from the certificate's domain) and ExtractSubDomain (of the CNAME-followed name). */
  async #where(fqdn: string, signal?: AbortSignal): Promise<{ zone: string; name: string }> {
    const effective = await this.#o.zones.follow(fqdn, signal);
    const domain = challengeDomain(fqdn);
    let zone: string | undefined;
    await this.#list(['domains'], 'domains', (page) => {
      const names = page.map((d) => stringField(d, 'domain') ?? '');
      zone = longestSuffixZone(domain, zone === undefined ? names : [zone, ...names]);
      return zone === domain;
    });
    if (zone === undefined) throw new Error(`vultr: no matching domain found for domain ${domain}`);
    return { zone, name: relativeName(effective, zone) };
  }

  /** govultr's cursor pages (`per_page=25`, `cursor=<meta.links.next>`), until `enough` or the last page. */
  async #list(path: string[], key: string, enough: (page: unknown[]) => boolean): Promise<unknown[]> {
    const out: unknown[] = [];
    let cursor = '';
    for (;;) {
      const query: Record<string, string> = { per_page: PER_PAGE };
      if (cursor !== '') query['cursor'] = cursor;
      const body = await this.#call('GET', path, query);
      const page = arrayField(body, key) ?? [];
      out.push(...page);
      if (enough(page)) return out;
      cursor = stringField(asObject(asObject(body)?.['meta'])?.['links'], 'next') ?? '';
      if (cursor === '') return out;
    }
  }

  #call(method: ApiMethod, path: string[], query?: Record<string, string>, body?: unknown): Promise<unknown> {
    const url = apiUrl(this.#o.baseUrl, ['v2', ...path], query);
    // govultr's NewRequest; Vultr's errors: {"error":"…","status":…}.
    return bearerJsonCall(this.#o.api, method, url, this.#o.apiKey, body, (b) => stringField(b, 'error'));
  }
}

/**
 * lego's VULTR_API_KEY, VULTR_TTL (120), the timeouts (lego's defaults: 60 s, 2 s; HTTP 30 s),
 * and ours, VULTR_API_URL (default https://api.vultr.com; `/v2` is added).
 */
export function vultrFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const apiKey = vars.require('VULTR_API_KEY', 'vultr');
  const ttl = vars.integer('VULTR_TTL', DEFAULT_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'vultr',
    prefix: 'VULTR',
    apiUrlVar: 'VULTR_API_URL',
    defaultApi: VULTR_API,
    httpTimeoutS: 30,
    propagationS: 60,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () => new VultrDnsProvider({ api: s.api, baseUrl: s.baseUrl, apiKey, ttl, zones: ctx.zones }),
  };
}
