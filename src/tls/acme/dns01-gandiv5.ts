/**
 * lego's `gandiv5` DNS provider, against Gandi's LiveDNS API (https://api.gandi.net/docs/livedns/).
 * LiveDNS stores record sets, so the value is added to the set: `GET
 * /domains/<zone>/records/<name>/TXT` (404: no set yet) for the values already there, then `PUT`
 * of the same URL with `{"rrset_ttl":…,"rrset_values":[…]}` holding them and the new one (a
 * wildcard and its base name share one record name). Cleanup `PUT`s the set back without our
 * value, or `DELETE`s it when ours was the last one (lego deletes the whole set at once, which
 * would pull the other value from under an authorization still being validated).
 * `Authorization: Bearer <personal access token>`, or `Apikey <key>` for the deprecated API key.
 * Errors come as `{"code":…,"message":…}`.
 */
import { type ApiClient, arrayField, joinUrl, stringField } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { relativeName, unFqdn, type ZoneLocator } from './dns01-zone.ts';

export const GANDI_API = 'https://api.gandi.net/v5/livedns';
/** LiveDNS refuses TTLs under 300 s; so does lego. */
const MIN_TTL = 300;

export interface GandiOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  /** The whole Authorization header value. */
  readonly authorization: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

export class GandiV5DnsProvider implements Dns01Provider {
  readonly #o: GandiOptions;
  readonly #records = new Map<string, { zone: string; name: string }>();

  constructor(opts: GandiOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const where = await this.#o.zones.locate(fqdn, signal);
    const zone = unFqdn(where.zone);
    const name = relativeName(where.fqdn, where.zone);
    const url = joinUrl(this.#o.baseUrl, 'domains', zone, 'records', name, 'TXT');
    const values = await this.#values(url);
    await this.#o.api.json(
      {
        method: 'PUT',
        url,
        headers: this.#headers(true),
        body: JSON.stringify({
          rrset_ttl: this.#o.ttl,
          rrset_values: [value, ...values.filter((v) => v !== value)],
        }),
      },
      gandiError,
    );
    this.#records.set(`${fqdn}\n${value}`, { zone, name });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const key = `${fqdn}\n${value}`;
    const r = this.#records.get(key);
    if (r === undefined) return;
    const url = joinUrl(this.#o.baseUrl, 'domains', r.zone, 'records', r.name, 'TXT');
    const others = (await this.#values(url)).filter((v) => v !== value && v !== `"${value}"`);
    this.#records.delete(key);
    await this.#o.api.json(
      others.length === 0
        ? { method: 'DELETE', url, headers: this.#headers(false) }
        : {
            method: 'PUT',
            url,
            headers: this.#headers(true),
            body: JSON.stringify({ rrset_ttl: this.#o.ttl, rrset_values: others }),
          },
      gandiError,
    );
  }

  /** The values of the set at `url`; none when it does not exist (404). */
  async #values(url: URL): Promise<string[]> {
    const res = await this.#o.api.send({ method: 'GET', url, headers: this.#headers(false) });
    if (res.status === 404) return [];
    if (res.status !== 200)
      throw this.#o.api.statusError({ method: 'GET', url }, res, gandiError(safeJson(res.text)));
    return (arrayField(safeJson(res.text), 'rrset_values') ?? []).filter(
      (v): v is string => typeof v === 'string',
    );
  }

  #headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = { authorization: this.#o.authorization };
    if (json) h['content-type'] = 'application/json';
    return h;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function gandiError(body: unknown): string | undefined {
  return stringField(body, 'message');
}

/**
 * lego's `GANDIV5_PERSONAL_ACCESS_TOKEN` (or the deprecated `GANDIV5_API_KEY`), `GANDIV5_TTL`
 * (300, at least 300), the timeouts (1200 s, 20 s; HTTP 10 s), and ours, `GANDIV5_API_URL`.
 */
export function gandiV5FromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const pat = vars.get('GANDIV5_PERSONAL_ACCESS_TOKEN');
  const key = vars.get('GANDIV5_API_KEY');
  if (pat === '' && key === '') {
    vars.problems.push(
      'the gandiv5 provider needs GANDIV5_PERSONAL_ACCESS_TOKEN (or the deprecated GANDIV5_API_KEY; each also as …_FILE)',
    );
  }
  const ttl = vars.integer('GANDIV5_TTL', MIN_TTL, MIN_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'gandiv5',
    prefix: 'GANDIV5',
    apiUrlVar: 'GANDIV5_API_URL',
    defaultApi: GANDI_API,
    httpTimeoutS: 10,
    propagationS: 1200,
    pollingS: 20,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new GandiV5DnsProvider({
        api: s.api,
        baseUrl: s.baseUrl,
        authorization: pat !== '' ? `Bearer ${pat}` : `Apikey ${key}`,
        ttl,
        zones: ctx.zones,
      }),
  };
}
