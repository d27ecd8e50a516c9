/**
 * A test double of Hetzner's two DNS APIs, after their documentation and lego's clients:
 *
 * - the Cloud API (https://docs.hetzner.cloud/reference/cloud#zone-rrset-actions), Bearer token:
 *   `POST /v1/zones/<zone>/rrsets/<name>/TXT/actions/add_records|remove_records` with TXT values
 *   in presentation format (quoted), answered with an action that `GET /v1/actions/<id>` reports
 *   `running` once, then `success`;
 * - the older DNS Console API (https://dns.hetzner.com/api-docs), `Auth-API-Token` header:
 *   `/api/v1/zones?name=`, `/api/v1/records` (POST, GET `?zone_id=`), `/api/v1/records/<id>` (DELETE).
 */
import {
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  type FakeCall,
  jsonBody,
  shapeProblems,
  startFakeApi,
} from './test-fake-dns-api.ts';

export interface FakeHetznerOptions {
  /** Cloud API token; requests with another get 401. */
  readonly token?: string;
  /** Legacy DNS Console API key. */
  readonly apiKey?: string;
  /** Zones, without the final dot. */
  readonly zones: readonly string[];
  readonly backend: DnsBackend;
}

export async function startFakeHetzner(opts: FakeHetznerOptions): Promise<FakeApi> {
  const actions = new Map<string, { polls: number }>();
  const legacy = new Map<string, { zoneId: string; name: string; value: string }>();
  let nextId = 13;
  const cloudError = (status: number, code: string, message: string): FakeAnswer => ({
    status,
    body: { error: { code, message, details: {} } },
  });
  const zoneIdOf = (zone: string): string => `z${opts.zones.indexOf(zone) + 1}`;
  const zoneById = (id: string): string | undefined => opts.zones.find((z) => zoneIdOf(z) === id);

  const cloud = async (call: FakeCall, parts: string[]): Promise<FakeAnswer> => {
    if (opts.token === undefined || call.headers.authorization !== `Bearer ${opts.token}`) {
      return cloudError(401, 'unauthorized', 'unable to authenticate');
    }
    if (call.method === 'GET' && parts[1] === 'actions' && parts.length === 3) {
      const a = actions.get(parts[2] ?? '');
      if (a === undefined) return cloudError(404, 'not_found', 'action not found');
      a.polls++;
      const status = a.polls === 1 ? 'running' : 'success';
      return {
        status: 200,
        body: {
          action: {
            id: Number(parts[2]),
            command: 'add_rrset_records',
            status,
            progress: status === 'success' ? 100 : 50,
            error: null,
          },
        },
      };
    }
    // v1 zones <zone> rrsets <name> TXT actions <verb>
    if (
      call.method !== 'POST' ||
      parts[1] !== 'zones' ||
      parts[3] !== 'rrsets' ||
      parts[6] !== 'actions' ||
      parts.length !== 8
    ) {
      return cloudError(404, 'not_found', 'no such route');
    }
    const zone = parts[2] ?? '';
    if (!opts.zones.includes(zone)) return cloudError(404, 'not_found', 'zone not found');
    if (parts[5] !== 'TXT') return cloudError(422, 'invalid_input', 'this double handles TXT only');
    const body = jsonBody(call);
    if (typeof body === 'string') return cloudError(400, 'invalid_input', body);
    const verb = parts[7];
    const wrong =
      verb === 'add_records'
        ? shapeProblems(body, { records: 'array' }, { ttl: 'number' })
        : verb === 'remove_records'
          ? shapeProblems(body, { records: 'array' })
          : `unknown action ${verb}`;
    if (wrong !== undefined) return cloudError(422, 'invalid_input', wrong);
    const fqdn = `${parts[4]}.${zone}.`;
    for (const r of body['records'] as unknown[]) {
      const value = (r as { value?: unknown }).value;
      if (typeof value !== 'string' || !/^".*"$/.test(value)) {
        return cloudError(422, 'invalid_input', 'a TXT record value must be a quoted string');
      }
      const text = JSON.parse(value) as string;
      if (verb === 'add_records') await opts.backend.add(fqdn, text);
      else await opts.backend.remove(fqdn, text);
    }
    const id = String(nextId++);
    actions.set(id, { polls: 0 });
    return {
      status: 201,
      body: {
        action: {
          id: Number(id),
          command: `${verb === 'add_records' ? 'add' : 'remove'}_rrset_records`,
          status: 'running',
          progress: 0,
        },
      },
    };
  };

  const old = async (call: FakeCall, parts: string[]): Promise<FakeAnswer> => {
    if (opts.apiKey === undefined || call.headers['auth-api-token'] !== opts.apiKey) {
      return { status: 401, body: { message: 'Invalid authentication credentials' } };
    }
    const what = parts.slice(2).join('/');
    if (call.method === 'GET' && what === 'zones') {
      const name = call.query.get('name') ?? '';
      if (!opts.zones.includes(name))
        return { status: 404, body: { zones: [], error: { message: 'zone not found', code: 404 } } };
      return {
        status: 200,
        body: { zones: [{ id: zoneIdOf(name), name, ttl: 86400 }], meta: { pagination: { page: 1 } } },
      };
    }
    if (call.method === 'POST' && what === 'records') {
      const body = jsonBody(call);
      if (typeof body === 'string') return { status: 400, body: { error: { message: body, code: 400 } } };
      const wrong = shapeProblems(
        body,
        { zone_id: 'string', type: 'string', name: 'string', value: 'string' },
        { ttl: 'number' },
      );
      const zone = zoneById(String(body['zone_id']));
      if (wrong !== undefined || zone === undefined)
        return { status: 422, body: { error: { message: wrong ?? 'zone not found', code: 422 } } };
      const id = `r${nextId++}`;
      legacy.set(id, {
        zoneId: String(body['zone_id']),
        name: String(body['name']),
        value: String(body['value']),
      });
      await opts.backend.add(`${body['name']}.${zone}.`, String(body['value']));
      return {
        status: 200,
        body: {
          record: { id, type: 'TXT', name: body['name'], value: body['value'], zone_id: body['zone_id'] },
        },
      };
    }
    if (call.method === 'GET' && what === 'records') {
      const zoneId = call.query.get('zone_id') ?? '';
      const records = [...legacy]
        .filter(([, r]) => r.zoneId === zoneId)
        .map(([id, r]) => ({ id, type: 'TXT', name: r.name, value: r.value, zone_id: r.zoneId }));
      return { status: 200, body: { records } };
    }
    if (call.method === 'DELETE' && parts[2] === 'records' && parts.length === 4) {
      const r = legacy.get(parts[3] ?? '');
      if (r === undefined)
        return { status: 404, body: { error: { message: 'record not found', code: 404 } } };
      legacy.delete(parts[3] ?? '');
      await opts.backend.remove(`${r.name}.${zoneById(r.zoneId)}.`, r.value);
      return { status: 200, body: {} };
    }
    return { status: 404, body: { error: { message: 'no such route', code: 404 } } };
  };

  return startFakeApi((call) => {
    const parts = call.path.split('/').filter((p) => p !== '');
    if (parts[0] === 'v1') return cloud(call, parts);
    if (parts[0] === 'api' && parts[1] === 'v1') return old(call, parts);
    return cloudError(404, 'not_found', 'no such route');
  });
}
