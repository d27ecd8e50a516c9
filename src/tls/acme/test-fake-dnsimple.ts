/**
 * A test double of DNSimple's API v2 (https://developer.dnsimple.com/v2/): `Authorization:
 * Bearer <token>` (else 401 `{"message":"Authentication failed"}`); `GET /v2/whoami` answers the
 * account of an account token; `GET /v2/<account>/zones/<zone>` (404 `{"message":"Zone … not
 * found"}`); `POST /v2/<account>/zones/<zone>/records` takes `type`, `name` (relative), `content`,
 * `ttl` and answers 201 with the record; `GET …/records` filtered by `name` and `type`; `DELETE
 * /v2/<account>/zones/<zone>/records/<id>` answers 204.
 */
import {
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  jsonBody,
  shapeProblems,
  startFakeApi,
} from './test-fake-dns-api.ts';

export interface FakeDnsimpleOptions {
  readonly token: string;
  readonly accountId: number;
  readonly zones: readonly string[];
  readonly backend: DnsBackend;
}

export async function startFakeDnsimple(opts: FakeDnsimpleOptions): Promise<FakeApi> {
  const records = new Map<number, { zone: string; name: string; content: string; ttl: number }>();
  let nextId = 64784;
  const error = (status: number, message: string): FakeAnswer => ({ status, body: { message } });
  const fqdnOf = (name: string, zone: string): string => (name === '' ? `${zone}.` : `${name}.${zone}.`);
  const shown = (id: number, r: { zone: string; name: string; content: string; ttl: number }) => ({
    id,
    zone_id: r.zone,
    parent_id: null,
    name: r.name,
    content: r.content,
    ttl: r.ttl,
    priority: null,
    type: 'TXT',
    regions: ['global'],
    system_record: false,
  });
  return startFakeApi(async (call) => {
    if (call.headers.authorization !== `Bearer ${opts.token}`) return error(401, 'Authentication failed');
    const parts = call.path.split('/').filter((p) => p !== '');
    if (parts[0] !== 'v2') return error(404, 'Not found');
    if (parts[1] === 'whoami' && parts.length === 2 && call.method === 'GET') {
      return {
        status: 200,
        body: {
          data: {
            user: null,
            account: { id: opts.accountId, email: 'ops@example.com', plan_identifier: 'teams-v1-monthly' },
          },
        },
      };
    }
    if (parts[1] !== String(opts.accountId) || parts[2] !== 'zones') return error(404, 'Account not found');
    const zone = parts[3] ?? '';
    if (!opts.zones.includes(zone)) return error(404, `Zone \`${zone}\` not found`);
    if (parts.length === 4 && call.method === 'GET') {
      return {
        status: 200,
        body: {
          data: { id: 1 + opts.zones.indexOf(zone), account_id: opts.accountId, name: zone, reverse: false },
        },
      };
    }
    if (parts[4] !== 'records') return error(404, 'Not found');
    if (parts.length === 5 && call.method === 'GET') {
      const name = call.query.get('name');
      const type = call.query.get('type');
      const data = [...records]
        .filter(
          ([, r]) =>
            r.zone === zone && (name === null || r.name === name) && (type === null || type === 'TXT'),
        )
        .map(([id, r]) => shown(id, r));
      return {
        status: 200,
        body: {
          data,
          pagination: { current_page: 1, per_page: 30, total_entries: data.length, total_pages: 1 },
        },
      };
    }
    if (parts.length === 5 && call.method === 'POST') {
      const body = jsonBody(call);
      if (typeof body === 'string') return error(400, body);
      const wrong = shapeProblems(
        body,
        { type: 'string', name: 'string', content: 'string' },
        { ttl: 'number', priority: 'number', regions: 'array' },
      );
      if (wrong !== undefined) return error(400, `Validation failed: ${wrong}`);
      if (body['type'] !== 'TXT') return error(400, 'this double handles TXT only');
      const r = {
        zone,
        name: String(body['name']),
        content: String(body['content']),
        ttl: Number(body['ttl'] ?? 3600),
      };
      const id = nextId++;
      records.set(id, r);
      await opts.backend.add(fqdnOf(r.name, zone), r.content);
      return { status: 201, body: { data: shown(id, r) } };
    }
    if (parts.length === 6 && call.method === 'DELETE') {
      const r = records.get(Number(parts[5]));
      if (r === undefined || r.zone !== zone) return error(404, 'Record not found');
      records.delete(Number(parts[5]));
      await opts.backend.remove(fqdnOf(r.name, zone), r.content);
      return { status: 204 };
    }
    return error(405, 'Method not allowed');
  });
}
