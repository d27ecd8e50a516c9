/**
 * lego's `digitalocean` DNS provider, against DigitalOcean's API v2
 * (https://docs.digitalocean.com/reference/api/): `POST /v2/domains/<zone>/records`
 * `{"type":"TXT","name":<fqdn>,"data":<value>,"ttl":…}` answers 201 with `{"domain_record":{"id":…}}`;
 * `DELETE /v2/domains/<zone>/records/<id>` answers 204. `Authorization: Bearer <DO_AUTH_TOKEN>`;
 * errors come as `{"id":…,"message":…}`. lego sends the record's full name with its final dot,
 * which DigitalOcean reads as absolute.
 */
import { type ApiClient, joinUrl, stringField } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { unFqdn, type ZoneLocator } from './dns01-zone.ts';

export const DIGITALOCEAN_API = 'https://api.digitalocean.com';

export interface DigitalOceanOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly token: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

export class DigitalOceanDnsProvider implements Dns01Provider {
  readonly #o: DigitalOceanOptions;
  readonly #records = new Map<string, { zone: string; id: string }>();

  constructor(opts: DigitalOceanOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const where = await this.#o.zones.locate(fqdn, signal);
    const zone = unFqdn(where.zone);
    const body = await this.#o.api.json(
      {
        method: 'POST',
        url: joinUrl(this.#o.baseUrl, 'v2', 'domains', zone, 'records'),
        headers: this.#headers(true),
        body: JSON.stringify({ type: 'TXT', name: where.fqdn, data: value, ttl: this.#o.ttl }),
      },
      doError,
    );
    const id = stringField((body as { domain_record?: unknown } | undefined)?.domain_record, 'id');
    if (id === undefined) throw new Error('digitalocean: no record id in the answer to the record creation');
    this.#records.set(`${fqdn}\n${value}`, { zone, id });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const key = `${fqdn}\n${value}`;
    const r = this.#records.get(key);
    if (r === undefined) return;
    await this.#o.api.json(
      {
        method: 'DELETE',
        url: joinUrl(this.#o.baseUrl, 'v2', 'domains', r.zone, 'records', r.id),
        headers: this.#headers(false),
      },
      doError,
    );
    this.#records.delete(key);
  }

  #headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = { authorization: `Bearer ${this.#o.token}` };
    if (json) h['content-type'] = 'application/json';
    return h;
  }
}

function doError(body: unknown): string | undefined {
  const id = stringField(body, 'id');
  const message = stringField(body, 'message');
  return message === undefined ? undefined : `${id ?? 'error'}: ${message}`;
}

/** lego's `DO_AUTH_TOKEN`, `DO_TTL` (30), `DO_API_URL`, and the timeouts (60 s, 5 s; HTTP 30 s). */
export function digitalOceanFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const token = vars.require('DO_AUTH_TOKEN', 'digitalocean');
  const ttl = vars.integer('DO_TTL', 30, 1);
  const s = apiSettings(vars, ctx, {
    provider: 'digitalocean',
    prefix: 'DO',
    apiUrlVar: 'DO_API_URL',
    defaultApi: DIGITALOCEAN_API,
    httpTimeoutS: 30,
    propagationS: 60,
    pollingS: 5,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new DigitalOceanDnsProvider({ api: s.api, baseUrl: s.baseUrl, token, ttl, zones: ctx.zones }),
  };
}
