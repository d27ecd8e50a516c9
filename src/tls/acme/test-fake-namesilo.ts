/**
 * A test double of NameSilo's API (https://www.namesilo.com/api-reference): `GET /api/<operation>`
 * with `version=1`, `type=xml` and `key` in the query (a wrong key: code 110 "Invalid API Key"),
 * answered 200 `<namesilo><request>…</request><reply><code>…</code><detail>…</detail>…</reply></namesilo>`;
 * `dnsAddRecord` (`domain`, `rrtype`, `rrhost` relative, `rrvalue`, `rrttl` at least 3600 here,
 * `rrdistance`), `dnsListRecords` (hosts answered as full names) and `dnsDeleteRecord` (`rrid`).
 */
import { type DnsBackend, type FakeApi, startFakeApi } from './test-fake-dns-api.ts';

export interface FakeNamesiloOptions {
  readonly apiKey: string;
  readonly domains: readonly string[];
  readonly backend: DnsBackend;
}

export async function startFakeNamesilo(opts: FakeNamesiloOptions): Promise<FakeApi> {
  const records = new Map<string, { domain: string; host: string; value: string; ttl: string }>();
  let nextId = 1;
  const answer = (operation: string, code: string, detail: string, extra = '') => ({
    status: 200,
    contentType: 'text/xml',
    body: `<?xml version="1.0"?>\n<namesilo><request><operation>${operation}</operation><ip>127.0.0.1</ip></request><reply><code>${code}</code><detail>${detail}</detail>${extra}</reply></namesilo>`,
  });
  const fqdnOf = (host: string, domain: string) => (host === '' ? `${domain}.` : `${host}.${domain}.`);
  return startFakeApi(async (call) => {
    const operation = call.path.replace(/^\/api\//, '');
    const q = call.query;
    if (call.method !== 'GET') return { status: 405, body: 'Method Not Allowed', contentType: 'text/plain' };
    if (q.get('version') !== '1' || q.get('type') !== 'xml')
      return answer(operation, '109', 'Invalid version or type');
    if (q.get('key') !== opts.apiKey) return answer(operation, '110', 'Invalid API Key');
    const domain = q.get('domain') ?? '';
    if (!opts.domains.includes(domain))
      return answer(operation, '200', 'Domain is not active, or does not belong to this user');
    if (operation === 'dnsAddRecord') {
      if (q.get('rrtype') !== 'TXT') return answer(operation, '280', 'this double handles TXT only');
      if (Number(q.get('rrttl') ?? '0') < 3600) return answer(operation, '280', 'Invalid TTL');
      if (q.get('rrdistance') === null) return answer(operation, '280', 'rrdistance missing');
      const r = {
        domain,
        host: q.get('rrhost') ?? '',
        value: q.get('rrvalue') ?? '',
        ttl: q.get('rrttl') ?? '',
      };
      const id = `rr${String(nextId++).padStart(8, '0')}`;
      records.set(id, r);
      await opts.backend.add(fqdnOf(r.host, domain), r.value);
      return answer(operation, '300', 'success', `<record_id>${id}</record_id>`);
    }
    if (operation === 'dnsListRecords') {
      const list = [...records]
        .filter(([, r]) => r.domain === domain)
        .map(
          ([id, r]) =>
            `<resource_record><record_id>${id}</record_id><type>TXT</type><host>${fqdnOf(r.host, domain).slice(0, -1)}</host><value>${r.value}</value><ttl>${r.ttl}</ttl><distance>0</distance></resource_record>`,
        )
        .join('');
      return answer(
        operation,
        '300',
        'success',
        `<resource_record><record_id>a1</record_id><type>A</type><host>${domain}</host><value>192.0.2.1</value><ttl>7207</ttl><distance>0</distance></resource_record>${list}`,
      );
    }
    if (operation === 'dnsDeleteRecord') {
      const r = records.get(q.get('rrid') ?? '');
      if (r === undefined || r.domain !== domain) return answer(operation, '280', 'Invalid rrid');
      records.delete(q.get('rrid') ?? '');
      await opts.backend.remove(fqdnOf(r.host, domain), r.value);
      return answer(operation, '300', 'success');
    }
    return answer(operation, '102', 'Invalid operation');
  });
}
