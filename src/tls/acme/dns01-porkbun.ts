/**
 * lego's `porkbun` DNS provider (providers/dns/porkbun, with nrdcg/porkbun's client), against
 * Porkbun's API v3 (https://porkbun.com/api/json/v3/documentation): every call is a `POST` whose
 * JSON body carries the keys (`{"apikey","secretapikey",…}`). `POST /dns/create/<zone>` with
 * `"name":<name relative to the zone>,"type":"TXT","content","ttl":"<seconds>"` answers
 * `{"status":"SUCCESS","id":…}`; cleanup is `POST /dns/delete/<zone>/<id>`. A status other than
 * 200, or a body whose status is not SUCCESS, is an error (`status: … message: …`).
 */
import { type ApiClient, asObject, excerpt, joinUrl, parseJson, stringField } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { relativeName, unFqdn, type ZoneLocator } from './dns01-zone.ts';

export const PORKBUN_API = 'https://api.porkbun.com/api/json/v3';
/** Porkbun's minimum, lego's default and floor. */
const MIN_TTL = 300;

export interface PorkbunOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly apiKey: string;
  readonly secretApiKey: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

export class PorkbunDnsProvider implements Dns01Provider {
  readonly #o: PorkbunOptions;
  readonly #records = new Map<string, { zone: string; id: string }>();

  constructor(opts: PorkbunOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const where = await this.#o.zones.locate(fqdn, signal);
    const zone = unFqdn(where.zone);
    const body = await this.#call(['dns', 'create', zone], {
      name: relativeName(where.fqdn, where.zone),
      type: 'TXT',
      content: value,
      ttl: String(this.#o.ttl),
    });
    const id = stringField(body, 'id');
    if (id === undefined) throw new Error('porkbun: failed to create record: no id in the answer');
    this.#records.set(`${fqdn}\n${value}`, { zone, id });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const key = `${fqdn}\n${value}`;
    const r = this.#records.get(key);
    if (r === undefined) return;
    await this.#call(['dns', 'delete', r.zone, r.id]);
    this.#records.delete(key);
  }

  async #call(path: string[], fields: Record<string, string> = {}): Promise<unknown> {
    const url = joinUrl(this.#o.baseUrl, ...path);
    // nrdcg/porkbun's authRequest: the keys first, then the request's own fields.
    const body = JSON.stringify({ apikey: this.#o.apiKey, secretapikey: this.#o.secretApiKey, ...fields });
    const req = { method: 'POST' as const, url, body };
    const res = await this.#o.api.send(req);
    const parsed = parseJson(res.text);
    const status = stringField(parsed, 'status');
    const message = stringField(asObject(parsed), 'message');
    // nrdcg/porkbun: a status other than 200, or a body whose status is not SUCCESS.
    if (res.status !== 200 || status !== 'SUCCESS') {
      throw this.#o.api.statusError(
        req,
        res,
        status === undefined ? excerpt(res.text) : `status: ${status} message: ${message ?? ''}`,
      );
    }
    return parsed;
  }
}

/**
 * lego's PORKBUN_API_KEY and PORKBUN_SECRET_API_KEY, PORKBUN_TTL (300, at least 300), the
 * timeouts (600 s, 10 s; HTTP 30 s), and ours, PORKBUN_API_URL.
 */
export function porkbunFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const secretApiKey = vars.require('PORKBUN_SECRET_API_KEY', 'porkbun');
  const apiKey = vars.require('PORKBUN_API_KEY', 'porkbun');
  const ttl = vars.integer('PORKBUN_TTL', MIN_TTL, MIN_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'porkbun',
    prefix: 'PORKBUN',
    apiUrlVar: 'PORKBUN_API_URL',
    defaultApi: PORKBUN_API,
    httpTimeoutS: 30,
    propagationS: 600,
    pollingS: 10,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new PorkbunDnsProvider({ api: s.api, baseUrl: s.baseUrl, apiKey, secretApiKey, ttl, zones: ctx.zones }),
  };
}
