/**
 * lego's `dnsimple` DNS provider (providers/dns/dnsimple with dnsimple-go), against DNSimple's API
 * v2 (https://developer.dnsimple.com/v2/), `Authorization: Bearer <DNSIMPLE_OAUTH_TOKEN>` (an
 * account token: `GET /v2/whoami` must name an account, asked before each call as lego does).
 * The zone is the SOA's, checked with `GET /v2/<account>/zones/<zone>`; `present` is `POST
 * /v2/<account>/zones/<zone>/records` `{"type":"TXT","name":<name relative to the zone>,
 * "content":<value>,"ttl":120}`; `cleanup` lists `GET …/records?name=<name>&type=TXT` and deletes
 * (`DELETE /v2/<account>/zones/<zone id>/records/<id>`) the record holding the value. Errors are
 * `{"message",…}`.
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
import { relativeName, unFqdn, type ZoneLocator } from './dns01-zone.ts';

export const DNSIMPLE_API = 'https://api.dnsimple.com';
/** lego's dns01.DefaultTTL. */
const DEFAULT_TTL = 120;

export interface DnsimpleOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly token: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

export class DnsimpleDnsProvider implements Dns01Provider {
  readonly #o: DnsimpleOptions;

  constructor(opts: DnsimpleOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const { zone, name } = await this.#where(fqdn, signal);
    const account = await this.#account();
    await this.#call('POST', [account, 'zones', zone, 'records'], undefined, {
      type: 'TXT',
      name,
      content: value,
      ...(this.#o.ttl === 0 ? {} : { ttl: this.#o.ttl }),
    });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const { zone, name } = await this.#where(fqdn);
    let account = await this.#account();
    const listed = await this.#call('GET', [account, 'zones', zone, 'records'], { name, type: 'TXT' });
    account = await this.#account();
    // lego deletes every TXT record at the name; we delete ours only, so that a wildcard's
    // record and its base name's (two values at one name) are withdrawn one at a time.
    for (const r of arrayField(listed, 'data') ?? []) {
      if (stringField(r, 'content') !== value) continue;
      await this.#call('DELETE', [
        account,
        'zones',
        stringField(r, 'zone_id') ?? zone,
        'records',
        stringField(r, 'id') ?? '',
      ]);
    }
  }

  /** lego's getHostedZone (the SOA's zone, which DNSimple must hold) and ExtractSubDomain. */
  async #where(fqdn: string, signal?: AbortSignal): Promise<{ zone: string; name: string }> {
    const where = await this.#o.zones.locate(fqdn, signal);
    const account = await this.#account();
    const found = await this.#call('GET', [account, 'zones', unFqdn(where.zone)]);
    const data = asObject(asObject(found)?.['data']);
    const zone = stringField(data, 'name');
    if (zone === undefined || stringField(data, 'id') === undefined || stringField(data, 'id') === '0') {
      throw new Error(`dnsimple: zone ${where.zone} not found in DNSimple for domain ${where.fqdn}`);
    }
    return { zone, name: relativeName(where.fqdn, zone) };
  }

  /** lego's getAccountID: GET /v2/whoami; a user token (no account) is refused. */
  async #account(): Promise<string> {
    const body = await this.#call('GET', ['whoami']);
    const id = stringField(asObject(asObject(body)?.['data'])?.['account'], 'id');
    if (id === undefined)
      throw new Error('dnsimple: user tokens are not supported, please use an account token');
    return id;
  }

  #call(method: ApiMethod, path: string[], query?: Record<string, string>, body?: unknown): Promise<unknown> {
    const url = apiUrl(this.#o.baseUrl, ['v2', ...path], query);
    // dnsimple-go's NewRequest.
    return bearerJsonCall(this.#o.api, method, url, this.#o.token, body, (b) => stringField(b, 'message'));
  }
}

/**
 * lego's DNSIMPLE_OAUTH_TOKEN, DNSIMPLE_BASE_URL (default https://api.dnsimple.com; `/v2` is
 * added), DNSIMPLE_TTL (120), the timeouts (60 s, 2 s); DNSIMPLE_HTTP_TIMEOUT (30 s) is ours.
 */
export function dnsimpleFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const token = vars.require('DNSIMPLE_OAUTH_TOKEN', 'dnsimple');
  const ttl = vars.integer('DNSIMPLE_TTL', DEFAULT_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'dnsimple',
    prefix: 'DNSIMPLE',
    apiUrlVar: 'DNSIMPLE_BASE_URL',
    defaultApi: DNSIMPLE_API,
    httpTimeoutS: 30,
    propagationS: 60,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () => new DnsimpleDnsProvider({ api: s.api, baseUrl: s.baseUrl, token, ttl, zones: ctx.zones }),
  };
}
