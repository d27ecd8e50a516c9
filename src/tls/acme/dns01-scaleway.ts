/**
 * lego's `scaleway` DNS provider (providers/dns/scaleway with scaleway-sdk-go's domain v2beta1
 * API), `X-Auth-Token: <secret key>`. No zone lookup: lego names the record's (CNAME-followed)
 * absolute name as the DNS zone and lets Scaleway find the zone it belongs to (`"disallow_new_zone_creation":true`).
 * `present` is `PATCH /domain/v2beta1/dns-zones/<name.>/records`
 * `{"changes":[{"add":{"records":[{"data":"\"<value>\"","name":<name.>,"priority":0,"ttl":60,
 * "type":"TXT","comment":"used by lego","id":""}]}}],"return_all_records":false,
 * "disallow_new_zone_creation":true,"serial":null}`; `cleanup` is the same call with
 * `{"delete":{"id_fields":{"name","type":"TXT","data":"\"<value>\"","ttl":null}}}`. Errors are
 * `{"message",…}`.
 */
import { type ApiClient, asObject, excerpt, parseJson, stringField } from './dns01-api.ts';
import {
  type ApiProviderContext,
  type ApiProviderSetup,
  apiSettings,
  prefixedName,
} from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import type { ZoneLocator } from './dns01-zone.ts';

export const SCALEWAY_API = 'https://api.scaleway.com';
/** lego's minTTL: the default, and what a lower SCALEWAY_TTL becomes. */
const MIN_TTL = 60;

export interface ScalewayOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly secretKey: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

export class ScalewayDnsProvider implements Dns01Provider {
  readonly #o: ScalewayOptions;

  constructor(opts: ScalewayOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const name = await this.#o.zones.follow(fqdn, signal);
    // The SDK's Record, every field but the optional configs, in its order.
    const record = {
      data: JSON.stringify(value),
      name,
      priority: 0,
      ttl: this.#o.ttl,
      type: 'TXT',
      comment: 'used by lego',
      id: '',
    };
    await this.#update(name, { add: { records: [record] } });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const name = await this.#o.zones.follow(fqdn);
    await this.#update(name, {
      delete: { id_fields: { name, type: 'TXT', data: JSON.stringify(value), ttl: null } },
    });
  }

  async #update(zone: string, change: unknown): Promise<void> {
    const url = new URL(this.#o.baseUrl);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/domain/v2beta1/dns-zones/${zone}/records`;
    const req = {
      method: 'PATCH' as const,
      url,
      headers: {
        'x-auth-token': this.#o.secretKey,
        'content-type': 'application/json',
        'user-agent': "Scaleway Lego's provider",
      },
      body: JSON.stringify({
        changes: [change],
        return_all_records: false,
        disallow_new_zone_creation: true,
        serial: null,
      }),
    };
    const res = await this.#o.api.send(req);
    if (res.status < 200 || res.status > 299) {
      const message = stringField(asObject(parseJson(res.text)), 'message');
      throw this.#o.api.statusError(req, res, message ?? excerpt(res.text));
    }
  }
}

/**
 * lego's SCW_SECRET_KEY (or SCALEWAY_API_TOKEN), SCALEWAY_TTL (60; lower is raised to 60), the
 * timeouts (120 s, 10 s), each also as `SCW_…`; SCW_ACCESS_KEY and SCALEWAY_PROJECT_ID are read
 * by lego for the SDK and not used by these calls. Ours: SCALEWAY_API_URL (default
 * https://api.scaleway.com) and SCALEWAY_HTTP_TIMEOUT (30 s).
 */
export function scalewayFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const known = vars.problems.length;
  const secretKey = vars.first(['SCW_SECRET_KEY', 'SCALEWAY_API_TOKEN']);
  // An unreadable …_FILE has been reported already.
  if (secretKey === '' && vars.problems.length === known) {
    vars.problems.push(
      'the scaleway provider needs the environment variable SCW_SECRET_KEY or SCALEWAY_API_TOKEN (or …_FILE)',
    );
  }
  const ttl = Math.max(MIN_TTL, vars.integer(prefixedName(vars, 'SCALEWAY', 'TTL', 'SCW'), MIN_TTL));
  const s = apiSettings(vars, ctx, {
    provider: 'scaleway',
    prefix: 'SCALEWAY',
    fallbackPrefix: 'SCW',
    apiUrlVar: 'SCALEWAY_API_URL',
    defaultApi: SCALEWAY_API,
    httpTimeoutS: 30,
    propagationS: 120,
    pollingS: 10,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new ScalewayDnsProvider({ api: s.api, baseUrl: s.baseUrl, secretKey, ttl, zones: ctx.zones }),
  };
}
