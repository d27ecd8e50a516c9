/**
 * lego's `namesilo` DNS provider (providers/dns/namesilo with nrdcg/namesilo), against NameSilo's
 * API (https://www.namesilo.com/api-reference): every operation a `GET /api/<operation>` whose
 * query carries `key`, `type=xml`, `version=1` and the operation's parameters (sorted, as Go's
 * url.Values encodes them), answered `<namesilo><reply><code>…</code><detail>…</detail>…`; a
 * code other than 300, 301 or 302 is an error. The zone is the SOA's; `present` is
 * `dnsAddRecord?domain=<zone>&rrdistance=0&rrhost=<name relative to the zone>&rrttl=3600&rrtype=TXT&rrvalue=<value>`;
 * `cleanup` lists `dnsListRecords?domain=<zone>` and deletes (`dnsDeleteRecord?domain&rrid`) the
 * first TXT record at the name holding the value (none is an error, as in lego). The key is
 * never shown: messages omit the query.
 */
import { type ApiClient, excerpt } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { relativeName, unFqdn, type ZoneLocator } from './dns01-zone.ts';
import { elements, text } from './route53-xml.ts';

export const NAMESILO_API = 'https://www.namesilo.com/api';
/** lego's defaultTTL (also its floor) and maxTTL. */
const DEFAULT_TTL = 3600;
const MAX_TTL = 2592000;
/** nrdcg/namesilo's successful reply codes. */
const SUCCESS = new Set(['300', '301', '302']);

export interface NamesiloOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly apiKey: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

export class NamesiloDnsProvider implements Dns01Provider {
  readonly #o: NamesiloOptions;

  constructor(opts: NamesiloOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const where = await this.#o.zones.locate(fqdn, signal);
    const zone = unFqdn(where.zone);
    await this.#call('dnsAddRecord', {
      domain: zone,
      rrtype: 'TXT',
      rrhost: relativeName(where.fqdn, zone),
      rrvalue: value,
      rrdistance: '0',
      rrttl: String(this.#o.ttl),
    });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const where = await this.#o.zones.locate(fqdn);
    const zone = unFqdn(where.zone);
    const reply = await this.#call('dnsListRecords', { domain: zone });
    const host = relativeName(where.fqdn, zone);
    for (const r of elements(reply, 'resource_record')) {
      const h = text(r, 'host');
      if (
        text(r, 'type') === 'TXT' &&
        text(r, 'value') === value &&
        (h === host || h === unFqdn(where.fqdn))
      ) {
        await this.#call('dnsDeleteRecord', { domain: zone, rrid: text(r, 'record_id') ?? '' });
        return;
      }
    }
    throw new Error(`namesilo: no TXT record to delete for ${where.fqdn} (${value})`);
  }

  /** One operation; its `<reply>`. */
  async #call(operation: string, params: Record<string, string>): Promise<string> {
    const url = new URL(`${this.#o.baseUrl.href.replace(/\/+$/, '')}/${operation}`);
    // nrdcg/namesilo's TokenTransport adds version, type and key, then url.Values.Encode sorts.
    const all: Record<string, string> = { ...params, version: '1', type: 'xml', key: this.#o.apiKey };
    for (const k of Object.keys(all).sort()) url.searchParams.set(k, all[k] ?? '');
    const req = { method: 'GET' as const, url, secretQuery: true };
    const res = await this.#o.api.send(req);
    if (res.status !== 200) throw this.#o.api.statusError(req, res);
    const reply = elements(res.text, 'reply')[0];
    if (reply === undefined) throw this.#o.api.statusError(req, res, `no reply: ${excerpt(res.text)}`);
    const code = text(reply, 'code') ?? '';
    if (!SUCCESS.has(code)) {
      throw this.#o.api.statusError(req, res, `code: ${code}, details: ${text(reply, 'detail') ?? ''}`);
    }
    return reply;
  }
}

/**
 * lego's NAMESILO_API_KEY, NAMESILO_TTL (3600, from 3600 to 2592000), the timeouts (60 s, 2 s),
 * and ours, NAMESILO_API_URL (default https://www.namesilo.com/api) and NAMESILO_HTTP_TIMEOUT (30 s).
 */
export function namesiloFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const apiKey = vars.require('NAMESILO_API_KEY', 'namesilo');
  const ttl = vars.integer('NAMESILO_TTL', DEFAULT_TTL, DEFAULT_TTL);
  if (ttl > MAX_TTL) vars.problems.push(`NAMESILO_TTL=${ttl} must be at most ${MAX_TTL}`);
  const s = apiSettings(vars, ctx, {
    provider: 'namesilo',
    prefix: 'NAMESILO',
    apiUrlVar: 'NAMESILO_API_URL',
    defaultApi: NAMESILO_API,
    httpTimeoutS: 30,
    propagationS: 60,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new NamesiloDnsProvider({ api: s.api, baseUrl: s.baseUrl, apiKey, ttl, zones: ctx.zones }),
  };
}
