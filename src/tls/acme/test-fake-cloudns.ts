/**
 * A test double of ClouDNS's HTTP API (https://www.cloudns.net/wiki/article/42/): every call
 * authenticated by `auth-id` (or `sub-auth-id`) and `auth-password` in the query (else 200
 * `{"status":"Failed","statusDescription":"Invalid authentication, incorrect auth-id or
 * auth-password."}`); `get-zone-info.json`, `records.json` (an object of records by id, `[]` when
 * none), `add-record.json` and `delete-record.json` (POST, `{"status":"Success"}`), and
 * `update-status.json`, whose name servers report `updated` only from the second question after a
 * change.
 */
import { type DnsBackend, type FakeAnswer, type FakeApi, startFakeApi } from './test-fake-dns-api.ts';

export interface FakeCloudnsOptions {
  readonly authId: string;
  readonly password: string;
  readonly zones: readonly string[];
  readonly backend: DnsBackend;
}

const TTLS = new Set([
  '60',
  '300',
  '900',
  '1800',
  '3600',
  '21600',
  '43200',
  '86400',
  '172800',
  '259200',
  '604800',
  '1209600',
  '2592000',
]);

export async function startFakeCloudns(opts: FakeCloudnsOptions): Promise<FakeApi> {
  const records = new Map<string, { zone: string; host: string; record: string; ttl: string }>();
  let nextId = 261;
  let unsynced = 0;
  const failed = (text: string): FakeAnswer => ({
    status: 200,
    body: { status: 'Failed', statusDescription: text },
  });
  const fqdnOf = (host: string, zone: string) => (host === '' ? `${zone}.` : `${host}.${zone}.`);
  return startFakeApi(async (call) => {
    const q = call.query;
    const id = q.get('auth-id') ?? q.get('sub-auth-id');
    if (id !== opts.authId || q.get('auth-password') !== opts.password)
      return failed('Invalid authentication, incorrect auth-id or auth-password.');
    const endpoint = call.path.replace(/^\/dns\//, '');
    const zone = q.get('domain-name') ?? '';
    if (!opts.zones.includes(zone)) return failed(`Missing domain-name or it is not a zone: ${zone}`);
    const method = (m: string): FakeAnswer | undefined =>
      call.method === m ? undefined : { status: 405, body: 'Method Not Allowed', contentType: 'text/plain' };
    switch (endpoint) {
      case 'get-zone-info.json':
        return (
          method('GET') ?? { status: 200, body: { name: zone, type: 'master', zone: 'domain', status: '1' } }
        );
      case 'records.json': {
        const wrong = method('GET');
        if (wrong !== undefined) return wrong;
        const found = [...records].filter(
          ([, r]) =>
            r.zone === zone && r.host === (q.get('host') ?? r.host) && (q.get('type') ?? 'TXT') === 'TXT',
        );
        if (found.length === 0) return { status: 200, body: [] };
        return {
          status: 200,
          body: Object.fromEntries(
            found.map(([rid, r]) => [
              rid,
              {
                id: rid,
                type: 'TXT',
                host: r.host,
                record: r.record,
                dynamicurl_status: 0,
                failover: '0',
                ttl: r.ttl,
                status: 1,
              },
            ]),
          ),
        };
      }
      case 'add-record.json': {
        const wrong = method('POST');
        if (wrong !== undefined) return wrong;
        if (q.get('record-type') !== 'TXT') return failed('this double handles TXT only');
        if (!TTLS.has(q.get('ttl') ?? ''))
          return failed('Invalid TTL. Choose from the list of the values we support.');
        const r = { zone, host: q.get('host') ?? '', record: q.get('record') ?? '', ttl: q.get('ttl') ?? '' };
        const rid = String(nextId++);
        records.set(rid, r);
        unsynced = 1;
        await opts.backend.add(fqdnOf(r.host, zone), r.record);
        return {
          status: 200,
          body: {
            status: 'Success',
            statusDescription: 'The record was added successfully.',
            data: { id: Number(rid) },
          },
        };
      }
      case 'delete-record.json': {
        const wrong = method('POST');
        if (wrong !== undefined) return wrong;
        const r = records.get(q.get('record-id') ?? '');
        if (r === undefined || r.zone !== zone) return failed('Invalid record-id param.');
        records.delete(q.get('record-id') ?? '');
        await opts.backend.remove(fqdnOf(r.host, zone), r.record);
        return {
          status: 200,
          body: { status: 'Success', statusDescription: 'The record was deleted successfully.' },
        };
      }
      case 'update-status.json': {
        const wrong = method('GET');
        if (wrong !== undefined) return wrong;
        const lagging = unsynced > 0;
        if (unsynced > 0) unsynced--;
        return {
          status: 200,
          body: [
            { server: 'pns1.cloudns.net', ip4: '185.136.96.66', ip6: '2a06:fb00:1::1:66', updated: true },
            { server: 'pns2.cloudns.net', ip4: '185.136.97.66', ip6: '2a06:fb00:1::2:66', updated: !lagging },
          ],
        };
      }
    }
    return { status: 404, body: 'Not Found', contentType: 'text/plain' };
  });
}
