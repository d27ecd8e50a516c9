/**
 * A test double of Azure's login endpoint (client credentials) and of Azure DNS's record sets
 * (Resource Manager, https://learn.microsoft.com/rest/api/dns/record-sets): `POST
 * /<tenant>/oauth2/v2.0/token` takes `grant_type=client_credentials`, `client_id`,
 * `client_secret`, `scope` (Resource Manager's `.default`) and answers `{"token_type":"Bearer",
 * "expires_in":3599,"access_token"}` (else 401 `{"error":"invalid_client",…}`);
 * `/subscriptions/<s>/resourceGroups/<g>/providers/Microsoft.Network/dnsZones/<zone>/TXT/<name>`
 * with `api-version` and the Bearer token answers `GET` (404 `ResourceNotFound`), `PUT`
 * (`{"properties":{"TTL","TXTRecords":[{"value":[…]}]}}`) and `DELETE`; errors are
 * `{"error":{"code","message"}}`.
 */
import {
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  jsonBody,
  startFakeApi,
} from './test-fake-dns-api.ts';

export interface FakeAzureOptions {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly zones: readonly string[];
  readonly backend: DnsBackend;
}

export const AZURE_SCOPE = 'https://management.core.windows.net//.default';

export async function startFakeAzure(opts: FakeAzureOptions): Promise<FakeApi> {
  const sets = new Map<string, { ttl: number; values: string[] }>();
  const tokens = new Set<string>();
  let issued = 0;
  const armError = (status: number, code: string, message: string): FakeAnswer => ({
    status,
    body: { error: { code, message } },
  });
  return startFakeApi(async (call) => {
    if (call.path === `/${opts.tenantId}/oauth2/v2.0/token`) {
      if (call.method !== 'POST' || call.headers['content-type'] !== 'application/x-www-form-urlencoded')
        return { status: 400, body: { error: 'invalid_request', error_description: 'a form POST' } };
      const f = new URLSearchParams(call.body);
      if (f.get('grant_type') !== 'client_credentials' || f.get('scope') !== AZURE_SCOPE)
        return {
          status: 400,
          body: { error: 'invalid_request', error_description: `grant or scope: ${call.body}` },
        };
      if (f.get('client_id') !== opts.clientId || f.get('client_secret') !== opts.clientSecret)
        return {
          status: 401,
          body: {
            error: 'invalid_client',
            error_description: 'AADSTS7000215: Invalid client secret provided.',
          },
        };
      const token = `azure-token-${++issued}`;
      tokens.add(token);
      return {
        status: 200,
        body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token },
      };
    }
    const auth = String(call.headers.authorization ?? '');
    if (!auth.startsWith('Bearer ') || !tokens.has(auth.slice(7)))
      return armError(401, 'AuthenticationFailed', 'Authentication failed.');
    if (call.query.get('api-version') !== '2018-05-01')
      return armError(400, 'InvalidApiVersionParameter', `api-version ${call.query.get('api-version')}`);
    const p = call.path.split('/').map((s) => decodeURIComponent(s));
    // ['', 'subscriptions', s, 'resourceGroups', g, 'providers', 'Microsoft.Network', 'dnsZones', zone, 'TXT', name]
    if (
      p.length !== 11 ||
      p[1] !== 'subscriptions' ||
      p[3] !== 'resourceGroups' ||
      p[7] !== 'dnsZones' ||
      p[9] !== 'TXT'
    )
      return armError(404, 'NotFound', `no route ${call.path}`);
    if (p[2] !== opts.subscriptionId)
      return armError(404, 'SubscriptionNotFound', `The subscription '${p[2]}' could not be found.`);
    if (p[4] !== opts.resourceGroup)
      return armError(404, 'ResourceGroupNotFound', `Resource group '${p[4]}' could not be found.`);
    const zone = p[8] ?? '';
    if (!opts.zones.includes(zone)) return armError(404, 'ParentResourceNotFound', `zone ${zone}`);
    const name = p[10] ?? '';
    const fqdn = name === '@' ? `${zone}.` : `${name}.${zone}.`;
    const key = `${zone}\n${name}`;
    const set = sets.get(key);
    const shown = (s: { ttl: number; values: string[] }) => ({
      status: 200,
      body: {
        id: call.path,
        name,
        type: 'Microsoft.Network/dnszones/TXT',
        properties: { TTL: s.ttl, fqdn, TXTRecords: s.values.map((v) => ({ value: [v] })) },
      },
    });
    if (call.method === 'GET')
      return set === undefined
        ? armError(404, 'NotFound', `The resource record '${name}' does not exist.`)
        : shown(set);
    if (call.method === 'PUT') {
      const body = jsonBody(call);
      if (typeof body === 'string') return armError(400, 'BadRequest', body);
      const props = body['properties'] as Record<string, unknown> | undefined;
      const records = props?.['TXTRecords'];
      if (typeof props?.['TTL'] !== 'number' || !Array.isArray(records))
        return armError(400, 'BadRequest', 'properties.TTL and properties.TXTRecords are required');
      const values: string[] = [];
      for (const r of records) {
        const v = (r as { value?: unknown }).value;
        if (!Array.isArray(v) || v.length !== 1 || typeof v[0] !== 'string')
          return armError(400, 'BadRequest', 'each TXT record is {"value":["…"]} here');
        values.push(v[0]);
      }
      const before = set?.values ?? [];
      for (const v of before) if (!values.includes(v)) await opts.backend.remove(fqdn, v);
      for (const v of values) if (!before.includes(v)) await opts.backend.add(fqdn, v);
      const next = { ttl: props['TTL'] as number, values };
      sets.set(key, next);
      return { ...shown(next), status: set === undefined ? 201 : 200 };
    }
    if (call.method === 'DELETE') {
      for (const v of set?.values ?? []) await opts.backend.remove(fqdn, v);
      sets.delete(key);
      return { status: set === undefined ? 204 : 200 };
    }
    return armError(405, 'MethodNotAllowed', call.method);
  });
}
