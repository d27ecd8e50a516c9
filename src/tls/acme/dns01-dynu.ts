/**
 * lego's `dynu` DNS provider (providers/dns/dynu and its internal client), against Dynu's API v2
 * (https://www.dynu.com/Support/API), `API-Key: <DYNU_API_KEY>`. The root domain is Dynu's answer
 * to `GET /v2/dns/getroot/<record name>` (no SOA lookup); `present` reads `GET
 * /v2/dns/record/<record name>?recordType=TXT` (nothing to do when the value is there) and adds
 * `POST /v2/dns/<domain id>/record` `{"recordType":"TXT","domainName","nodeName":<name relative to
 * the root domain>,"hostname","state":true,"textData":<value>,"ttl":300}`; `cleanup` deletes
 * (`DELETE /v2/dns/<domain id>/record/<id>`) the records at the name holding the value. Answers
 * carry a `statusCode`; one outside 2xx is an error (`<code>: <type>: <message>`).
 */
import {
  type ApiClient,
  type ApiMethod,
  apiUrl,
  arrayField,
  asObject,
  excerpt,
  parseJson,
  stringField,
} from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { relativeName, unFqdn, type ZoneLocator } from './dns01-zone.ts';

export const DYNU_API = 'https://api.dynu.com/v2';
const DEFAULT_TTL = 300;

export interface DynuOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly apiKey: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

export class DynuDnsProvider implements Dns01Provider {
  readonly #o: DynuOptions;

  constructor(opts: DynuOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const hostname = unFqdn(await this.#o.zones.follow(fqdn, signal));
    const root = await this.#call('GET', ['dns', 'getroot', hostname]);
    const records = await this.#records(hostname);
    if (records.some((r) => stringField(r, 'hostname') === hostname && stringField(r, 'textData') === value))
      return;
    const domainName = stringField(root, 'domainName') ?? '';
    // lego's DNSRecord, empty fields left out (`omitempty`), in its field order.
    await this.#call('POST', ['dns', stringField(root, 'id') ?? '', 'record'], {
      recordType: 'TXT',
      domainName,
      nodeName: relativeName(hostname, domainName),
      hostname,
      state: true,
      textData: value,
      ...(this.#o.ttl === 0 ? {} : { ttl: this.#o.ttl }),
    });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const hostname = unFqdn(await this.#o.zones.follow(fqdn));
    const root = await this.#call('GET', ['dns', 'getroot', hostname]);
    for (const r of await this.#records(hostname)) {
      if (stringField(r, 'hostname') !== hostname || stringField(r, 'textData') !== value) continue;
      await this.#call('DELETE', [
        'dns',
        stringField(root, 'id') ?? '',
        'record',
        stringField(r, 'id') ?? '',
      ]);
    }
  }

  async #records(hostname: string): Promise<unknown[]> {
    return (
      arrayField(
        await this.#call('GET', ['dns', 'record', hostname], undefined, { recordType: 'TXT' }),
        'dnsRecords',
      ) ?? []
    );
  }

  async #call(
    method: ApiMethod,
    path: string[],
    body?: unknown,
    query?: Record<string, string>,
  ): Promise<unknown> {
    const url = apiUrl(this.#o.baseUrl, path, query);
    const req = {
      method,
      url,
      headers: { 'api-key': this.#o.apiKey, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    };
    const res = await this.#o.api.send(req);
    const parsed = asObject(parseJson(res.text));
    if (parsed === undefined) throw this.#o.api.statusError(req, res, `not JSON: ${excerpt(res.text)}`);
    // Dynu's answers hold their status; an exception is the answer itself or its `exception`.
    const status = Number(parsed['statusCode'] ?? res.status);
    if (Math.floor(status / 100) !== 2 || res.status < 200 || res.status > 299) {
      const e = asObject(parsed['exception']) ?? parsed;
      throw this.#o.api.statusError(
        req,
        res,
        `API error: ${stringField(e, 'statusCode') ?? status}: ${stringField(e, 'type') ?? ''}: ${stringField(e, 'message') ?? ''}`,
      );
    }
    return parsed;
  }
}

/**
 * lego's DYNU_API_KEY, DYNU_TTL (300), the timeouts (180 s, 10 s; HTTP 30 s), and ours,
 * DYNU_API_URL (default https://api.dynu.com/v2).
 */
export function dynuFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const apiKey = vars.require('DYNU_API_KEY', 'dynu');
  const ttl = vars.integer('DYNU_TTL', DEFAULT_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'dynu',
    prefix: 'DYNU',
    apiUrlVar: 'DYNU_API_URL',
    defaultApi: DYNU_API,
    httpTimeoutS: 30,
    propagationS: 180,
    pollingS: 10,
  });
  return {
    timeouts: s.timeouts,
    provider: () => new DynuDnsProvider({ api: s.api, baseUrl: s.baseUrl, apiKey, ttl, zones: ctx.zones }),
  };
}
