/**
 * lego's `njalla` DNS provider (providers/dns/njalla and its internal client), against Njalla's
 * JSON-RPC API (https://njal.la/api/): every call a `POST https://njal.la/api/1/` of
 * `{"method","params"}` with `Authorization: Njalla <NJALLA_TOKEN>`, answered 200
 * `{"jsonrpc","id","result"}` or `{"error":{"code","message"}}`. The domain is the last two labels
 * of the record's (CNAME-followed) name, the rest its name (lego's splitDomain; no SOA lookup);
 * `present` is `add-record` `{"content":<value>,"domain","name","ttl":300,"type":"TXT"}`, whose
 * answered `id` `cleanup` removes (`remove-record` `{"id","domain"}`).
 */
import { type ApiClient, asObject, excerpt, parseJson, stringField } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { unFqdn, type ZoneLocator } from './dns01-zone.ts';

export const NJALLA_API = 'https://njal.la/api/1/';
const DEFAULT_TTL = 300;

export interface NjallaOptions {
  readonly api: ApiClient;
  readonly url: URL;
  readonly token: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

/** lego's splitDomain: the last two labels, and what is before them. */
function splitDomain(fqdn: string): { domain: string; name: string } {
  const labels = unFqdn(fqdn).split('.');
  if (labels.length < 2) throw new Error(`njalla: unsupported domain: ${fqdn}`);
  return { domain: labels.slice(-2).join('.'), name: labels.slice(0, -2).join('.') };
}

export class NjallaDnsProvider implements Dns01Provider {
  readonly #o: NjallaOptions;
  readonly #records = new Map<string, { domain: string; id: string }>();

  constructor(opts: NjallaOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const { domain, name } = splitDomain(await this.#o.zones.follow(fqdn, signal));
    // lego's Record, empty fields left out (`omitempty`), in its field order.
    const result = await this.#call('add-record', {
      content: value,
      domain,
      ...(name === '' ? {} : { name }),
      ...(this.#o.ttl === 0 ? {} : { ttl: this.#o.ttl }),
      type: 'TXT',
    });
    const id = stringField(result, 'id');
    if (id === undefined) throw new Error('njalla: failed to add record: no id in the answer');
    this.#records.set(`${fqdn}\n${value}`, { domain, id });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const key = `${fqdn}\n${value}`;
    const r = this.#records.get(key);
    if (r === undefined) return;
    await this.#call('remove-record', { id: r.id, domain: r.domain });
    this.#records.delete(key);
  }

  async #call(method: string, params: Record<string, unknown>): Promise<unknown> {
    const req = {
      method: 'POST' as const,
      url: this.#o.url,
      headers: { authorization: `Njalla ${this.#o.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ method, params }),
    };
    const res = await this.#o.api.send(req);
    if (res.status !== 200) throw this.#o.api.statusError(req, res);
    const body = asObject(parseJson(res.text));
    if (body === undefined)
      throw this.#o.api.statusError(req, res, `not a JSON-RPC answer: ${excerpt(res.text)}`);
    const error = asObject(body['error']);
    if (error !== undefined) {
      throw this.#o.api.statusError(
        req,
        res,
        `code: ${stringField(error, 'code') ?? '0'}, message: ${stringField(error, 'message') ?? ''}`,
      );
    }
    return body['result'];
  }
}

/**
 * lego's NJALLA_TOKEN, NJALLA_TTL (300), the timeouts (60 s, 2 s; HTTP 30 s), and ours,
 * NJALLA_API_URL (default https://njal.la/api/1/).
 */
export function njallaFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const token = vars.require('NJALLA_TOKEN', 'njalla');
  const ttl = vars.integer('NJALLA_TTL', DEFAULT_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'njalla',
    prefix: 'NJALLA',
    apiUrlVar: 'NJALLA_API_URL',
    defaultApi: NJALLA_API,
    httpTimeoutS: 30,
    propagationS: 60,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () => new NjallaDnsProvider({ api: s.api, url: s.baseUrl, token, ttl, zones: ctx.zones }),
  };
}
