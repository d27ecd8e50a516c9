/**
 * lego's `linode` DNS provider (providers/dns/linode with linodego), against Linode's API v4
 * (https://techdocs.akamai.com/linode-api/reference/api), `Authorization: Bearer <LINODE_TOKEN>`:
 * the domain from `GET /v4/domains` with `X-Filter: {"domain":"<zone>"}`; `present` is `POST
 * /v4/domains/<id>/records` `{"type":"TXT","name":<fqdn without the dot>,"target":<value>,
 * "ttl_sec":…}`; `cleanup` lists `GET /v4/domains/<id>/records` with `X-Filter: {"type":"TXT"}`
 * (every page) and deletes the records at that name holding the value (`DELETE
 * /v4/domains/<id>/records/<record id>`). Errors come as `{"errors":[{"reason","field"}]}`.
 */
import { type ApiClient, arrayField, asObject, joinUrl, stringField } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { relativeName, unFqdn, type ZoneLocator } from './dns01-zone.ts';

export const LINODE_API = 'https://api.linode.com';
const MIN_TTL = 300;

export interface LinodeOptions {
  readonly api: ApiClient;
  /** Without the version: `/v4` is added, as linodego does. */
  readonly baseUrl: URL;
  readonly token: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

export class LinodeDnsProvider implements Dns01Provider {
  readonly #o: LinodeOptions;

  constructor(opts: LinodeOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const { id, name } = await this.#domain(fqdn, signal);
    await this.#call('POST', ['domains', id, 'records'], undefined, {
      type: 'TXT',
      name,
      target: value,
      ttl_sec: this.#o.ttl,
    });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const { id, name, relative } = await this.#domain(fqdn);
    const records = await this.#list(['domains', id, 'records'], '{"type":"TXT"}');
    for (const r of records) {
      const n = stringField(r, 'name');
      if ((n === name || n === relative) && stringField(r, 'target') === value) {
        await this.#call('DELETE', ['domains', id, 'records', stringField(r, 'id') ?? '']);
      }
    }
  }

  async #domain(fqdn: string, signal?: AbortSignal): Promise<{ id: string; name: string; relative: string }> {
    const where = await this.#o.zones.locate(fqdn, signal);
    const domains = await this.#list(['domains'], JSON.stringify({ domain: unFqdn(where.zone) }));
    const id = stringField(domains[0], 'id');
    if (id === undefined) throw new Error(`linode: domain not found: ${unFqdn(where.zone)}`);
    return { id, name: unFqdn(where.fqdn), relative: relativeName(where.fqdn, where.zone) };
  }

  /** linodego's list helper: the first page without `page`, then the others up to `pages`. */
  async #list(path: string[], filter: string): Promise<unknown[]> {
    const out: unknown[] = [];
    for (let page = 1, pages = 1; page <= pages; page++) {
      const body = await this.#call('GET', path, filter, undefined, page === 1 ? undefined : page);
      out.push(...(arrayField(body, 'data') ?? []));
      pages = Number(asObject(body)?.['pages'] ?? 1) || 1;
    }
    return out;
  }

  async #call(
    method: 'GET' | 'POST' | 'DELETE',
    path: string[],
    filter?: string,
    body?: unknown,
    page?: number,
  ): Promise<unknown> {
    const url = joinUrl(this.#o.baseUrl, 'v4', ...path);
    if (page !== undefined) url.searchParams.set('page', String(page));
    const headers: Record<string, string> = { authorization: `Bearer ${this.#o.token}` };
    if (filter !== undefined) headers['x-filter'] = filter;
    if (body !== undefined) headers['content-type'] = 'application/json';
    return this.#o.api.json(
      { method, url, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) },
      (b) => {
        const errors = arrayField(b, 'errors') ?? [];
        if (errors.length === 0) return undefined;
        return errors
          .map((e) => {
            const field = stringField(e, 'field');
            return `${field === undefined ? '' : `[${field}] `}${stringField(e, 'reason') ?? ''}`;
          })
          .join('; ');
      },
    );
  }
}

/**
 * lego's LINODE_TOKEN, LINODE_TTL (300, at least 300), the timeouts (120 s, 15 s; HTTP 30 s), and
 * linodego's LINODE_URL for the API's base (default https://api.linode.com; `/v4` is added).
 */
export function linodeFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const token = vars.require('LINODE_TOKEN', 'linode');
  const ttl = vars.integer('LINODE_TTL', MIN_TTL, MIN_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'linode',
    prefix: 'LINODE',
    apiUrlVar: 'LINODE_URL',
    defaultApi: LINODE_API,
    httpTimeoutS: 30,
    propagationS: 120,
    pollingS: 15,
  });
  return {
    timeouts: s.timeouts,
    provider: () => new LinodeDnsProvider({ api: s.api, baseUrl: s.baseUrl, token, ttl, zones: ctx.zones }),
  };
}
