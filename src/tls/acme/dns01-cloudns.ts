/**
 * lego's `cloudns` DNS provider (providers/dns/cloudns and its internal client), against ClouDNS's
 * HTTP API (https://www.cloudns.net/wiki/article/42/): every call carries `auth-id` (or
 * `sub-auth-id`) and `auth-password` in the query, all parameters sorted as Go's url.Values
 * encodes them, and only 200 is a success. The zone is the SOA's, which `GET
 * get-zone-info.json?domain-name=<zone>` must name; `present` is `POST
 * add-record.json?domain-name&host=<name relative to the zone>&record=<value>&record-type=TXT&ttl=<TTL
 * rounded up to one ClouDNS accepts>` (`{"status":"Success"}`), then `GET
 * update-status.json?domain-name=` every polling interval until every name server says
 * `updated` (lego's waitNameservers); `cleanup` lists `GET records.json?domain-name&host&type=TXT`
 * (an object by id, or `[]`) and deletes (`POST delete-record.json?domain-name&record-id`) the
 * record at the name holding the value. The password is never shown: messages omit the query.
 */
import {
  type ApiClient,
  type ApiMethod,
  asObject,
  excerpt,
  parseJson,
  pollUntil,
  stringField,
} from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { unFqdn, type ZoneLocator } from './dns01-zone.ts';
import { type Scheduler, systemScheduler } from './scheduler.ts';

export const CLOUDNS_API = 'https://api.cloudns.net/dns/';
const DEFAULT_TTL = 60;
/** The TTLs ClouDNS accepts (https://www.cloudns.net/wiki/article/58/); above the last, a month. */
const TTLS = [60, 300, 900, 1800, 3600, 21600, 43200, 86400, 172800, 259200, 604800, 1209600];

/** lego's ttlRounder: the first accepted TTL at or above `ttl`. */
export function cloudnsTtl(ttl: number): number {
  return TTLS.find((t) => ttl <= t) ?? 2592000;
}

export interface CloudnsOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  /** `['auth-id', id]` or `['sub-auth-id', id]`. */
  readonly auth: readonly [string, string];
  readonly password: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
  /** lego waits for the name servers with the propagation timeout and polling interval. */
  readonly syncTimeoutMs: number;
  readonly syncIntervalMs: number;
  readonly scheduler?: Scheduler;
}

export class CloudnsDnsProvider implements Dns01Provider {
  readonly #o: CloudnsOptions;

  constructor(opts: CloudnsOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const { zone, host } = await this.#where(fqdn, signal);
    await this.#status('POST', 'add-record.json', 'failed to add TXT record', {
      'domain-name': zone,
      host,
      record: value,
      ttl: String(cloudnsTtl(this.#o.ttl)),
      'record-type': 'TXT',
    });
    await pollUntil(
      this.#o.scheduler ?? systemScheduler,
      `cloudns: nameserver sync on ${zone}`,
      this.#o.syncTimeoutMs,
      this.#o.syncIntervalMs,
      async () => {
        // lego's wait.Retry retries on any error until the time is up.
        try {
          const servers = await this.#call('GET', 'update-status.json', { 'domain-name': zone });
          if (!Array.isArray(servers) || servers.length === 0) return 'no nameservers records returned';
          const updated = servers.filter((s) => asObject(s)?.['updated'] === true).length;
          return updated === servers.length ? true : `${updated}/${servers.length} updated`;
        } catch (e) {
          return (e as Error).message;
        }
      },
      signal,
    );
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const { zone, host } = await this.#where(fqdn);
    const listed = await this.#call('GET', 'records.json', { 'domain-name': zone, host, type: 'TXT' });
    // `[]` when there is none, else an object of records by id. lego deletes every TXT record at
    // the name; we delete ours only (a wildcard's and its base name's share the name).
    const records = Array.isArray(listed) ? [] : Object.values(asObject(listed) ?? {});
    for (const r of records) {
      if (
        stringField(r, 'host') !== host ||
        stringField(r, 'type') !== 'TXT' ||
        stringField(r, 'record') !== value
      )
        continue;
      await this.#status('POST', 'delete-record.json', 'failed to remove TXT record', {
        'domain-name': zone,
        'record-id': stringField(r, 'id') ?? '',
      });
    }
  }

  /** lego's GetZone (the SOA's zone, which ClouDNS must name) and the host, the name without the zone. */
  async #where(fqdn: string, signal?: AbortSignal): Promise<{ zone: string; host: string }> {
    const where = await this.#o.zones.locate(fqdn, signal);
    const zone = unFqdn(where.zone);
    const info = await this.#call('GET', 'get-zone-info.json', { 'domain-name': zone });
    if (stringField(info, 'name') !== zone) {
      throw new Error(`cloudns: zone ${zone} not found for authFQDN ${where.fqdn}`);
    }
    const name = unFqdn(where.fqdn);
    return { zone, host: unFqdn(name.endsWith(zone) ? name.slice(0, -zone.length) : name) };
  }

  /** A call answered `{"status","statusDescription"}`, whose status must be `Success`. */
  async #status(
    method: ApiMethod,
    endpoint: string,
    what: string,
    params: Record<string, string>,
  ): Promise<void> {
    const body = await this.#call(method, endpoint, params);
    const status = stringField(body, 'status');
    if (status !== 'Success') {
      throw new Error(
        `cloudns: ${what}: ${status ?? ''} ${stringField(body, 'statusDescription') ?? ''}`.trimEnd(),
      );
    }
  }

  async #call(method: ApiMethod, endpoint: string, params: Record<string, string>): Promise<unknown> {
    const url = new URL(
      endpoint,
      this.#o.baseUrl.href.endsWith('/') ? this.#o.baseUrl : `${this.#o.baseUrl.href}/`,
    );
    const all: Record<string, string> = {
      ...params,
      [this.#o.auth[0]]: this.#o.auth[1],
      'auth-password': this.#o.password,
    };
    // Go's url.Values.Encode: sorted by key.
    for (const k of Object.keys(all).sort()) url.searchParams.set(k, all[k] ?? '');
    const req = { method, url, secretQuery: true };
    const res = await this.#o.api.send(req);
    if (res.status !== 200) throw this.#o.api.statusError(req, res);
    const parsed = parseJson(res.text);
    if (parsed === undefined || typeof parsed === 'symbol') {
      throw this.#o.api.statusError(req, res, `not JSON: ${excerpt(res.text)}`);
    }
    return parsed;
  }
}

/**
 * lego's CLOUDNS_AUTH_ID (else CLOUDNS_SUB_AUTH_ID) and CLOUDNS_AUTH_PASSWORD, CLOUDNS_TTL (60,
 * rounded up to an accepted TTL), the timeouts (180 s, 10 s; HTTP 30 s), and ours,
 * CLOUDNS_API_URL (default https://api.cloudns.net/dns/).
 */
export function cloudnsFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const known = vars.problems.length;
  const authId = vars.get('CLOUDNS_AUTH_ID');
  const subAuthId = authId === '' ? vars.get('CLOUDNS_SUB_AUTH_ID') : '';
  // An unreadable …_FILE has been reported already.
  if (authId === '' && subAuthId === '' && vars.problems.length === known) {
    vars.problems.push(
      'the cloudns provider needs the environment variable CLOUDNS_AUTH_ID or CLOUDNS_SUB_AUTH_ID (or …_FILE)',
    );
  }
  const password = vars.require('CLOUDNS_AUTH_PASSWORD', 'cloudns');
  const ttl = vars.integer('CLOUDNS_TTL', DEFAULT_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'cloudns',
    prefix: 'CLOUDNS',
    apiUrlVar: 'CLOUDNS_API_URL',
    defaultApi: CLOUDNS_API,
    httpTimeoutS: 30,
    propagationS: 180,
    pollingS: 10,
  });
  const auth: [string, string] = authId !== '' ? ['auth-id', authId] : ['sub-auth-id', subAuthId];
  return {
    timeouts: s.timeouts,
    provider: () =>
      new CloudnsDnsProvider({
        api: s.api,
        baseUrl: s.baseUrl,
        auth,
        password,
        ttl,
        zones: ctx.zones,
        syncTimeoutMs: s.timeouts.timeoutMs,
        syncIntervalMs: s.timeouts.intervalMs,
        ...(ctx.scheduler === undefined ? {} : { scheduler: ctx.scheduler }),
      }),
  };
}
