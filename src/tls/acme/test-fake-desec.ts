/**
 * A test double of deSEC's REST API (https://desec.readthedocs.io/en/latest/dns/rrsets.html):
 * `Authorization: Token <token>` (else 401 `{"detail":"Invalid token."}`), paths ending in `/`;
 * `GET /api/v1/domains/?owns_qname=<name>` lists the domain responsible for a name (the longest
 * one held); an RRset is `GET /api/v1/domains/<d>/rrsets/<subname or @>/TXT/` (404 `{"detail":
 * "Not found."}`), created with `POST …/rrsets/` (`domain`, `subname`, `type`, `records`, `ttl`
 * at least 3600; 201, 400 when it exists) and changed with `PATCH …/rrsets/<subname>/TXT/`
 * `{"records":[…]}` (200, or 204 when the records are empty: the RRset is gone). TXT contents
 * must be quoted, as in a zone file.
 */
import {
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  jsonBody,
  shapeProblems,
  startFakeApi,
  zoneOf,
} from './test-fake-dns-api.ts';

export interface FakeDesecOptions {
  readonly token: string;
  readonly domains: readonly string[];
  readonly backend: DnsBackend;
}

export const DESEC_BASE_PATH = '/api/v1';

export async function startFakeDesec(opts: FakeDesecOptions): Promise<FakeApi> {
  /** `<domain>\n<subname>` → quoted records. */
  const rrsets = new Map<string, { ttl: number; records: string[] }>();
  const detail = (status: number, text: string): FakeAnswer => ({ status, body: { detail: text } });
  const fqdnOf = (domain: string, subname: string): string =>
    subname === '' ? `${domain}.` : `${subname}.${domain}.`;
  const unquote = (r: string): string | undefined => (/^"[^"\\]*"$/.test(r) ? r.slice(1, -1) : undefined);
  const publish = async (
    domain: string,
    subname: string,
    before: string[],
    after: string[],
  ): Promise<void> => {
    for (const r of before)
      if (!after.includes(r)) await opts.backend.remove(fqdnOf(domain, subname), unquote(r)!);
    for (const r of after)
      if (!before.includes(r)) await opts.backend.add(fqdnOf(domain, subname), unquote(r)!);
  };
  const badRecords = (records: unknown): string | undefined => {
    if (!Array.isArray(records)) return 'records must be a list';
    for (const r of records)
      if (typeof r !== 'string' || unquote(r) === undefined) return `TXT record ${String(r)} is not quoted`;
    return undefined;
  };
  return startFakeApi(async (call) => {
    if (call.headers.authorization !== `Token ${opts.token}`) return detail(401, 'Invalid token.');
    if (!call.path.startsWith(`${DESEC_BASE_PATH}/`) || !call.path.endsWith('/'))
      return detail(404, 'Not found.');
    const parts = call.path
      .slice(DESEC_BASE_PATH.length)
      .split('/')
      .filter((p) => p !== '');
    if (parts[0] !== 'domains') return detail(404, 'Not found.');
    if (parts.length === 1 && call.method === 'GET') {
      const qname = call.query.get('owns_qname');
      if (qname === null) return { status: 200, body: opts.domains.map((name) => ({ name })) };
      const zone = zoneOf(qname, opts.domains);
      return {
        status: 200,
        body: zone === undefined ? [] : [{ name: zone.slice(0, -1), minimum_ttl: 3600 }],
      };
    }
    const domain = parts[1] ?? '';
    if (!opts.domains.includes(domain) || parts[2] !== 'rrsets') return detail(404, 'Not found.');
    if (parts.length === 3 && call.method === 'POST') {
      const body = jsonBody(call);
      if (typeof body === 'string') return detail(400, body);
      const shape = shapeProblems(
        body,
        { subname: 'string', type: 'string', records: 'array', ttl: 'number' },
        { domain: 'string' },
      );
      if (shape !== undefined) return detail(400, shape);
      if (body['type'] !== 'TXT') return detail(400, 'this double handles TXT only');
      if ((body['ttl'] as number) < 3600)
        return detail(400, 'Ensure this value is greater than or equal to 3600.');
      const bad = badRecords(body['records']);
      if (bad !== undefined) return detail(400, bad);
      const key = `${domain}\n${body['subname'] as string}`;
      if (rrsets.has(key))
        return detail(400, 'Another RRset with the same subdomain and type exists for this domain.');
      const records = body['records'] as string[];
      rrsets.set(key, { ttl: body['ttl'] as number, records });
      await publish(domain, body['subname'] as string, [], records);
      return {
        status: 201,
        body: { domain, subname: body['subname'], type: 'TXT', records, ttl: body['ttl'] },
      };
    }
    if (parts.length === 5 && parts[4] === 'TXT') {
      const subname = parts[3] === '@' ? '' : decodeURIComponent(parts[3] ?? '');
      const key = `${domain}\n${subname}`;
      const set = rrsets.get(key);
      const answer = (records: string[], ttl: number): FakeAnswer => ({
        status: 200,
        body: { domain, subname, name: fqdnOf(domain, subname), type: 'TXT', records, ttl },
      });
      if (call.method === 'GET')
        return set === undefined ? detail(404, 'Not found.') : answer(set.records, set.ttl);
      if (call.method === 'PATCH') {
        if (set === undefined) return detail(404, 'Not found.');
        const body = jsonBody(call);
        if (typeof body === 'string') return detail(400, body);
        const shape = shapeProblems(body, { records: 'array' }, { ttl: 'number' });
        if (shape !== undefined) return detail(400, shape);
        const bad = badRecords(body['records']);
        if (bad !== undefined) return detail(400, bad);
        const records = body['records'] as string[];
        await publish(domain, subname, set.records, records);
        if (records.length === 0) {
          rrsets.delete(key);
          return { status: 204 };
        }
        set.records = records;
        return answer(records, set.ttl);
      }
    }
    return detail(404, 'Not found.');
  });
}
