/**
 * A test double of Cloudflare's API v4 for the dns-01 TXT records, after its documentation
 * (https://developers.cloudflare.com/api/resources/zones/methods/list/,
 * …/dns/subresources/records/methods/create/ and …/delete/) and lego's client: the envelope
 * `{success, errors, messages, result}`, zones listed by `name`, records created and deleted by
 * id. Authentication is checked per operation: an API token must be allowed Zone:Read to list
 * zones and DNS:Edit to change records (the split-token setup), the global key needs the email.
 */
import {
  absolute,
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  type FakeCall,
  jsonBody,
  shapeProblems,
  startFakeApi,
} from './test-fake-dns-api.ts';

export interface FakeCloudflareOptions {
  /** Zone name (without the final dot) → zone id. */
  readonly zones: Readonly<Record<string, string>>;
  /** Tokens and what each may do. */
  readonly tokens?: Readonly<Record<string, { readonly zoneRead: boolean; readonly dnsEdit: boolean }>>;
  /** The global API key and its account's email. */
  readonly key?: { readonly email: string; readonly key: string };
  readonly backend: DnsBackend;
}

export const CLOUDFLARE_BASE_PATH = '/client/v4';

interface StoredRecord {
  readonly zoneId: string;
  readonly name: string;
  readonly content: string;
}

export async function startFakeCloudflare(
  opts: FakeCloudflareOptions,
): Promise<FakeApi & { readonly records: Map<string, StoredRecord> }> {
  const records = new Map<string, StoredRecord>();
  let nextId = 1;
  const fail = (status: number, code: number, message: string): FakeAnswer => ({
    status,
    body: { success: false, errors: [{ code, message }], messages: [], result: null },
  });
  const ok = (result: unknown): FakeAnswer => ({
    status: 200,
    body: { success: true, errors: [], messages: [], result },
  });
  const allowed = (call: FakeCall, need: 'zoneRead' | 'dnsEdit'): FakeAnswer | undefined => {
    const bearer = /^Bearer (.+)$/.exec(String(call.headers.authorization ?? ''))?.[1];
    if (bearer !== undefined) {
      const t = opts.tokens?.[bearer];
      if (t === undefined) return fail(403, 10000, 'Authentication error');
      return t[need] ? undefined : fail(403, 10000, 'Authentication error');
    }
    const email = call.headers['x-auth-email'];
    const key = call.headers['x-auth-key'];
    if (email === undefined && key === undefined)
      return fail(400, 9106, 'Missing X-Auth-Key, X-Auth-Email or Authorization headers');
    if (opts.key === undefined || email !== opts.key.email || key !== opts.key.key) {
      return fail(403, 9103, 'Unknown X-Auth-Key or X-Auth-Email');
    }
    return undefined;
  };
  const zoneName = (id: string): string | undefined =>
    Object.entries(opts.zones).find(([, v]) => v === id)?.[0];
  const api = await startFakeApi(async (call) => {
    if (!call.path.startsWith(CLOUDFLARE_BASE_PATH)) return fail(404, 7000, 'No route for that URI');
    const parts = call.path
      .slice(CLOUDFLARE_BASE_PATH.length)
      .split('/')
      .filter((p) => p !== '');
    if (call.method === 'GET' && parts.length === 1 && parts[0] === 'zones') {
      const denied = allowed(call, 'zoneRead');
      if (denied !== undefined) return denied;
      const name = call.query.get('name');
      const result = Object.entries(opts.zones)
        .filter(([n]) => name === null || n === name)
        .map(([n, id]) => ({ id, name: n, status: 'active', paused: false, type: 'full' }));
      return {
        status: 200,
        body: {
          success: true,
          errors: [],
          messages: [],
          result,
          result_info: {
            page: 1,
            per_page: Number(call.query.get('per_page') ?? 20),
            count: result.length,
            total_count: result.length,
            total_pages: 1,
          },
        },
      };
    }
    if (parts[0] !== 'zones' || parts[2] !== 'dns_records') return fail(404, 7000, 'No route for that URI');
    const zoneId = parts[1] ?? '';
    const zone = zoneName(zoneId);
    if (zone === undefined)
      return fail(404, 7003, 'Could not route to /zones/…, perhaps your object identifier is invalid?');
    const denied = allowed(call, 'dnsEdit');
    if (denied !== undefined) return denied;
    if (call.method === 'POST' && parts.length === 3) {
      const body = jsonBody(call);
      if (typeof body === 'string') return fail(400, 9207, body);
      const wrong = shapeProblems(
        body,
        { type: 'string', name: 'string', content: 'string', ttl: 'number' },
        { comment: 'string' },
      );
      if (wrong !== undefined) return fail(400, 9207, `Request body is invalid: ${wrong}`);
      if (body['type'] !== 'TXT') return fail(400, 9004, 'This record type is not handled by this double');
      const name = String(body['name']);
      const ttl = Number(body['ttl']);
      if (ttl !== 1 && (ttl < 60 || ttl > 86400))
        return fail(400, 9021, 'Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.');
      if (name.endsWith('.') || !absolute(name).endsWith(`.${absolute(zone)}`)) {
        return fail(
          400,
          9005,
          `Content for the name ${name} must be a name in the zone ${zone}, without the final dot`,
        );
      }
      const id = `rec${String(nextId++).padStart(6, '0')}`;
      const content = String(body['content']);
      records.set(id, { zoneId, name, content });
      await opts.backend.add(name, content);
      return ok({
        id,
        zone_id: zoneId,
        zone_name: zone,
        name,
        type: 'TXT',
        content,
        ttl,
        proxiable: false,
        proxied: false,
      });
    }
    if (call.method === 'DELETE' && parts.length === 4) {
      const id = parts[3] ?? '';
      const r = records.get(id);
      if (r === undefined || r.zoneId !== zoneId) return fail(404, 81044, 'Record does not exist.');
      records.delete(id);
      await opts.backend.remove(r.name, r.content);
      return ok({ id });
    }
    return fail(405, 10405, 'Method not allowed for this route');
  });
  return Object.assign(api, { records });
}
