/**
 * lego's `pdns` DNS provider (providers/dns/pdns), against the PowerDNS Authoritative HTTP API
 * (https://doc.powerdns.com/authoritative/http-api/): `X-API-Key` on every request.
 *
 * - The API version is `PDNS_API_VERSION`, else the highest of `GET <url>/api` (`[{"url":
 *   "/api/v1","version":1}]`); with version N every path goes under `/api/vN`.
 * - `GET /servers/<server>/zones/<zone.>` gives the zone's `url`, `kind` and RRsets; `present`
 *   `PATCH`es that url with `{"rrsets":[{"name":<fqdn>,"type":"TXT","kind":"Master",
 *   "changetype":"REPLACE","ttl":…,"records":[…the set's records, {"content":"\"<value>\"",…}]}]}`;
 *   `cleanup` REPLACEs the set without our value, or DELETEs it when ours was the last. Each
 *   change of a Master or Slave zone is followed by `PUT <zone url>/notify` (API version 1 and on).
 * - An answer outside 2xx, or a 422 whose JSON has `error`, is an error (lego reads 422 bodies).
 */
import { type ApiClient, type ApiMethod, arrayField, asObject, parseJson, stringField } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { unFqdn, type ZoneLocator } from './dns01-zone.ts';

export interface PdnsOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly apiKey: string;
  readonly serverName: string;
  /** PDNS_API_VERSION; 0: asked of the server at the first change. */
  readonly apiVersion: number;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

/** lego's internal.Record: `name`, `type` and `ttl` are for the pre-v1 API, sent anyway. */
interface PdnsRecord {
  content: string;
  disabled: boolean;
  name: string;
  type: string;
  ttl?: number;
}

interface PdnsRRSet {
  readonly name: string;
  readonly type: string;
  readonly records: PdnsRecord[];
}

interface PdnsZone {
  readonly url: string;
  readonly kind: string;
  readonly rrsets: PdnsRRSet[];
}

export class PdnsDnsProvider implements Dns01Provider {
  readonly #o: PdnsOptions;
  #version: number;

  constructor(opts: PdnsOptions) {
    this.#o = opts;
    this.#version = opts.apiVersion;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const where = await this.#o.zones.locate(fqdn, signal);
    await this.#discoverVersion();
    const zone = await this.#zone(where.zone);
    // The pre-v1 API wants names without the final dot.
    const name = this.#version === 0 ? unFqdn(where.fqdn) : where.fqdn;
    const existing = findTxt(zone, where.fqdn);
    const record: PdnsRecord = {
      content: `"${value}"`,
      disabled: false,
      name,
      type: 'TXT',
      ...(this.#o.ttl === 0 ? {} : { ttl: this.#o.ttl }),
    };
    await this.#patch(zone, {
      name,
      type: 'TXT',
      kind: 'Master',
      changetype: 'REPLACE',
      records: [...(existing?.records ?? []).map(asRecord), record],
      ...(this.#o.ttl === 0 ? {} : { ttl: this.#o.ttl }),
    });
    await this.#notify(zone);
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const where = await this.#o.zones.locate(fqdn);
    await this.#discoverVersion();
    const zone = await this.#zone(where.zone);
    const set = findTxt(zone, where.fqdn);
    if (set === undefined) throw new Error(`pdns: no existing record found for ${where.fqdn}`);
    const left = set.records.filter((r) => r.content.replace(/^"+|"+$/g, '') !== value).map(asRecord);
    await this.#patch(zone, {
      name: set.name,
      type: set.type,
      kind: '',
      changetype: left.length === 0 ? 'DELETE' : 'REPLACE',
      ...(left.length === 0 ? {} : { records: left }),
      ...(this.#o.ttl === 0 ? {} : { ttl: this.#o.ttl }),
    });
    await this.#notify(zone);
  }

  /** lego's SetAPIVersion: the highest version `GET /api` lists. */
  async #discoverVersion(): Promise<void> {
    if (this.#version > 0) return;
    const list = await this.#call('GET', '/api');
    let latest = 0;
    for (const v of Array.isArray(list) ? list : []) {
      const n = Number(asObject(v)?.['version']);
      if (Number.isInteger(n) && n > latest) latest = n;
    }
    this.#version = latest;
  }

  async #zone(zone: string): Promise<PdnsZone> {
    const body = asObject(await this.#call('GET', `/servers/${this.#o.serverName}/zones/${unFqdn(zone)}.`));
    const url = stringField(body, 'url');
    if (url === undefined) throw new Error(`pdns: no url in the answer for the zone ${zone}`);
    let rrsets = (arrayField(body, 'rrsets') ?? []).map(rrsetOf);
    // The pre-v1 API lists records, not sets: one set per record, as lego reads them.
    const old = arrayField(body, 'records') ?? [];
    if (old.length > 0) {
      rrsets = old.map((r) => ({
        name: stringField(r, 'name') ?? '',
        type: stringField(r, 'type') ?? '',
        records: [recordOf(r)],
      }));
    }
    return { url, kind: stringField(body, 'kind') ?? '', rrsets };
  }

  async #patch(zone: PdnsZone, rrset: Record<string, unknown>): Promise<void> {
    await this.#call('PATCH', zone.url, { rrsets: [rrset] });
  }

  async #notify(zone: PdnsZone): Promise<void> {
    if (this.#version < 1 || (zone.kind !== 'Master' && zone.kind !== 'Slave')) return;
    await this.#call('PUT', `${zone.url}/notify`);
  }

  /** lego's joinPath: under `/api/v<N>` unless the path is `/api` or already under a version. */
  #url(path: string): URL {
    let p = `/${path}`.replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
    if (p !== '/api' && this.#version > 0 && !p.startsWith('/api/v')) p = `/api/v${this.#version}${p}`;
    const url = new URL(this.#o.baseUrl);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${p}`;
    return url;
  }

  async #call(method: ApiMethod, path: string, payload?: unknown): Promise<unknown> {
    const url = this.#url(path);
    const headers: Record<string, string> = { 'x-api-key': this.#o.apiKey };
    // "PowerDNS doesn't follow HTTP convention about the Content-Type header" (lego).
    if (method !== 'GET' && method !== 'DELETE') headers['content-type'] = 'application/json';
    const req = {
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { body: `${JSON.stringify(payload)}\n` }),
    };
    const res = await this.#o.api.send(req);
    const body = parseJson(res.text);
    const shortMsg = stringField(body, 'error');
    if (res.status !== 422 && (res.status < 200 || res.status > 299))
      throw this.#o.api.statusError(req, res, shortMsg);
    if (shortMsg !== undefined && shortMsg !== '')
      throw new Error(
        `pdns: ${method} ${url.pathname} answered ${res.status}: error talking to PDNS API: ${shortMsg}`,
      );
    if (typeof body === 'symbol') throw this.#o.api.statusError(req, res, 'the body is not JSON');
    return body;
  }
}

function rrsetOf(v: unknown): PdnsRRSet {
  return {
    name: stringField(v, 'name') ?? '',
    type: stringField(v, 'type') ?? '',
    records: (arrayField(v, 'records') ?? []).map(recordOf),
  };
}

function recordOf(v: unknown): PdnsRecord {
  const o = asObject(v);
  const ttl = Number(o?.['ttl']);
  return {
    content: stringField(v, 'content') ?? '',
    disabled: o?.['disabled'] === true,
    name: stringField(v, 'name') ?? '',
    type: stringField(v, 'type') ?? '',
    ...(Number.isInteger(ttl) && ttl !== 0 ? { ttl } : {}),
  };
}

/** Records sent back as lego re-encodes them (its struct's fields, in its order). */
function asRecord(r: PdnsRecord): PdnsRecord {
  return {
    content: r.content,
    disabled: r.disabled,
    name: r.name,
    type: r.type,
    ...(r.ttl === undefined ? {} : { ttl: r.ttl }),
  };
}

/** lego's findTxtRecord: the TXT set named `fqdn`, with or without its final dot. */
function findTxt(zone: PdnsZone, fqdn: string): PdnsRRSet | undefined {
  return zone.rrsets.find((s) => s.type === 'TXT' && (s.name === unFqdn(fqdn) || s.name === fqdn));
}

/**
 * lego's PDNS_API_KEY and PDNS_API_URL (required), PDNS_SERVER_NAME (localhost), PDNS_API_VERSION
 * (0: asked of the server), PDNS_TTL (120), and the timeouts (120 s, 2 s; HTTP 30 s).
 */
export function pdnsFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const apiKey = vars.require('PDNS_API_KEY', 'pdns');
  const rawUrl = vars.require('PDNS_API_URL', 'pdns');
  const serverName = vars.get('PDNS_SERVER_NAME') || 'localhost';
  const apiVersion = vars.integer('PDNS_API_VERSION', 0);
  const ttl = vars.integer('PDNS_TTL', 120);
  const s = apiSettings(vars, ctx, {
    provider: 'pdns',
    prefix: 'PDNS',
    // Required above: the default is never used.
    ...(rawUrl === '' ? {} : { apiUrlVar: 'PDNS_API_URL' }),
    defaultApi: 'http://localhost:8081',
    httpTimeoutS: 30,
    propagationS: 120,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new PdnsDnsProvider({
        api: s.api,
        baseUrl: s.baseUrl,
        apiKey,
        serverName,
        apiVersion,
        ttl,
        zones: ctx.zones,
      }),
  };
}
