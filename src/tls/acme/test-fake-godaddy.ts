/**
 * A test double of GoDaddy's Domains API record sets, after its documentation
 * (https://developer.godaddy.com/doc/endpoint/domains#/v1): `Authorization: sso-key
 * <key>:<secret>`; `GET /v1/domains/<domain>/records/TXT/<name>` answers the set (200, `[]` when
 * empty), `PUT` of that URL replaces it with a JSON array of `{data, name?, type?, ttl?}` (TTL at
 * least 600), `DELETE` removes it (404 when there is none). Errors are `{"code","message"}`.
 */
import { type DnsBackend, type FakeAnswer, type FakeApi, startFakeApi } from './test-fake-dns-api.ts';

export interface FakeGoDaddyOptions {
  readonly key: string;
  readonly secret: string;
  /** Domains of the account, without the final dot. */
  readonly domains: readonly string[];
  readonly backend: DnsBackend;
}

export async function startFakeGoDaddy(opts: FakeGoDaddyOptions): Promise<FakeApi> {
  const sets = new Map<string, string[]>();
  const fail = (status: number, code: string, message: string): FakeAnswer => ({
    status,
    body: { code, message },
  });
  return startFakeApi(async (call) => {
    if (call.headers.authorization !== `sso-key ${opts.key}:${opts.secret}`)
      return fail(401, 'UNABLE_TO_AUTHENTICATE', 'Unable to authenticate');
    const parts = call.path.split('/').filter((p) => p !== '');
    if (parts.length !== 6 || parts[0] !== 'v1' || parts[1] !== 'domains' || parts[3] !== 'records')
      return fail(404, 'NOT_FOUND', 'no such route');
    const domain = parts[2] ?? '';
    if (!opts.domains.includes(domain))
      return fail(404, 'UNKNOWN_DOMAIN', `The given domain is not registered`);
    if (parts[4] !== 'TXT') return fail(422, 'INVALID_BODY', 'this double handles TXT only');
    const name = decodeURIComponent(parts[5] ?? '');
    const fqdn = `${name}.${domain}.`;
    const key = fqdn.toLowerCase();
    const current = sets.get(key) ?? [];
    if (call.method === 'GET') {
      return { status: 200, body: current.map((data) => ({ data, name, ttl: 600, type: 'TXT' })) };
    }
    if (call.method === 'DELETE') {
      if (current.length === 0) return fail(404, 'NOT_FOUND', 'Record not found');
      sets.delete(key);
      for (const v of current) await opts.backend.remove(fqdn, v);
      return { status: 200 };
    }
    if (call.method === 'PUT') {
      if (call.headers['content-type'] !== 'application/json')
        return fail(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
      let body: unknown;
      try {
        body = JSON.parse(call.body);
      } catch {
        return fail(422, 'INVALID_BODY', 'Request body is not JSON');
      }
      if (!Array.isArray(body) || body.length === 0)
        return fail(422, 'INVALID_BODY', 'records must be a non-empty array');
      const values: string[] = [];
      for (const r of body as Record<string, unknown>[]) {
        for (const k of Object.keys(r))
          if (!['data', 'name', 'type', 'ttl'].includes(k))
            return fail(422, 'INVALID_BODY', `unknown field ${k}`);
        if (typeof r['data'] !== 'string' || r['data'] === '')
          return fail(422, 'INVALID_BODY', 'data is required');
        if (r['ttl'] !== undefined && (typeof r['ttl'] !== 'number' || r['ttl'] < 600))
          return fail(422, 'INVALID_BODY', 'ttl must be at least 600');
        if (r['name'] !== undefined && r['name'] !== name)
          return fail(422, 'INVALID_BODY', 'name does not match the URL');
        values.push(r['data']);
      }
      for (const v of current) if (!values.includes(v)) await opts.backend.remove(fqdn, v);
      for (const v of values) if (!current.includes(v)) await opts.backend.add(fqdn, v);
      sets.set(key, values);
      return { status: 200 };
    }
    return fail(405, 'METHOD_NOT_ALLOWED', 'Method not allowed');
  });
}
