/**
 * A test double of netcup's CCP JSON API (https://ccp.netcup.net/run/webservice/servers/endpoint.php,
 * https://www.netcup-wiki.de/wiki/CCP_API): `POST …/endpoint.php?JSON` of `{"action","param"}`,
 * answered 200 `{"serverrequestid","action","status","statuscode","shortmessage","longmessage",
 * "responsedata"}` (`status` `error` on a failure). `login` checks the customer number, key and
 * password and opens a session; `infoDnsRecords` lists the zone's records (ids as strings);
 * `updateDnsRecords` creates the records without an id, deletes those with `deleterecord`, and
 * answers the zone's records; `logout` ends the session. Every action but `login` needs a live
 * session of the same customer and key.
 */
import { type DnsBackend, type FakeAnswer, type FakeApi, startFakeApi } from './test-fake-dns-api.ts';

export interface FakeNetcupOptions {
  readonly customer: string;
  readonly apiKey: string;
  readonly password: string;
  readonly zones: readonly string[];
  readonly backend: DnsBackend;
}

export async function startFakeNetcup(opts: FakeNetcupOptions): Promise<FakeApi> {
  const sessions = new Set<string>();
  const records = new Map<string, { zone: string; hostname: string; type: string; destination: string }>();
  let nextId = 7001;
  let nextSession = 1;
  const answer = (
    action: string,
    status: string,
    code: number,
    short: string,
    data?: unknown,
  ): FakeAnswer => ({
    status: 200,
    body: {
      serverrequestid: `srv-${nextId}`,
      clientrequestid: '',
      action,
      status,
      statuscode: code,
      shortmessage: short,
      longmessage: status === 'success' ? '' : `${short} (long)`,
      responsedata: data ?? '',
    },
  });
  const list = (zone: string) =>
    [...records]
      .filter(([, r]) => r.zone === zone)
      .map(([id, r]) => ({
        id,
        hostname: r.hostname,
        type: r.type,
        priority: '0',
        destination: r.destination,
        deleterecord: false,
        state: 'yes',
      }));
  const fqdnOf = (hostname: string, zone: string) => (hostname === '@' ? `${zone}.` : `${hostname}.${zone}.`);
  return startFakeApi(async (call) => {
    if (
      call.method !== 'POST' ||
      call.path !== '/run/webservice/servers/endpoint.php' ||
      !call.query.has('JSON')
    )
      return { status: 404, body: 'Not Found', contentType: 'text/plain' };
    if (call.headers['content-type'] !== 'application/json') return answer('', 'error', 4013, 'content type');
    let req: { action?: string; param?: Record<string, unknown> };
    try {
      req = JSON.parse(call.body) as typeof req;
    } catch {
      return answer('', 'error', 4013, 'Validation Error.');
    }
    const action = req.action ?? '';
    const p = req.param ?? {};
    if (p['customernumber'] !== opts.customer || p['apikey'] !== opts.apiKey)
      return answer(action, 'error', 4013, 'The API key is invalid.');
    if (action === 'login') {
      if (p['apipassword'] !== opts.password) return answer(action, 'error', 4013, 'Login failed.');
      const id = `session-${nextSession++}`;
      sessions.add(id);
      return answer(action, 'success', 2000, 'Login successful', { apisessionid: id });
    }
    if (!sessions.has(String(p['apisessionid'])))
      return answer(action, 'error', 4001, 'The session id is not in a valid format.');
    if (action === 'logout') {
      sessions.delete(String(p['apisessionid']));
      return answer(action, 'success', 2000, 'Logout successful');
    }
    const zone = String(p['domainname']);
    if (!opts.zones.includes(zone)) return answer(action, 'error', 5029, 'Can not get DNS records for zone.');
    if (action === 'infoDnsRecords') {
      return answer(action, 'success', 2000, 'DNS records found', {
        apisessionid: p['apisessionid'],
        dnsrecords: list(zone),
      });
    }
    if (action === 'updateDnsRecords') {
      const set = (p['dnsrecordset'] as { dnsrecords?: Record<string, unknown>[] } | undefined)?.dnsrecords;
      if (!Array.isArray(set)) return answer(action, 'error', 4013, 'Validation Error: dnsrecordset.');
      for (const r of set) {
        for (const k of Object.keys(r))
          if (!['id', 'hostname', 'type', 'priority', 'destination', 'deleterecord', 'state'].includes(k))
            return answer(action, 'error', 4013, `Validation Error: unknown field ${k}.`);
        if (r['id'] !== undefined && typeof r['id'] !== 'string')
          return answer(action, 'error', 4013, 'Validation Error: id must be a string.');
      }
      for (const r of set) {
        const id = r['id'] as string | undefined;
        if (id === undefined) {
          const rec = {
            zone,
            hostname: String(r['hostname']),
            type: String(r['type']),
            destination: String(r['destination']),
          };
          records.set(String(nextId++), rec);
          await opts.backend.add(fqdnOf(rec.hostname, zone), rec.destination);
          continue;
        }
        const old = records.get(id);
        if (old === undefined || old.zone !== zone) return answer(action, 'error', 5030, 'Record not found.');
        if (r['deleterecord'] === true) {
          records.delete(id);
          await opts.backend.remove(fqdnOf(old.hostname, zone), old.destination);
        }
      }
      return answer(action, 'success', 2000, 'DNS records successful updated', { dnsrecords: list(zone) });
    }
    return answer(action, 'error', 4013, 'Unknown action.');
  });
}
