/**
 * A test double of Vultr's API v2 DNS (https://www.vultr.com/api/#tag/dns): `Authorization:
 * Bearer <key>` (else 401 `{"error":"Invalid API token.","status":401}`); lists are cursor-paged
 * (`per_page`, `cursor`; `{"meta":{"total","links":{"next","prev"}}}`; pages of at most two here,
 * whatever `per_page` asks, so that a client must follow `next`); `GET /v2/domains`; `POST
 * /v2/domains/<d>/records` takes `name` (relative), `type`, `data` (a TXT's quoted), `ttl`,
 * `priority` and answers 201 `{"record":…}`; `GET …/records`; `DELETE …/records/<id>` answers 204.
 */
import {
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  jsonBody,
  shapeProblems,
  startFakeApi,
} from './test-fake-dns-api.ts';

export interface FakeVultrOptions {
  readonly apiKey: string;
  readonly domains: readonly string[];
  readonly backend: DnsBackend;
}

const PAGE = 2;

export async function startFakeVultr(opts: FakeVultrOptions): Promise<FakeApi> {
  const records = new Map<string, { domain: string; name: string; data: string; ttl: number }>();
  let nextId = 1;
  const error = (status: number, message: string): FakeAnswer => ({
    status,
    body: { error: message, status },
  });
  const paged = (key: string, all: unknown[], cursor: string | null): FakeAnswer => {
    const start = cursor === null ? 0 : Number(Buffer.from(cursor, 'base64url').toString());
    const next = start + PAGE < all.length ? Buffer.from(String(start + PAGE)).toString('base64url') : '';
    return {
      status: 200,
      body: { [key]: all.slice(start, start + PAGE), meta: { total: all.length, links: { next, prev: '' } } },
    };
  };
  return startFakeApi(async (call) => {
    if (call.headers.authorization !== `Bearer ${opts.apiKey}`) return error(401, 'Invalid API token.');
    const parts = call.path.split('/').filter((p) => p !== '');
    if (parts[0] !== 'v2' || parts[1] !== 'domains') return error(404, 'Not found');
    if (parts.length === 2 && call.method === 'GET') {
      const all = opts.domains.map((domain) => ({
        domain,
        date_created: '2024-01-01T00:00:00+00:00',
        dns_sec: 'disabled',
      }));
      return paged('domains', all, call.query.get('cursor'));
    }
    const domain = parts[2] ?? '';
    if (!opts.domains.includes(domain) || parts[3] !== 'records') return error(404, 'Invalid domain.');
    if (parts.length === 4 && call.method === 'GET') {
      const all = [
        { id: 'soa-1', type: 'NS', name: '', data: 'ns1.vultr.com', priority: -1, ttl: 300 },
        ...[...records]
          .filter(([, r]) => r.domain === domain)
          .map(([id, r]) => ({ id, type: 'TXT', name: r.name, data: r.data, priority: -1, ttl: r.ttl })),
      ];
      return paged('records', all, call.query.get('cursor'));
    }
    if (parts.length === 4 && call.method === 'POST') {
      const body = jsonBody(call);
      if (typeof body === 'string') return error(400, body);
      const wrong = shapeProblems(
        body,
        { name: 'string', type: 'string', data: 'string' },
        { ttl: 'number', priority: 'number' },
      );
      if (wrong !== undefined) return error(400, wrong);
      if (body['type'] !== 'TXT') return error(400, 'this double handles TXT only');
      const data = String(body['data']);
      if (!/^"[^"]*"$/.test(data)) return error(400, 'TXT data must be quoted');
      const name = String(body['name']);
      const id = `rec-${nextId++}`;
      records.set(id, { domain, name, data, ttl: Number(body['ttl'] ?? 300) });
      await opts.backend.add(name === '' ? `${domain}.` : `${name}.${domain}.`, data.slice(1, -1));
      return {
        status: 201,
        body: { record: { id, type: 'TXT', name, data, priority: 0, ttl: body['ttl'] } },
      };
    }
    if (parts.length === 5 && call.method === 'DELETE') {
      const r = records.get(parts[4] ?? '');
      if (r === undefined || r.domain !== domain) return error(404, 'Invalid record.');
      records.delete(parts[4] ?? '');
      await opts.backend.remove(r.name === '' ? `${domain}.` : `${r.name}.${domain}.`, r.data.slice(1, -1));
      return { status: 204 };
    }
    return error(405, 'Method not allowed');
  });
}
