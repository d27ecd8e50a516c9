/**
 * lego's `godaddy` DNS provider (providers/dns/godaddy), against GoDaddy's Domains API
 * (https://developer.godaddy.com/doc/endpoint/domains): `Authorization: sso-key <key>:<secret>`.
 * GoDaddy stores record sets: `GET /v1/domains/<zone>/records/TXT/<name>` lists the set, `PUT` of
 * the same URL replaces it with the values already there and ours (`[{"name","type":"TXT","data",
 * "ttl"}]`, as lego sends them); cleanup `PUT`s the set back without ours, or `DELETE`s it when
 * ours was the last. Only 200 is a success, as in lego's client; errors come as
 * `{"code","message","fields":[…]}`.
 */
import { type ApiClient, arrayField, asObject, joinUrl, parseJson, stringField } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { relativeName, unFqdn, type ZoneLocator } from './dns01-zone.ts';

export const GODADDY_API = 'https://api.godaddy.com';
/** lego's minTTL: GoDaddy refuses less. */
const MIN_TTL = 600;

export interface GoDaddyOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly key: string;
  readonly secret: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

/** lego's internal.DNSRecord as it marshals: `name`, `type` and `ttl` omitted when empty. */
interface GoDaddyRecord {
  name?: string;
  type?: string;
  data: string;
  ttl?: number;
  [other: string]: unknown;
}

export class GoDaddyDnsProvider implements Dns01Provider {
  readonly #o: GoDaddyOptions;

  constructor(opts: GoDaddyOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const { zone, name } = await this.#where(fqdn, signal);
    const kept = (await this.#records(zone, name)).filter((r) => r.data !== '');
    await this.#send('PUT', zone, name, [...kept, { name, type: 'TXT', data: value, ttl: this.#o.ttl }]);
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const { zone, name } = await this.#where(fqdn);
    const kept = (await this.#records(zone, name)).filter((r) => r.data !== value && r.data !== '');
    if (kept.length === 0) await this.#send('DELETE', zone, name);
    else await this.#send('PUT', zone, name, kept);
  }

  async #where(fqdn: string, signal?: AbortSignal): Promise<{ zone: string; name: string }> {
    const where = await this.#o.zones.locate(fqdn, signal);
    return { zone: unFqdn(where.zone), name: relativeName(where.fqdn, where.zone) };
  }

  async #records(zone: string, name: string): Promise<GoDaddyRecord[]> {
    const req = { method: 'GET' as const, url: this.#url(zone, name), headers: this.#headers(false) };
    const res = await this.#o.api.send(req);
    if (res.status !== 200) throw this.#o.api.statusError(req, res, godaddyError(res.text));
    const list = parseJson(res.text);
    if (!Array.isArray(list)) throw this.#o.api.statusError(req, res, 'the answer is not a list of records');
    return list.map((r) => ({ ...asObject(r), data: stringField(r, 'data') ?? '' }));
  }

  async #send(
    method: 'PUT' | 'DELETE',
    zone: string,
    name: string,
    records?: GoDaddyRecord[],
  ): Promise<void> {
    const req = {
      method,
      url: this.#url(zone, name),
      headers: this.#headers(records !== undefined),
      ...(records === undefined ? {} : { body: `${JSON.stringify(records.map(ordered))}\n` }),
    };
    const res = await this.#o.api.send(req);
    if (res.status !== 200) throw this.#o.api.statusError(req, res, godaddyError(res.text));
  }

  #url(zone: string, name: string): URL {
    return joinUrl(this.#o.baseUrl, 'v1', 'domains', zone, 'records', 'TXT', name);
  }

  #headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = { authorization: `sso-key ${this.#o.key}:${this.#o.secret}` };
    if (json) h['content-type'] = 'application/json';
    return h;
  }
}

/** The record's fields in lego's struct order, the empty ones left out as its omitempty does. */
function ordered(r: GoDaddyRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (r.name) out['name'] = r.name;
  if (r.type) out['type'] = r.type;
  out['data'] = r.data;
  if (r.ttl) out['ttl'] = r.ttl;
  for (const k of ['priority', 'port', 'protocol', 'service', 'weight']) if (r[k]) out[k] = r[k];
  return out;
}

/** GoDaddy's `{"code","message","fields":[{"code","message","path"}]}`, as lego's APIError prints it. */
function godaddyError(text: string): string | undefined {
  const body = parseJson(text);
  const message = stringField(body, 'message');
  if (message === undefined) return undefined;
  let out = `${stringField(body, 'code') ?? ''}: ${message}`;
  for (const f of arrayField(body, 'fields') ?? []) {
    out += ` ${stringField(f, 'code') ?? ''}: ${stringField(f, 'message') ?? ''}`;
    const path = stringField(f, 'path');
    if (path) out += ` (path=${path})`;
  }
  return out;
}

/**
 * lego's GODADDY_API_KEY and GODADDY_API_SECRET, GODADDY_TTL (600, at least 600), the timeouts
 * (120 s, 2 s; HTTP 30 s), and ours, GODADDY_API_URL (default https://api.godaddy.com).
 */
export function goDaddyFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const key = vars.require('GODADDY_API_KEY', 'godaddy');
  const secret = vars.require('GODADDY_API_SECRET', 'godaddy');
  const ttl = vars.integer('GODADDY_TTL', MIN_TTL, MIN_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'godaddy',
    prefix: 'GODADDY',
    apiUrlVar: 'GODADDY_API_URL',
    defaultApi: GODADDY_API,
    httpTimeoutS: 30,
    propagationS: 120,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new GoDaddyDnsProvider({ api: s.api, baseUrl: s.baseUrl, key, secret, ttl, zones: ctx.zones }),
  };
}
