/**
 * lego's `desec` DNS provider (providers/dns/desec, with nrdcg/desec's client), against deSEC's
 * REST API (https://desec.readthedocs.io/en/latest/dns/rrsets.html), `Authorization: Token
 * <DESEC_TOKEN>`, every path ending in `/`. The zone is the domain deSEC says is responsible for
 * the record (`GET /domains/?owns_qname=<name>`, after the CNAME is followed; no SOA lookup);
 * the record's TXT RRset (`GET /domains/<domain>/rrsets/<subname>/TXT/`, `@` at the apex) gets
 * the quoted value added: created with `POST /domains/<domain>/rrsets/` when the GET answers
 * 404, else `PATCH`ed with `{"records":[…]}`. Cleanup PATCHes the RRset without the value (an
 * empty set deletes it: 204). Errors are `{"detail":…}` or the raw body.
 */
import { type ApiClient, type ApiMethod, asObject, excerpt, parseJson } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { relativeName, unFqdn, type ZoneLocator } from './dns01-zone.ts';

export const DESEC_API = 'https://desec.io/api/v1/';
/** lego's defaultTTL (deSEC's minimum for most domains). */
const DEFAULT_TTL = 3600;

export interface DesecOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly token: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

interface Where {
  readonly domain: string;
  readonly subname: string;
}

export class DesecDnsProvider implements Dns01Provider {
  readonly #o: DesecOptions;

  constructor(opts: DesecOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const w = await this.#where(fqdn, signal);
    // lego quotes the value with Go's %q: deSEC takes TXT contents in zone-file syntax.
    const quoted = JSON.stringify(value);
    const existing = await this.#records(w, true);
    if (existing === undefined) {
      await this.#call('POST', [w.domain, 'rrsets'], [201], {
        domain: w.domain,
        subname: w.subname,
        type: 'TXT',
        records: [quoted],
        ttl: this.#o.ttl,
      });
      return;
    }
    await this.#call('PATCH', [w.domain, 'rrsets', w.subname || '@', 'TXT'], [200, 204], {
      records: [...existing, quoted],
    });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const w = await this.#where(fqdn);
    const quoted = JSON.stringify(value);
    const existing = (await this.#records(w, false)) ?? [];
    await this.#call('PATCH', [w.domain, 'rrsets', w.subname || '@', 'TXT'], [200, 204], {
      records: existing.filter((r) => r !== quoted),
    });
  }

  /** nrdcg/desec's Domains.GetResponsible, then lego's ExtractSubDomain. */
  async #where(fqdn: string, signal?: AbortSignal): Promise<Where> {
    const effective = await this.#o.zones.follow(fqdn, signal);
    const url = endpoint(this.#o.baseUrl, 'domains');
    url.searchParams.set('owns_qname', unFqdn(effective));
    const found = await this.#send('GET', url, [200]);
    const name = Array.isArray(found) ? asObject(found[0])?.['name'] : undefined;
    if (typeof name !== 'string' || name === '') {
      throw new Error(`desec: get responsible domain: no domain found for ${unFqdn(effective)}`);
    }
    return { domain: unFqdn(name), subname: relativeName(effective, name) };
  }

  /** The RRset's records; undefined when it does not exist (404) and `absentOk`. */
  async #records(w: Where, absentOk: boolean): Promise<string[] | undefined> {
    const url = endpoint(this.#o.baseUrl, 'domains', w.domain, 'rrsets', w.subname || '@', 'TXT');
    const body = await this.#send('GET', url, absentOk ? [200, 404] : [200]);
    if (body === NOT_FOUND) return undefined;
    const records = asObject(body)?.['records'];
    return Array.isArray(records) ? records.filter((r): r is string => typeof r === 'string') : [];
  }

  #call(method: ApiMethod, path: string[], ok: number[], body: unknown): Promise<unknown> {
    return this.#send(method, endpoint(this.#o.baseUrl, 'domains', ...path), ok, body);
  }

  async #send(method: ApiMethod, url: URL, ok: number[], body?: unknown): Promise<unknown> {
    // nrdcg/desec's newRequest: JSON content type on every request, the token scheme `Token`.
    const req = {
      method,
      url,
      headers: { authorization: `Token ${this.#o.token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: `${JSON.stringify(body)}\n` }),
    };
    const res = await this.#o.api.send(req);
    if (!ok.includes(res.status)) {
      const parsed = parseJson(res.text);
      const detail = asObject(parsed)?.['detail'];
      throw this.#o.api.statusError(req, res, typeof detail === 'string' ? detail : excerpt(res.text));
    }
    if (res.status === 404) return NOT_FOUND;
    return parseJson(res.text);
  }
}

const NOT_FOUND: unique symbol = Symbol('not found');

/** nrdcg/desec's createEndpoint: the parts under the base, then a slash (`@` left as Go leaves it). */
function endpoint(base: URL, ...parts: string[]): URL {
  const url = new URL(base);
  const path = parts.map((p) => encodeURIComponent(p).replaceAll('%40', '@')).join('/');
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}/`;
  return url;
}

/**
 * lego's DESEC_TOKEN, DESEC_TTL (3600), the timeouts (120 s, 4 s; HTTP 30 s), and ours,
 * DESEC_API_URL (default https://desec.io/api/v1/).
 */
export function desecFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const token = vars.require('DESEC_TOKEN', 'desec');
  const ttl = vars.integer('DESEC_TTL', DEFAULT_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'desec',
    prefix: 'DESEC',
    apiUrlVar: 'DESEC_API_URL',
    defaultApi: DESEC_API,
    httpTimeoutS: 30,
    propagationS: 120,
    pollingS: 4,
  });
  return {
    timeouts: s.timeouts,
    provider: () => new DesecDnsProvider({ api: s.api, baseUrl: s.baseUrl, token, ttl, zones: ctx.zones }),
  };
}
