/**
 * A test double of Infomaniak's API v2 DNS zones (https://developer.infomaniak.com/docs/api):
 * `Authorization: Bearer <token>` (else 401 `{"result":"error","error":{"code":"not_authorized",
 * …}}`); `GET /2/zones/<name>/exists` answers `{"result":"success","data":true}` for a zone held
 * and 404 `object_not_found` otherwise; `POST /2/zones/<zone>/records` takes `source` (relative),
 * `target`, `ttl` (at least 60), `type` and answers the record (`data.id`, a number); `DELETE
 * /2/zones/<zone>/records/<id>` answers `{"result":"success","data":true}`.
 */
import {
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  jsonBody,
  shapeProblems,
  startFakeApi,
} from './test-fake-dns-api.ts';

export interface FakeInfomaniakOptions {
  readonly token: string;
  readonly zones: readonly string[];
  readonly backend: DnsBackend;
}

export async function startFakeInfomaniak(opts: FakeInfomaniakOptions): Promise<FakeApi> {
  const records = new Map<number, { zone: string; fqdn: string; target: string }>();
  let nextId = 4001;
  const error = (status: number, code: string, description: string): FakeAnswer => ({
    status,
    body: { result: 'error', error: { code, description } },
  });
  return startFakeApi(async (call) => {
    if (call.headers.authorization !== `Bearer ${opts.token}`)
      return error(401, 'not_authorized', 'Authorization required');
    const parts = call.path.split('/').filter((p) => p !== '');
    if (parts[0] !== '2' || parts[1] !== 'zones' || parts.length < 4)
      return error(404, 'not_found', 'Not found');
    const zone = parts[2] ?? '';
    if (parts.length === 4 && parts[3] === 'exists' && call.method === 'GET') {
      return opts.zones.includes(zone)
        ? { status: 200, body: { result: 'success', data: true } }
        : error(404, 'object_not_found', 'Object not found');
    }
    if (!opts.zones.includes(zone) || parts[3] !== 'records')
      return error(404, 'object_not_found', 'Object not found');
    if (parts.length === 4 && call.method === 'POST') {
      const body = jsonBody(call);
      if (typeof body === 'string') return error(400, 'validation_failed', body);
      const wrong = shapeProblems(
        body,
        { source: 'string', target: 'string', type: 'string' },
        { ttl: 'number' },
      );
      if (wrong !== undefined) return error(422, 'validation_failed', wrong);
      if (body['type'] !== 'TXT') return error(422, 'validation_failed', 'this double handles TXT only');
      if (Number(body['ttl'] ?? 3600) < 60) return error(422, 'validation_failed', 'ttl must be at least 60');
      const source = String(body['source']);
      const fqdn = source === '' || source === '.' ? `${zone}.` : `${source}.${zone}.`;
      const id = nextId++;
      records.set(id, { zone, fqdn, target: String(body['target']) });
      await opts.backend.add(fqdn, String(body['target']));
      return {
        status: 200,
        body: {
          result: 'success',
          data: { id, source, source_idn: source, type: 'TXT', ttl: body['ttl'], target: body['target'] },
        },
      };
    }
    if (parts.length === 5 && call.method === 'DELETE') {
      const r = records.get(Number(parts[4]));
      if (r === undefined || r.zone !== zone) return error(404, 'object_not_found', 'Object not found');
      records.delete(Number(parts[4]));
      await opts.backend.remove(r.fqdn, r.target);
      return { status: 200, body: { result: 'success', data: true } };
    }
    return error(405, 'method_not_allowed', 'Method not allowed');
  });
}
