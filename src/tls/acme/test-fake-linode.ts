/**
 * A test double of Linode's API v4 domains and domain records
 * (https://techdocs.akamai.com/linode-api/reference/get-domains): Bearer token; lists are paged
 * (`{"data","page","pages","results"}`, two records a page here, so that a client must follow
 * `pages`) and filtered by the `X-Filter` header's JSON; a record is created with `POST
 * /v4/domains/<id>/records` (`type`, `name` — the full name or one relative to the domain —,
 * `target`, `ttl_sec` at least 300) and deleted with `DELETE …/records/<id>`. Errors are
 * `{"errors":[{"reason","field"}]}`.
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

export interface FakeLinodeOptions {
  readonly token: string;
  readonly domains: readonly string[];
  readonly backend: DnsBackend;
}

const PAGE = 2;

export async function startFakeLinode(opts: FakeLinodeOptions): Promise<FakeApi> {
  const records = new Map<number, { domainId: number; name: string; target: string; fqdn: string }>();
  let nextId = 5000;
  const fail = (status: number, reason: string, field?: string): FakeAnswer => ({
    status,
    body: { errors: [{ reason, ...(field === undefined ? {} : { field }) }] },
  });
  const paged = (all: unknown[], page: number): FakeAnswer => ({
    status: 200,
    body: {
      data: all.slice((page - 1) * PAGE, page * PAGE),
      page,
      pages: Math.max(1, Math.ceil(all.length / PAGE)),
      results: all.length,
    },
  });
  return startFakeApi(async (call) => {
    if (call.headers.authorization !== `Bearer ${opts.token}`) return fail(401, 'Invalid Token');
    const parts = call.path.split('/').filter((p) => p !== '');
    if (parts[0] !== 'v4' || parts[1] !== 'domains') return fail(404, 'Not found');
    const filter = JSON.parse(String(call.headers['x-filter'] ?? '{}')) as Record<string, string>;
    const page = Number(call.query.get('page') ?? '1');
    if (parts.length === 2 && call.method === 'GET') {
      const all = opts.domains
        .map((d, i) => ({ id: 1000 + i, domain: d, type: 'master', status: 'active' }))
        .filter((d) => filter['domain'] === undefined || d.domain === filter['domain']);
      return paged(all, page);
    }
    const domainId = Number(parts[2]);
    const domain = opts.domains[domainId - 1000];
    if (domain === undefined || parts[3] !== 'records') return fail(404, 'Not found');
    if (parts.length === 4 && call.method === 'GET') {
      const all = [...records]
        .filter(([, r]) => r.domainId === domainId)
        .map(([id, r]) => ({ id, type: 'TXT', name: r.name, target: r.target, ttl_sec: 300 }))
        .filter((r) => filter['type'] === undefined || r.type === filter['type']);
      return paged(all, page);
    }
    if (parts.length === 4 && call.method === 'POST') {
      const body = jsonBody(call);
      if (typeof body === 'string') return fail(400, body);
      const wrong = shapeProblems(
        body,
        { type: 'string', name: 'string', target: 'string' },
        { ttl_sec: 'number' },
      );
      if (wrong !== undefined) return fail(400, wrong);
      if (body['type'] !== 'TXT') return fail(400, 'this double handles TXT only', 'type');
      if (Number(body['ttl_sec'] ?? 300) < 300) return fail(400, 'Must be at least 300', 'ttl_sec');
      const name = String(body['name']);
      const full = absolute(name);
      const fqdn = full.endsWith(`.${absolute(domain)}`) ? full : absolute(`${name}.${domain}`);
      // Linode stores the name relative to the domain.
      const relative = fqdn.slice(0, -(absolute(domain).length + 1));
      const id = nextId++;
      records.set(id, { domainId, name: relative, target: String(body['target']), fqdn });
      await opts.backend.add(fqdn, String(body['target']));
      return {
        status: 200,
        body: { id, type: 'TXT', name: relative, target: body['target'], ttl_sec: body['ttl_sec'] ?? 0 },
      };
    }
    if (parts.length === 5 && call.method === 'DELETE') {
      const r = records.get(Number(parts[4]));
      if (r === undefined || r.domainId !== domainId) return fail(404, 'Not found');
      records.delete(Number(parts[4]));
      await opts.backend.remove(r.fqdn, r.target);
      return { status: 200, body: {} };
    }
    return fail(405, 'Method not allowed');
  });
}
