/**
 * lego's `ovh` DNS provider, against OVHcloud's API v1 (https://eu.api.ovh.com/console/), signed
 * as go-ovh signs: `X-Ovh-Application`, `X-Ovh-Consumer`, `X-Ovh-Timestamp` (the API's clock,
 * from `GET /auth/time` once, as a delta to ours) and `X-Ovh-Signature`, which is `$1$` and the
 * hex SHA-1 of `secret+consumerKey+METHOD+fullURL+body+timestamp`. `POST
 * /domain/zone/<zone>/record` `{"fieldType":"TXT","subDomain":…,"target":…,"ttl":…}` answers
 * the record with its `id`; `DELETE /domain/zone/<zone>/record/<id>` removes it; each change is
 * followed by `POST /domain/zone/<zone>/refresh`, which publishes the zone. `OVH_ACCESS_TOKEN`
 * (an OAuth2 token sent as `Authorization: Bearer`) replaces the signature when set.
 */
import { createHash } from 'node:crypto';
import { type ApiClient, type ApiMethod, type ApiRequest, stringField } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { relativeName, unFqdn, type ZoneLocator } from './dns01-zone.ts';

/** go-ovh's endpoint names; any other value of OVH_ENDPOINT is taken as the API's URL. */
export const OVH_ENDPOINTS: Readonly<Record<string, string>> = {
  'ovh-eu': 'https://eu.api.ovh.com/1.0',
  'ovh-ca': 'https://ca.api.ovh.com/1.0',
  'ovh-us': 'https://api.us.ovhcloud.com/1.0',
  'kimsufi-eu': 'https://eu.api.kimsufi.com/1.0',
  'kimsufi-ca': 'https://ca.api.kimsufi.com/1.0',
  'soyoustart-eu': 'https://eu.api.soyoustart.com/1.0',
  'soyoustart-ca': 'https://ca.api.soyoustart.com/1.0',
};

export type OvhCredentials =
  | {
      readonly kind: 'signed';
      readonly applicationKey: string;
      readonly applicationSecret: string;
      readonly consumerKey: string;
    }
  | { readonly kind: 'token'; readonly accessToken: string };

export interface OvhOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly credentials: OvhCredentials;
  readonly ttl: number;
  readonly zones: ZoneLocator;
  /** Seconds since the epoch (injectable for tests of the signature). */
  readonly now?: () => number;
}

export class OvhDnsProvider implements Dns01Provider {
  readonly #o: OvhOptions;
  readonly #now: () => number;
  #delta: number | undefined;
  readonly #records = new Map<string, { zone: string; id: string }>();

  constructor(opts: OvhOptions) {
    this.#o = opts;
    this.#now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const where = await this.#o.zones.locate(fqdn, signal);
    const zone = unFqdn(where.zone);
    const subDomain = relativeName(where.fqdn, where.zone);
    const created = await this.#call('POST', `/domain/zone/${zone}/record`, {
      fieldType: 'TXT',
      subDomain,
      target: value,
      ttl: this.#o.ttl,
    });
    const id = stringField(created, 'id');
    if (id === undefined)
      throw new Error(`ovh: no record id in the answer to POST /domain/zone/${zone}/record`);
    this.#records.set(`${fqdn}\n${value}`, { zone, id });
    await this.#call('POST', `/domain/zone/${zone}/refresh`);
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const key = `${fqdn}\n${value}`;
    const r = this.#records.get(key);
    if (r === undefined) return;
    await this.#call('DELETE', `/domain/zone/${r.zone}/record/${r.id}`);
    this.#records.delete(key);
    await this.#call('POST', `/domain/zone/${r.zone}/refresh`);
  }

  async #call(method: ApiMethod, path: string, body?: unknown): Promise<unknown> {
    const url = new URL(`${this.#o.baseUrl.href.replace(/\/+$/, '')}${path}`);
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    const c = this.#o.credentials;
    if (c.kind === 'token') {
      headers['authorization'] = `Bearer ${c.accessToken}`;
    } else {
      const timestamp = String(this.#now() + (await this.#timeDelta()));
      headers['x-ovh-application'] = c.applicationKey;
      headers['x-ovh-consumer'] = c.consumerKey;
      headers['x-ovh-timestamp'] = timestamp;
      headers['x-ovh-signature'] = ovhSignature(
        c.applicationSecret,
        c.consumerKey,
        method,
        url.href,
        text,
        timestamp,
      );
    }
    const req: ApiRequest = { method, url, headers, ...(body === undefined ? {} : { body: text }) };
    return this.#o.api.json(req, (b) => stringField(b, 'message'));
  }

  /** The API's clock minus ours, asked once (go-ovh does the same before its first signed call). */
  async #timeDelta(): Promise<number> {
    if (this.#delta !== undefined) return this.#delta;
    const url = new URL(`${this.#o.baseUrl.href.replace(/\/+$/, '')}/auth/time`);
    const res = await this.#o.api.send({ method: 'GET', url });
    const server = Number(res.text.trim());
    if (res.status !== 200 || !Number.isInteger(server))
      throw this.#o.api.statusError({ method: 'GET', url }, res);
    this.#delta = server - this.#now();
    return this.#delta;
  }
}

/** go-ovh's request signature. */
export function ovhSignature(
  secret: string,
  consumerKey: string,
  method: string,
  url: string,
  body: string,
  timestamp: string,
): string {
  const hash = createHash('sha1').update(`${secret}+${consumerKey}+${method}+${url}+${body}+${timestamp}`);
  return `$1$${hash.digest('hex')}`;
}

/**
 * lego's `OVH_ENDPOINT` (a name of go-ovh's, or the API's URL: how tests point it elsewhere),
 * `OVH_APPLICATION_KEY`, `OVH_APPLICATION_SECRET`, `OVH_CONSUMER_KEY`, or `OVH_ACCESS_TOKEN`;
 * `OVH_TTL` (120), the timeouts (60 s, 2 s; HTTP 180 s, go-ovh's).
 */
export function ovhFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const endpoint = vars.require('OVH_ENDPOINT', 'ovh');
  const accessToken = vars.get('OVH_ACCESS_TOKEN');
  let credentials: OvhCredentials | undefined;
  if (accessToken !== '') credentials = { kind: 'token', accessToken };
  else {
    const applicationKey = vars.require('OVH_APPLICATION_KEY', 'ovh');
    const applicationSecret = vars.require('OVH_APPLICATION_SECRET', 'ovh');
    const consumerKey = vars.require('OVH_CONSUMER_KEY', 'ovh');
    credentials = { kind: 'signed', applicationKey, applicationSecret, consumerKey };
  }
  if (vars.get('OVH_CLIENT_ID') !== '' && accessToken === '') {
    vars.problems.push(
      'OVH_CLIENT_ID (OAuth2 client credentials) is not supported yet: use an application key or OVH_ACCESS_TOKEN',
    );
  }
  const ttl = vars.integer('OVH_TTL', 120, 1);
  const named = Object.hasOwn(OVH_ENDPOINTS, endpoint) ? OVH_ENDPOINTS[endpoint] : undefined;
  const asUrl = URL.parse(endpoint);
  const isUrl = asUrl !== null && (asUrl.protocol === 'http:' || asUrl.protocol === 'https:');
  if (endpoint !== '' && named === undefined && !isUrl) {
    vars.problems.push(
      `OVH_ENDPOINT=${JSON.stringify(endpoint)} must be one of ${Object.keys(OVH_ENDPOINTS).join(', ')}, or the API's http(s) URL`,
    );
  }
  const s = apiSettings(vars, ctx, {
    provider: 'ovh',
    prefix: 'OVH',
    // A name of go-ovh's is the URL it stands for; anything else must be a URL.
    ...(named === undefined && isUrl ? { apiUrlVar: 'OVH_ENDPOINT' } : {}),
    defaultApi: named ?? OVH_ENDPOINTS['ovh-eu']!,
    httpTimeoutS: 180,
    propagationS: 60,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new OvhDnsProvider({
        api: s.api,
        baseUrl: s.baseUrl,
        credentials: credentials!,
        ttl,
        zones: ctx.zones,
      }),
  };
}
