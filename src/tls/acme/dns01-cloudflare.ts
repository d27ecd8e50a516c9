/**
 * lego's `cloudflare` DNS provider, against Cloudflare's API v4
 * (https://developers.cloudflare.com/api/): the zone's id from `GET /zones?name=<zone>`, then
 * `POST /zones/<id>/dns_records` `{"type":"TXT","name":…,"content":…,"ttl":…}`, and
 * `DELETE /zones/<id>/dns_records/<record id>` to clean up. Every answer is the envelope
 * `{"success":…,"errors":[{"code":…,"message":…}],"result":…}`.
 *
 * Credentials as lego reads them: an API token (`Authorization: Bearer`), optionally a second one
 * for the zone lookups (Zone:Read apart from DNS:Edit), or the account's email and global API key
 * (`X-Auth-Email`, `X-Auth-Key`), which lego prefers when both forms are set.
 */

import { type ApiClient, type ApiRequest, arrayField, asObject, joinUrl, stringField } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { unFqdn, type ZoneLocator } from './dns01-zone.ts';

export const CLOUDFLARE_API = 'https://api.cloudflare.com/client/v4';
/** Cloudflare refuses shorter TTLs (except 1, "automatic"); lego requires at least this. */
const MIN_TTL = 120;

export type CloudflareAuth =
  | { readonly kind: 'token'; readonly dnsToken: string; readonly zoneToken: string }
  | { readonly kind: 'key'; readonly email: string; readonly key: string };

export interface CloudflareOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly auth: CloudflareAuth;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

interface Presented {
  readonly zoneId: string;
  readonly recordId: string;
}

export class CloudflareDnsProvider implements Dns01Provider {
  readonly #o: CloudflareOptions;
  readonly #zoneIds = new Map<string, string>();
  readonly #records = new Map<string, Presented>();

  constructor(opts: CloudflareOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const where = await this.#o.zones.locate(fqdn, signal);
    const zoneId = await this.#zoneId(where.zone);
    const req = this.#request('POST', ['zones', zoneId, 'dns_records'], 'dns', {
      type: 'TXT',
      name: unFqdn(where.fqdn),
      content: value,
      ttl: this.#o.ttl,
    });
    const result = asObject(await this.#call(req))?.['result'];
    const recordId = stringField(result, 'id');
    if (recordId === undefined)
      throw new Error(`cloudflare: ${req.method} ${req.url.href}: no record id in the answer`);
    this.#records.set(`${fqdn}\n${value}`, { zoneId, recordId });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const key = `${fqdn}\n${value}`;
    const presented = this.#records.get(key);
    // lego removes only what it created, by the id it was given.
    if (presented === undefined) return;
    await this.#call(
      this.#request('DELETE', ['zones', presented.zoneId, 'dns_records', presented.recordId], 'dns'),
    );
    this.#records.delete(key);
  }

  async #zoneId(zone: string): Promise<string> {
    const name = unFqdn(zone);
    const known = this.#zoneIds.get(name);
    if (known !== undefined) return known;
    const req = this.#request('GET', ['zones'], 'zone');
    req.url.searchParams.set('name', name);
    req.url.searchParams.set('per_page', '50');
    const zones = arrayField(await this.#call(req), 'result') ?? [];
    const found = zones.find((z) => stringField(z, 'name') === name);
    const id = stringField(found, 'id');
    if (id === undefined) {
      throw new Error(
        `cloudflare: zone ${name} not found (the credentials see ${zones.length} zone(s) by that name)`,
      );
    }
    this.#zoneIds.set(name, id);
    return id;
  }

  #request(
    method: ApiRequest['method'],
    path: string[],
    scope: 'zone' | 'dns',
    body?: unknown,
  ): ApiRequest & { url: URL } {
    const headers: Record<string, string> = {};
    const auth = this.#o.auth;
    if (auth.kind === 'token') {
      headers['authorization'] = `Bearer ${scope === 'zone' ? auth.zoneToken : auth.dnsToken}`;
    } else {
      headers['x-auth-email'] = auth.email;
      headers['x-auth-key'] = auth.key;
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    return {
      method,
      url: joinUrl(this.#o.baseUrl, ...path),
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    };
  }

  /** One call: a 2xx answer whose envelope says `success`, else an error with Cloudflare's messages. */
  async #call(req: ApiRequest): Promise<unknown> {
    const body = await this.#o.api.json(req, cloudflareErrors);
    if (asObject(body)?.['success'] !== true) {
      throw new Error(
        `cloudflare: ${req.method} ${req.url.href}: ${cloudflareErrors(body) ?? 'the answer is not a success'}`,
      );
    }
    return body;
  }
}

/** `code: message` of each error in Cloudflare's envelope. */
function cloudflareErrors(body: unknown): string | undefined {
  const errors = arrayField(body, 'errors');
  if (errors === undefined || errors.length === 0) return undefined;
  return errors.map((e) => `${stringField(e, 'code') ?? '?'}: ${stringField(e, 'message') ?? ''}`).join('; ');
}

/**
 * lego's variables: `CLOUDFLARE_EMAIL`/`CF_API_EMAIL` with `CLOUDFLARE_API_KEY`/`CF_API_KEY`, else
 * `CLOUDFLARE_DNS_API_TOKEN`/`CF_DNS_API_TOKEN` and optionally `CLOUDFLARE_ZONE_API_TOKEN`/
 * `CF_ZONE_API_TOKEN` (each also as `…_FILE`). `CLOUDFLARE_API_URL` (ours) points the provider at
 * another API base, as tests do.
 */
export function cloudflareFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const email = vars.first(['CLOUDFLARE_EMAIL', 'CF_API_EMAIL']);
  const key = vars.first(['CLOUDFLARE_API_KEY', 'CF_API_KEY']);
  const dnsToken = vars.first(['CLOUDFLARE_DNS_API_TOKEN', 'CF_DNS_API_TOKEN']);
  const zoneToken = vars.first(['CLOUDFLARE_ZONE_API_TOKEN', 'CF_ZONE_API_TOKEN']);
  let auth: CloudflareAuth | undefined;
  if (email !== '' && key !== '') auth = { kind: 'key', email, key };
  else if (dnsToken !== '')
    auth = { kind: 'token', dnsToken, zoneToken: zoneToken === '' ? dnsToken : zoneToken };
  else {
    vars.problems.push(
      'the cloudflare provider needs CF_DNS_API_TOKEN (optionally with CF_ZONE_API_TOKEN), or CF_API_EMAIL and CF_API_KEY (each also as CLOUDFLARE_…, or …_FILE)',
    );
  }
  const ttl = vars.integer('CLOUDFLARE_TTL', MIN_TTL, MIN_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'cloudflare',
    prefix: 'CLOUDFLARE',
    apiUrlVar: 'CLOUDFLARE_API_URL',
    defaultApi: CLOUDFLARE_API,
    httpTimeoutS: 30,
    propagationS: 120,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new CloudflareDnsProvider({ api: s.api, baseUrl: s.baseUrl, auth: auth!, ttl, zones: ctx.zones }),
  };
}
