/**
 * lego's `infomaniak` DNS provider (providers/dns/infomaniak, lego v5 as Traefik v3.6 ships it),
 * against Infomaniak's API v2 (https://developer.infomaniak.com/docs/api), `Authorization: Bearer
 * <INFOMANIAK_ACCESS_TOKEN>`. The zone is the first of the record's (CNAME-followed) name and the
 * names above it that `GET /2/zones/<name>/exists` says exists (`{"result":"success","data":true}`;
 * an `object_not_found` error is a no; no SOA lookup); `present` is `POST
 * /2/zones/<zone>/records?with=idn` `{"source":<name relative to the zone>,"target":<value>,
 * "ttl":300,"type":"TXT"}`, whose answer's `data.id` `cleanup` deletes (`DELETE
 * /2/zones/<zone>/records/<id>`). A `result` other than `success` or a status other than 2xx is
 * an error: `<result>: [<code>] <description> (<code>: <description>)…`.
 */
import {
  type ApiClient,
  type ApiMethod,
  apiUrl,
  asObject,
  excerpt,
  parseJson,
  stringField,
} from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { namesUpward, relativeName, type ZoneLocator } from './dns01-zone.ts';

export const INFOMANIAK_API = 'https://api.infomaniak.com';
const DEFAULT_TTL = 300;

export interface InfomaniakOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly token: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

export class InfomaniakDnsProvider implements Dns01Provider {
  readonly #o: InfomaniakOptions;
  readonly #records = new Map<string, { zone: string; id: string }>();

  constructor(opts: InfomaniakOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const effective = await this.#o.zones.follow(fqdn, signal);
    const zone = await this.#findZone(effective);
    const created = await this.#call(
      'POST',
      ['2', 'zones', zone, 'records'],
      { with: 'idn' },
      {
        source: relativeName(effective, zone),
        target: value,
        ...(this.#o.ttl === 0 ? {} : { ttl: this.#o.ttl }),
        type: 'TXT',
      },
    );
    const id = stringField(asObject(created)?.['data'], 'id');
    if (id === undefined) throw new Error('infomaniak: create record: no id in the answer');
    this.#records.set(`${fqdn}\n${value}`, { zone, id });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const key = `${fqdn}\n${value}`;
    const r = this.#records.get(key);
    if (r === undefined) return;
    await this.#call('DELETE', ['2', 'zones', r.zone, 'records', r.id]);
    this.#records.delete(key);
  }

  /** lego's findZone: GET /2/zones/<name>/exists for the name, then each name above it. */
  async #findZone(fqdn: string): Promise<string> {
    for (const name of namesUpward(fqdn)) {
      const body = await this.#call(
        'GET',
        ['2', 'zones', name, 'exists'],
        undefined,
        undefined,
        'object_not_found',
      );
      if (body !== NOT_FOUND && asObject(body)?.['data'] === true) return name;
    }
    throw new Error(`infomaniak: zone not found for domain: ${fqdn}`);
  }

  async #call(
    method: ApiMethod,
    path: string[],
    query?: Record<string, string>,
    body?: unknown,
    absentCode?: string,
  ): Promise<unknown> {
    const url = apiUrl(this.#o.baseUrl, path, query);
    const headers: Record<string, string> = { authorization: `Bearer ${this.#o.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = {
      method,
      url,
      headers,
      ...(body === undefined ? {} : { body: `${JSON.stringify(body)}\n` }),
    };
    const res = await this.#o.api.send(req);
    const parsed = parseJson(res.text);
    const result = stringField(parsed, 'result');
    const error = asObject(asObject(parsed)?.['error']);
    const ok = res.status >= 200 && res.status <= 299;
    if (ok && result === 'success') return parsed;
    if (absentCode !== undefined && stringField(error, 'code') === absentCode) return NOT_FOUND;
    if (!ok && result === undefined) throw this.#o.api.statusError(req, res, excerpt(res.text));
    throw this.#o.api.statusError(req, res, `${result ?? ''}: ${describe(error)}`);
  }
}

const NOT_FOUND: unique symbol = Symbol('not found');

/** lego's APIError.Error: `[code] description`, then ` (code: description)` for each detail. */
function describe(error: Record<string, unknown> | undefined): string {
  if (error === undefined) return 'no error given';
  let msg = `[${stringField(error, 'code') ?? ''}] ${stringField(error, 'description') ?? ''}`;
  const details = error['errors'];
  if (Array.isArray(details)) {
    for (const d of details)
      msg += ` (${stringField(d, 'code') ?? ''}: ${stringField(d, 'description') ?? ''})`;
  }
  return msg;
}

/**
 * lego's INFOMANIAK_ACCESS_TOKEN, INFOMANIAK_ENDPOINT (its base URL, default
 * https://api.infomaniak.com), INFOMANIAK_TTL (300), the timeouts (120 s, 10 s; HTTP 30 s).
 */
export function infomaniakFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const token = vars.require('INFOMANIAK_ACCESS_TOKEN', 'infomaniak');
  const ttl = vars.integer('INFOMANIAK_TTL', DEFAULT_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'infomaniak',
    prefix: 'INFOMANIAK',
    apiUrlVar: 'INFOMANIAK_ENDPOINT',
    defaultApi: INFOMANIAK_API,
    httpTimeoutS: 30,
    propagationS: 120,
    pollingS: 10,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new InfomaniakDnsProvider({ api: s.api, baseUrl: s.baseUrl, token, ttl, zones: ctx.zones }),
  };
}
