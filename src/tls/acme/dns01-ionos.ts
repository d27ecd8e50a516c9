/**
 * lego's `ionos` DNS provider (providers/dns/ionos over providers/dns/internal/ionos), against
 * IONOS's Hosting DNS API (https://developer.hosting.ionos.com/docs/dns), `X-Api-Key:
 * <IONOS_API_KEY>`. The zone is the longest IONOS zone the record's name ends with (`GET
 * /v1/zones`; no SOA lookup); `present` reads the TXT records below the name (`GET
 * /v1/zones/<id>?recordType=TXT&suffix=<name>`) and `PATCH /v1/zones/<id>` with them and ours
 * (IONOS replaces the records of each name and type with the ones sent); `cleanup` deletes
 * (`DELETE /v1/zones/<id>/records/<record id>`) the record at the name whose content is our value
 * quoted, as IONOS answers TXT contents (none: an error, as in lego). Only 200 is a success; an
 * error body is `[{"code","message"}]`.
 */
import {
  type ApiClient,
  type ApiMethod,
  apiUrl,
  arrayField,
  asObject,
  excerpt,
  parseJson,
  stringField,
} from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { longestSuffixZone, unFqdn, type ZoneLocator } from './dns01-zone.ts';

export const IONOS_API = 'https://api.hosting.ionos.com/dns';
/** lego's MinTTL: the default and the floor. */
const MIN_TTL = 300;

export interface IonosOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly apiKey: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

/** lego's ionos Record, in its field order, zero values left out (`omitempty`). */
const RECORD_FIELDS = ['id', 'name', 'content', 'ttl', 'type', 'prio', 'disabled'] as const;

export class IonosDnsProvider implements Dns01Provider {
  readonly #o: IonosOptions;

  constructor(opts: IonosOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const { zoneId, name, records } = await this.#records(fqdn, signal);
    // The records read go back as lego's Record type re-encodes them: its fields only.
    const kept = records.map((r) => {
      const o = asObject(r) ?? {};
      const out: Record<string, unknown> = {};
      for (const k of RECORD_FIELDS)
        if (o[k] !== undefined && o[k] !== '' && o[k] !== 0 && o[k] !== false) out[k] = o[k];
      return out;
    });
    await this.#call('PATCH', ['v1', 'zones', zoneId], undefined, [
      ...kept,
      { name, content: value, ttl: this.#o.ttl, type: 'TXT' },
    ]);
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const { zoneId, name, records } = await this.#records(fqdn);
    // IONOS answers TXT contents quoted (lego compares with strconv.Quote of the value).
    const ours = records.find(
      (r) => stringField(r, 'name') === name && stringField(r, 'content') === JSON.stringify(value),
    );
    const id = stringField(ours, 'id');
    if (id === undefined) {
      throw new Error(
        `ionos: failed to remove record, record not found (zone=${zoneId}, fqdn=${fqdn}, value=${value})`,
      );
    }
    await this.#call('DELETE', ['v1', 'zones', zoneId, 'records', id]);
  }

  async #records(
    fqdn: string,
    signal?: AbortSignal,
  ): Promise<{ zoneId: string; name: string; records: unknown[] }> {
    const name = unFqdn(await this.#o.zones.follow(fqdn, signal));
    const listed = await this.#call('GET', ['v1', 'zones']);
    const zones = Array.isArray(listed) ? listed : [];
    const zoneName = longestSuffixZone(
      name,
      zones.map((z) => stringField(z, 'name') ?? ''),
    );
    const zoneId = stringField(
      zones.find((z) => stringField(z, 'name') === zoneName),
      'id',
    );
    if (zoneId === undefined) throw new Error(`ionos: no matching zone found for domain ${name}`);
    // go-querystring's fields, encoded by url.Values (sorted).
    const zone = await this.#call('GET', ['v1', 'zones', zoneId], { recordType: 'TXT', suffix: name });
    return { zoneId, name, records: arrayField(zone, 'records') ?? [] };
  }

  async #call(
    method: ApiMethod,
    path: string[],
    query?: Record<string, string>,
    body?: unknown,
  ): Promise<unknown> {
    const url = apiUrl(this.#o.baseUrl, path, query);
    const headers: Record<string, string> = { 'x-api-key': this.#o.apiKey };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = {
      method,
      url,
      headers,
      ...(body === undefined ? {} : { body: `${JSON.stringify(body)}\n` }),
    };
    const res = await this.#o.api.send(req);
    const parsed = parseJson(res.text);
    if (res.status !== 200) {
      // lego's ClientError: `[{"code","message"}]` as "code: message, …".
      const errors = Array.isArray(parsed) ? parsed : undefined;
      const detail = errors
        ?.map((e) => `${stringField(e, 'code') ?? ''}: ${stringField(e, 'message') ?? ''}`)
        .join(', ');
      throw this.#o.api.statusError(req, res, detail ?? excerpt(res.text));
    }
    return parsed;
  }
}

/**
 * lego's IONOS_API_KEY, IONOS_TTL (300, at least 300), the timeouts (900 s, 2 s; HTTP 30 s),
 * and ours, IONOS_API_URL (default https://api.hosting.ionos.com/dns).
 */
export function ionosFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const apiKey = vars.require('IONOS_API_KEY', 'ionos');
  const ttl = vars.integer('IONOS_TTL', MIN_TTL, MIN_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'ionos',
    prefix: 'IONOS',
    apiUrlVar: 'IONOS_API_URL',
    defaultApi: IONOS_API,
    httpTimeoutS: 30,
    propagationS: 900,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () => new IonosDnsProvider({ api: s.api, baseUrl: s.baseUrl, apiKey, ttl, zones: ctx.zones }),
  };
}
