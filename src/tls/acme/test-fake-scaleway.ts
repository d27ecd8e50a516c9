/**
 * A test double of Scaleway's Domains and DNS API v2beta1
 * (https://www.scaleway.com/en/developers/api/domains-and-dns/): `X-Auth-Token` (else 401
 * `{"message":"authentication is denied","type":"denied_authentication"}`); `PATCH
 * /domain/v2beta1/dns-zones/<dns zone>/records` with `{"changes":[…],"return_all_records",
 * "disallow_new_zone_creation","serial"}`: the zone is the longest zone held that the named one is
 * in (with `disallow_new_zone_creation` true; 404 otherwise), a name ending with a dot is
 * absolute, others relative to the named zone; `add` adds the records, `delete` `id_fields`
 * removes the record of that name, type and data. TXT data must be quoted.
 */
import {
  absolute,
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  jsonBody,
  startFakeApi,
  zoneOf,
} from './test-fake-dns-api.ts';

export interface FakeScalewayOptions {
  readonly secretKey: string;
  readonly zones: readonly string[];
  readonly backend: DnsBackend;
}

export async function startFakeScaleway(opts: FakeScalewayOptions): Promise<FakeApi> {
  const records = new Map<string, string[]>();
  const error = (status: number, message: string, type = 'invalid_arguments'): FakeAnswer => ({
    status,
    body: { message, type },
  });
  return startFakeApi(async (call) => {
    if (call.headers['x-auth-token'] !== opts.secretKey)
      return error(401, 'authentication is denied', 'denied_authentication');
    const m = /^\/domain\/v2beta1\/dns-zones\/([^/]+)\/records$/.exec(call.path);
    if (m === null || call.method !== 'PATCH') return error(404, 'resource is not found', 'not_found');
    const named = decodeURIComponent(m[1] ?? '');
    const body = jsonBody(call);
    if (typeof body === 'string') return error(400, body);
    for (const k of Object.keys(body))
      if (!['changes', 'return_all_records', 'disallow_new_zone_creation', 'serial'].includes(k))
        return error(400, `unknown field ${k}`);
    if (body['disallow_new_zone_creation'] !== true) return error(400, 'this double creates no zone');
    const zone = zoneOf(named, opts.zones);
    if (zone === undefined) return error(404, 'dns zone not found', 'not_found');
    const changes = body['changes'];
    if (!Array.isArray(changes)) return error(400, 'changes must be a list');
    const fqdnOf = (name: string): string =>
      name.endsWith('.') ? absolute(name) : absolute(`${name}.${named}`);
    for (const c of changes as Record<string, Record<string, unknown>>[]) {
      if (c['add'] !== undefined) {
        for (const r of (c['add']['records'] ?? []) as Record<string, unknown>[]) {
          const data = String(r['data']);
          if (r['type'] !== 'TXT' || !/^"[^"]*"$/.test(data)) return error(400, 'record data is invalid');
          if (typeof r['ttl'] !== 'number' || r['ttl'] < 60) return error(400, 'ttl must be at least 60');
          const fqdn = fqdnOf(String(r['name']));
          if (!fqdn.endsWith(`.${zone}`)) return error(400, 'record is outside the zone');
          records.set(fqdn, [...(records.get(fqdn) ?? []), data]);
          await opts.backend.add(fqdn, data.slice(1, -1));
        }
      } else if (c['delete'] !== undefined) {
        const id = c['delete']['id_fields'] as Record<string, unknown> | undefined;
        if (id === undefined) return error(400, 'id_fields is required');
        const fqdn = fqdnOf(String(id['name']));
        const data = String(id['data']);
        const held = records.get(fqdn) ?? [];
        if (!held.includes(data)) return error(404, 'record not found', 'not_found');
        records.set(
          fqdn,
          held.filter((d) => d !== data),
        );
        await opts.backend.remove(fqdn, data.slice(1, -1));
      } else return error(400, 'unknown change');
    }
    return { status: 200, body: { records: [] } };
  });
}
