/**
 * A test double of bunny.net's DNS zone API (https://docs.bunny.net/reference/dnszonepublic_index):
 * `AccessKey` header (else 401, a plain-text body); `GET /dnszone?page&per_page` lists the zones
 * with their records (`{"Items":[{"Id","Domain","Records":[{"Id","Type","Ttl","Value","Name"}]}],
 * "CurrentPage","TotalItems","HasMoreItems"}`; without `page` bunny.net answers another shape, so
 * the double refuses it); `PUT /dnszone/<id>/records` adds a record (`Type` 3 is TXT; `Ttl` at
 * least 60 here) and answers it (201); `DELETE /dnszone/<id>/records/<record id>` answers 204.
 * Errors are `{"ErrorKey","Field","Message"}`.
 */
import {
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  jsonBody,
  shapeProblems,
  startFakeApi,
} from './test-fake-dns-api.ts';

export interface FakeBunnyOptions {
  readonly apiKey: string;
  readonly zones: readonly string[];
  readonly backend: DnsBackend;
}

export async function startFakeBunny(opts: FakeBunnyOptions): Promise<FakeApi> {
  const records = new Map<number, { zoneId: number; name: string; value: string; ttl: number }>();
  let nextId = 9001;
  const idOf = (zone: string) => 100 + opts.zones.indexOf(zone);
  const error = (status: number, key: string, message: string): FakeAnswer => ({
    status,
    body: { ErrorKey: key, Field: '', Message: message },
  });
  const fqdnOf = (name: string, zoneId: number) => {
    const zone = opts.zones[zoneId - 100] ?? '';
    return name === '' ? `${zone}.` : `${name}.${zone}.`;
  };
  return startFakeApi(async (call) => {
    if (call.headers.accesskey !== opts.apiKey)
      return {
        status: 401,
        body: 'Authorization has been denied for this request.',
        contentType: 'text/plain',
      };
    const parts = call.path.split('/').filter((p) => p !== '');
    if (parts[0] !== 'dnszone') return error(404, 'not_found', 'Not found');
    if (parts.length === 1 && call.method === 'GET') {
      if (call.query.get('page') === null)
        return error(400, 'pagination', 'this double answers paged lists only');
      const items = opts.zones.map((domain) => ({
        Id: idOf(domain),
        Domain: domain,
        Records: [...records]
          .filter(([, r]) => r.zoneId === idOf(domain))
          .map(([Id, r]) => ({
            Id,
            Type: 3,
            Ttl: r.ttl,
            Value: r.value,
            Name: r.name,
            Weight: 0,
            Priority: 0,
            Disabled: false,
          })),
      }));
      return {
        status: 200,
        body: { Items: items, CurrentPage: 1, TotalItems: items.length, HasMoreItems: false },
      };
    }
    const zoneId = Number(parts[1]);
    if (opts.zones[zoneId - 100] === undefined || parts[2] !== 'records')
      return error(404, 'dnszone.not_found', 'The requested DNS zone was not found');
    if (parts.length === 3 && call.method === 'PUT') {
      const body = jsonBody(call);
      if (typeof body === 'string') return error(400, 'validation', body);
      const wrong = shapeProblems(
        body,
        { Type: 'number', Value: 'string', Name: 'string' },
        { Ttl: 'number' },
      );
      if (wrong !== undefined) return error(400, 'validation', wrong);
      if (body['Type'] !== 3) return error(400, 'validation', 'this double handles TXT only');
      if (Number(body['Ttl'] ?? 300) < 60) return error(400, 'validation', 'Ttl must be at least 60');
      const r = {
        zoneId,
        name: String(body['Name']),
        value: String(body['Value']),
        ttl: Number(body['Ttl'] ?? 300),
      };
      const id = nextId++;
      records.set(id, r);
      await opts.backend.add(fqdnOf(r.name, zoneId), r.value);
      return { status: 201, body: { Id: id, Type: 3, Ttl: r.ttl, Value: r.value, Name: r.name } };
    }
    if (parts.length === 4 && call.method === 'DELETE') {
      const r = records.get(Number(parts[3]));
      if (r === undefined || r.zoneId !== zoneId)
        return error(404, 'dnsrecord.not_found', 'The requested DNS record was not found');
      records.delete(Number(parts[3]));
      await opts.backend.remove(fqdnOf(r.name, zoneId), r.value);
      return { status: 204 };
    }
    return error(405, 'method', 'Method not allowed');
  });
}
