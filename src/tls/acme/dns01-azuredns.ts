/**
 * lego's `azuredns` DNS provider (providers/dns/azuredns, public zones), with the Azure SDK's
 * client-secret credential: an OAuth2 token from `POST <authority>/<tenant>/oauth2/v2.0/token`
 * (`grant_type=client_credentials`, `scope=<Resource Manager audience>/.default`), reused until
 * five minutes before it ends; then the TXT record set of Azure DNS's REST API (armdns,
 * api-version 2018-05-01): `GET …/dnsZones/<zone>/TXT/<name>` (404: none yet), `PUT` of the set
 * with our value added (`{"properties":{"TTL","TXTRecords":[{"value":[…]}]}}`); at cleanup the
 * set is put back without ours, or deleted when ours was the last (lego deletes the whole set,
 * which would pull a wildcard's value from under its base name's).
 *
 * lego finds the zone's subscription and resource group with Azure Resource Graph; we take them
 * from AZURE_SUBSCRIPTION_ID and AZURE_RESOURCE_GROUP (lego's filters of that query), and refuse
 * to start without them. The zone is AZURE_ZONE_NAME, else the SOA's (lego's getAuthZone).
 */
import { type ApiClient, type ApiMethod, arrayField, asObject, parseJson, stringField } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { relativeName, unFqdn, type ZoneLocator } from './dns01-zone.ts';

/** azcore's cloud configurations: the login authority, Resource Manager's endpoint and audience. */
const CLOUDS: Readonly<Record<string, { authority: string; endpoint: string; audience: string }>> = {
  public: {
    authority: 'https://login.microsoftonline.com/',
    endpoint: 'https://management.azure.com',
    audience: 'https://management.core.windows.net/',
  },
  china: {
    authority: 'https://login.chinacloudapi.cn/',
    endpoint: 'https://management.chinacloudapi.cn',
    audience: 'https://management.core.chinacloudapi.cn',
  },
  usgovernment: {
    authority: 'https://login.microsoftonline.us/',
    endpoint: 'https://management.usgovcloudapi.net',
    audience: 'https://management.core.usgovcloudapi.net',
  },
};
/** armdns's API version. */
const API_VERSION = '2018-05-01';
/** The Azure SDK refreshes a token this long before it ends. */
const REFRESH_BEFORE_MS = 5 * 60_000;

export interface AzureDnsOptions {
  readonly api: ApiClient;
  /** Resource Manager's endpoint. */
  readonly baseUrl: URL;
  /** The login authority (the Azure SDK's AZURE_AUTHORITY_HOST). */
  readonly authority: URL;
  readonly audience: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  /** AZURE_ZONE_NAME, '' when the zone comes from the SOA. */
  readonly zoneName: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
  readonly now?: () => number;
}

export class AzureDnsProvider implements Dns01Provider {
  readonly #o: AzureDnsOptions;
  #token: { value: string; until: number } | undefined;

  constructor(opts: AzureDnsOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const url = await this.#recordSet(fqdn, signal);
    const existing = await this.#values(url);
    // lego's publicUniqueRecords: ours and the set's, each once.
    const values = [...new Set([value, ...existing])];
    await this.#put(url, values);
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const url = await this.#recordSet(fqdn);
    const left = (await this.#values(url)).filter((v) => v !== value);
    if (left.length === 0) await this.#call('DELETE', url);
    else await this.#put(url, left);
  }

  /** lego's getAuthZone (AZURE_ZONE_NAME, else the SOA) and ExtractSubDomain. */
  async #recordSet(fqdn: string, signal?: AbortSignal): Promise<URL> {
    let effective: string;
    let zone: string;
    if (this.#o.zoneName !== '') {
      effective = await this.#o.zones.follow(fqdn, signal);
      zone = this.#o.zoneName;
    } else {
      const where = await this.#o.zones.locate(fqdn, signal);
      effective = where.fqdn;
      zone = where.zone;
    }
    const o = this.#o;
    const url = new URL(o.baseUrl);
    const path = [
      'subscriptions',
      o.subscriptionId,
      'resourceGroups',
      o.resourceGroup,
      'providers',
      'Microsoft.Network',
      'dnsZones',
      unFqdn(zone),
      'TXT',
      relativeName(effective, zone),
    ];
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path.map((p) => encodeURIComponent(p)).join('/')}`;
    url.searchParams.set('api-version', API_VERSION);
    return url;
  }

  async #values(url: URL): Promise<string[]> {
    const set = await this.#call('GET', url, undefined, true);
    if (set === undefined) return [];
    const records = arrayField(asObject(set)?.['properties'], 'TXTRecords') ?? [];
    // lego: "Assume Value doesn't contain multiple strings".
    return records.map((r) => arrayField(r, 'value')?.[0]).filter((v): v is string => typeof v === 'string');
  }

  #put(url: URL, values: readonly string[]): Promise<unknown> {
    return this.#call('PUT', url, {
      properties: { TTL: this.#o.ttl, TXTRecords: values.map((v) => ({ value: [v] })) },
    });
  }

  async #call(method: ApiMethod, url: URL, body?: unknown, absentOk = false): Promise<unknown> {
    const headers: Record<string, string> = { authorization: `Bearer ${await this.#accessToken()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = { method, url, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
    const res = await this.#o.api.send(req);
    if (absentOk && res.status === 404) return undefined;
    const parsed = parseJson(res.text);
    if (res.status < 200 || res.status > 299) {
      // azcore's ResponseError: `{"error":{"code","message"}}`.
      const e = asObject(parsed)?.['error'];
      const code = stringField(e, 'code');
      const message = stringField(e, 'message');
      throw this.#o.api.statusError(req, res, code === undefined ? message : `${code}: ${message ?? ''}`);
    }
    return parsed;
  }

  /** azidentity's ClientSecretCredential: a token for Resource Manager, reused while it is fresh. */
  async #accessToken(): Promise<string> {
    const now = (this.#o.now ?? Date.now)();
    if (this.#token !== undefined && now < this.#token.until) return this.#token.value;
    const url = new URL(this.#o.authority);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${encodeURIComponent(this.#o.tenantId)}/oauth2/v2.0/token`;
    const body = new URLSearchParams({
      client_id: this.#o.clientId,
      client_secret: this.#o.clientSecret,
      grant_type: 'client_credentials',
      scope: `${this.#o.audience}/.default`,
    }).toString();
    const answer = await this.#o.api.json(
      { method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body },
      (b) => {
        const error = stringField(b, 'error');
        const description = stringField(b, 'error_description');
        return error === undefined
          ? undefined
          : `${error}${description === undefined ? '' : `: ${description}`}`;
      },
    );
    const token = stringField(answer, 'access_token');
    if (token === undefined) throw new Error('azuredns: the token endpoint answered no access_token');
    const expiresIn = Number(stringField(answer, 'expires_in') ?? '3600');
    this.#token = { value: token, until: now + expiresIn * 1000 - REFRESH_BEFORE_MS };
    return token;
  }
}

/**
 * lego's AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_TENANT_ID (the Azure SDK's environment
 * credential), AZURE_SUBSCRIPTION_ID and AZURE_RESOURCE_GROUP (required here: no Resource Graph
 * discovery), AZURE_ZONE_NAME, AZURE_ENVIRONMENT (public, china, usgovernment), AZURE_TTL (60),
 * the timeouts (120 s, 2 s; HTTP 30 s, ours: lego's client has 5 s); the Azure SDK's
 * AZURE_AUTHORITY_HOST and ours, AZURE_API_URL, for the endpoints.
 */
export function azureDnsFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const environment = vars.get('AZURE_ENVIRONMENT') || 'public';
  const cloud = CLOUDS[environment];
  if (cloud === undefined) {
    vars.problems.push(
      `AZURE_ENVIRONMENT=${JSON.stringify(environment)}: lego knows public, china, usgovernment`,
    );
  }
  const method = vars.get('AZURE_AUTH_METHOD').toLowerCase();
  if (method !== '' && method !== 'env') {
    vars.problems.push(
      `AZURE_AUTH_METHOD=${method} is not supported yet: only a client secret (AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_TENANT_ID)`,
    );
  }
  if (vars.bool('AZURE_PRIVATE_ZONE', false)) {
    vars.problems.push('AZURE_PRIVATE_ZONE=true is not supported yet: public zones only');
  }
  const clientId = vars.require('AZURE_CLIENT_ID', 'azuredns');
  const clientSecret = vars.require('AZURE_CLIENT_SECRET', 'azuredns');
  const tenantId = vars.require('AZURE_TENANT_ID', 'azuredns');
  const subscriptionId = vars.get('AZURE_SUBSCRIPTION_ID');
  const resourceGroup = vars.get('AZURE_RESOURCE_GROUP');
  if (subscriptionId === '' || resourceGroup === '') {
    vars.problems.push(
      "the azuredns provider needs AZURE_SUBSCRIPTION_ID and AZURE_RESOURCE_GROUP: lego's zone discovery through Azure Resource Graph is not supported yet",
    );
  }
  if (vars.get('AZURE_SERVICEDISCOVERY_FILTER') !== '') {
    vars.problems.push(
      'AZURE_SERVICEDISCOVERY_FILTER is not supported yet: Azure Resource Graph discovery is not',
    );
  }
  const zoneName = unFqdn(vars.get('AZURE_ZONE_NAME'));
  const ttl = vars.integer('AZURE_TTL', 60);
  const c = cloud ?? CLOUDS['public']!;
  const authority = vars.url('AZURE_AUTHORITY_HOST', c.authority);
  const s = apiSettings(vars, ctx, {
    provider: 'azuredns',
    prefix: 'AZURE',
    apiUrlVar: 'AZURE_API_URL',
    defaultApi: c.endpoint,
    httpTimeoutS: 30,
    propagationS: 120,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new AzureDnsProvider({
        api: s.api,
        baseUrl: s.baseUrl,
        authority,
        audience: c.audience,
        tenantId,
        clientId,
        clientSecret,
        subscriptionId,
        resourceGroup,
        zoneName: zoneName === '' ? '' : `${zoneName}.`,
        ttl,
        zones: ctx.zones,
      }),
  };
}
