/**
 * lego's `duckdns` DNS provider (providers/dns/duckdns, internal/client.go), against DuckDNS's
 * update URL (https://www.duckdns.org/spec.jsp): one `GET
 * <url>?clear=false&domains=<domain>&token=<token>&txt=<value>` sets the single TXT record
 * DuckDNS keeps for a domain and every name below it; cleanup sends `clear=true&txt=`. The answer
 * must be the body `OK`. The domain is the record's name (its CNAME followed) cut to
 * `<name>.duckdns.org`, or for another name its last label, as lego's getMainDomain does.
 */
import { type ApiClient, excerpt } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { unFqdn, type ZoneLocator } from './dns01-zone.ts';

export const DUCKDNS_API = 'https://www.duckdns.org/update';

export interface DuckDnsOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly token: string;
  readonly zones: ZoneLocator;
}

export class DuckDnsProvider implements Dns01Provider {
  readonly #o: DuckDnsOptions;

  constructor(opts: DuckDnsOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    await this.#update(await this.#o.zones.follow(fqdn, signal), value, false);
  }

  async cleanup(fqdn: string, _value: string): Promise<void> {
    await this.#update(await this.#o.zones.follow(fqdn), '', true);
  }

  async #update(fqdn: string, txt: string, clear: boolean): Promise<void> {
    const domain = duckDnsMainDomain(fqdn);
    if (domain === '') throw new Error(`duckdns: unable to find the main domain for: ${unFqdn(fqdn)}`);
    const url = new URL(this.#o.baseUrl);
    // Go's url.Values.Encode: the keys in order.
    const query = new URLSearchParams(url.search);
    query.set('domains', domain);
    query.set('token', this.#o.token);
    query.set('clear', String(clear));
    query.set('txt', txt);
    query.sort();
    url.search = query.toString();
    const res = await this.#o.api.send({ method: 'GET', url });
    if (res.text !== 'OK') {
      // lego's message quotes the URL, token included; ours does not.
      throw new Error(
        `duckdns: request to change TXT record for DuckDNS returned the following result (${excerpt(res.text)}) this does not match expectation (OK) (status ${res.status}, domain ${domain})`,
      );
    }
  }
}

/** lego's getMainDomain: `<x>.duckdns.org` for a name under duckdns.org, else the last label. */
export function duckDnsMainDomain(fqdn: string): string {
  const domain = unFqdn(fqdn);
  const labels = domain.split('.');
  if (domain.toLowerCase().endsWith('duckdns.org')) {
    return labels.length < 3 ? '' : labels.slice(-3).join('.');
  }
  return labels[labels.length - 1] ?? '';
}

/** lego's DUCKDNS_TOKEN, the timeouts (60 s, 2 s; HTTP 30 s), and ours, DUCKDNS_API_URL. */
export function duckDnsFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const token = vars.require('DUCKDNS_TOKEN', 'duckdns');
  const s = apiSettings(vars, ctx, {
    provider: 'duckdns',
    prefix: 'DUCKDNS',
    apiUrlVar: 'DUCKDNS_API_URL',
    defaultApi: DUCKDNS_API,
    httpTimeoutS: 30,
    propagationS: 60,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () => new DuckDnsProvider({ api: s.api, baseUrl: s.baseUrl, token, zones: ctx.zones }),
  };
}
