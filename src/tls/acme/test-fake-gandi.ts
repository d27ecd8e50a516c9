/**
 * A test double of Gandi's LiveDNS API v5 record sets, after its documentation
 * (https://api.gandi.net/docs/livedns/): `GET|PUT|DELETE /v5/livedns/domains/<zone>/records/<name>/TXT`,
 * a PUT replacing the set's values and TTL (at least 300 s) with 201, a GET of a missing set 404,
 * `Authorization: Bearer <personal access token>` (or `Apikey <key>`); errors
 * `{"code","message","object","cause"}`.
 */
import {
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  jsonBody,
  shapeProblems,
  startFakeApi,
} from './test-fake-dns-api.ts';

export interface FakeGandiOptions {
  /** Accepted Authorization header values (`Bearer …`, `Apikey …`). */
  readonly authorizations: readonly string[];
  readonly domains: readonly string[];
  readonly backend: DnsBackend;
}

export const GANDI_BASE_PATH = '/v5/livedns';

export async function startFakeGandi(opts: FakeGandiOptions): Promise<FakeApi> {
  const sets = new Map<string, { ttl: number; values: string[] }>();
  const fail = (code: number, message: string, cause: string): FakeAnswer => ({
    status: code,
    body: { code, message, object: `HTTP${cause.replace(/\s/g, '')}`, cause },
  });
  return startFakeApi(async (call) => {
    if (!opts.authorizations.includes(String(call.headers.authorization ?? ''))) {
      return fail(
        401,
        'The server could not verify that you are authorized to access the document requested.',
        'Unauthorized',
      );
    }
    if (!call.path.startsWith(`${GANDI_BASE_PATH}/`))
      return fail(404, 'The requested URL was not found on the server.', 'Not Found');
    const parts = call.path
      .slice(GANDI_BASE_PATH.length)
      .split('/')
      .filter((p) => p !== '');
    if (parts[0] !== 'domains' || parts[2] !== 'records' || parts.length !== 5) {
      return fail(404, 'The requested URL was not found on the server.', 'Not Found');
    }
    const [, zone = '', , name = '', type = ''] = parts;
    if (!opts.domains.includes(zone)) return fail(404, 'Unknown domain', 'Not Found');
    if (type !== 'TXT') return fail(400, 'this double handles TXT only', 'Bad Request');
    const key = `${name}.${zone}.`;
    const set = sets.get(key);
    if (call.method === 'GET') {
      if (set === undefined) return fail(404, "Can't find the DNS record", 'Not Found');
      return {
        status: 200,
        body: { rrset_name: name, rrset_type: 'TXT', rrset_ttl: set.ttl, rrset_values: set.values },
      };
    }
    if (call.method === 'PUT') {
      const body = jsonBody(call);
      if (typeof body === 'string') return fail(400, body, 'Bad Request');
      const wrong = shapeProblems(body, { rrset_values: 'array' }, { rrset_ttl: 'number' });
      if (wrong !== undefined) return fail(400, wrong, 'Bad Request');
      const ttl = body['rrset_ttl'] === undefined ? 10800 : Number(body['rrset_ttl']);
      if (ttl < 300) return fail(400, 'rrset_ttl: must be at least 300', 'Bad Request');
      const values = (body['rrset_values'] as unknown[]).map(String);
      for (const v of set?.values ?? []) if (!values.includes(v)) await opts.backend.remove(key, v);
      for (const v of values) if (!(set?.values ?? []).includes(v)) await opts.backend.add(key, v);
      sets.set(key, { ttl, values });
      return { status: 201, body: { message: 'DNS Record Created' } };
    }
    if (call.method === 'DELETE') {
      if (set === undefined) return fail(404, "Can't find the DNS record", 'Not Found');
      sets.delete(key);
      for (const v of set.values) await opts.backend.remove(key, v);
      return { status: 204 };
    }
    return fail(405, 'The method is not allowed for the requested URL.', 'Method Not Allowed');
  });
}
