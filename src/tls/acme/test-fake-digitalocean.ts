/**
 * A test double of DigitalOcean's API v2 domain records, after its documentation
 * (https://docs.digitalocean.com/reference/api/digitalocean/#tag/Domain-Records): a record is
 * created with `POST /v2/domains/<zone>/records` (201, `{"domain_record":{…}}`) and deleted with
 * `DELETE /v2/domains/<zone>/records/<id>` (204); a name ending with a dot is absolute and must be
 * in the zone; errors are `{"id":…,"message":…}`.
 */
import {
  absolute,
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  jsonBody,
  shapeProblems,
  startFakeApi,
} from './test-fake-dns-api.ts';

export interface FakeDigitalOceanOptions {
  readonly token: string;
  /** Domains (zones) of the account, without the final dot. */
  readonly domains: readonly string[];
  readonly backend: DnsBackend;
}

export async function startFakeDigitalOcean(opts: FakeDigitalOceanOptions): Promise<FakeApi> {
  const records = new Map<string, { zone: string; fqdn: string; data: string }>();
  let nextId = 3352892;
  const fail = (status: number, id: string, message: string): FakeAnswer => ({
    status,
    body: { id, message },
  });
  return startFakeApi(async (call) => {
    if (call.headers.authorization !== `Bearer ${opts.token}`)
      return fail(401, 'unauthorized', 'Unable to authenticate you.');
    const parts = call.path.split('/').filter((p) => p !== '');
    if (parts[0] !== 'v2' || parts[1] !== 'domains' || parts[3] !== 'records') {
      return fail(404, 'not_found', 'The resource you were accessing could not be found.');
    }
    const zone = parts[2] ?? '';
    if (!opts.domains.includes(zone))
      return fail(404, 'not_found', 'The resource you were accessing could not be found.');
    if (call.method === 'POST' && parts.length === 4) {
      const body = jsonBody(call);
      if (typeof body === 'string') return fail(400, 'bad_request', body);
      const wrong = shapeProblems(
        body,
        { type: 'string', name: 'string', data: 'string' },
        { ttl: 'number' },
      );
      if (wrong !== undefined) return fail(422, 'unprocessable_entity', wrong);
      if (body['type'] !== 'TXT')
        return fail(422, 'unprocessable_entity', 'this double handles TXT records only');
      const name = String(body['name']);
      const fqdn = name.endsWith('.') ? absolute(name) : absolute(name === '@' ? zone : `${name}.${zone}`);
      if (fqdn !== absolute(zone) && !fqdn.endsWith(`.${absolute(zone)}`)) {
        return fail(422, 'unprocessable_entity', `Name ${name} is not in the domain ${zone}`);
      }
      const ttl = body['ttl'] === undefined ? 1800 : Number(body['ttl']);
      if (ttl < 30) return fail(422, 'unprocessable_entity', 'Ttl must be at least 30');
      const id = nextId++;
      const data = String(body['data']);
      records.set(String(id), { zone, fqdn, data });
      await opts.backend.add(fqdn, data);
      const relative = fqdn.slice(0, -(absolute(zone).length + 1));
      return {
        status: 201,
        body: {
          domain_record: {
            id,
            type: 'TXT',
            name: relative,
            data,
            ttl,
            priority: null,
            port: null,
            weight: null,
            flags: null,
            tag: null,
          },
        },
      };
    }
    if (call.method === 'DELETE' && parts.length === 5) {
      const r = records.get(parts[4] ?? '');
      if (r === undefined || r.zone !== zone)
        return fail(404, 'not_found', 'The resource you were accessing could not be found.');
      records.delete(parts[4] ?? '');
      await opts.backend.remove(r.fqdn, r.data);
      return { status: 204 };
    }
    return fail(405, 'method_not_allowed', 'Method not allowed');
  });
}
