/**
 * A test double of IONOS's Hosting DNS API (https://developer.hosting.ionos.com/docs/dns):
 * `X-Api-Key` (else 401 `[{"code":"UNAUTHORIZED","message":"…"}]`); `GET /v1/zones` lists
 * `{"id","name","type"}`; `GET /v1/zones/<id>` answers the zone with its `records`, filtered by
 * `suffix` (names ending with it) and `recordType`, TXT contents quoted; `PATCH /v1/zones/<id>`
 * takes a JSON array of records and replaces, for each name and type in it, the zone's records
 * with those (contents quoted or not); `DELETE /v1/zones/<id>/records/<record id>`. Errors are
 * `[{"code","message"}]`.
 */
import {
  absolute,
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  startFakeApi,
} from './test-fake-dns-api.ts';

export interface FakeIonosOptions {
  readonly apiKey: string;
  readonly zones: readonly string[];
  readonly backend: DnsBackend;
}

interface Rec {
  readonly id: string;
  readonly zoneId: string;
  readonly name: string;
  readonly type: string;
  /** Unquoted. */
  readonly content: string;
  readonly ttl: number;
}

export async function startFakeIonos(opts: FakeIonosOptions): Promise<FakeApi> {
  const records = new Map<string, Rec>();
  let nextId = 1;
  const zoneIdOf = (z: string): string => `zone-${opts.zones.indexOf(z) + 1}`;
  const error = (status: number, code: string, message: string): FakeAnswer => ({
    status,
    body: [{ code, message }],
  });
  const shown = (r: Rec) => ({
    id: r.id,
    name: r.name,
    rootName: opts.zones[Number(r.zoneId.slice(5)) - 1],
    type: r.type,
    content: r.type === 'TXT' ? `"${r.content}"` : r.content,
    changeDate: '2024-01-01T00:00:00.000Z',
    ttl: r.ttl,
    disabled: false,
  });
  return startFakeApi(async (call) => {
    if (call.headers['x-api-key'] !== opts.apiKey)
      return error(401, 'UNAUTHORIZED', 'The API key is invalid.');
    const parts = call.path.split('/').filter((p) => p !== '');
    if (parts[0] !== 'dns' || parts[1] !== 'v1' || parts[2] !== 'zones')
      return error(404, 'NOT_FOUND', 'Not found');
    if (parts.length === 3 && call.method === 'GET') {
      return { status: 200, body: opts.zones.map((name) => ({ id: zoneIdOf(name), name, type: 'NATIVE' })) };
    }
    const zone = opts.zones.find((z) => zoneIdOf(z) === parts[3]);
    if (zone === undefined) return error(404, 'ZONE_NOT_FOUND', 'Zone not found');
    const zoneId = zoneIdOf(zone);
    if (parts.length === 4 && call.method === 'GET') {
      const suffix = call.query.get('suffix') ?? '';
      const types = (call.query.get('recordType') ?? '').split(',').filter((t) => t !== '');
      const list = [...records.values()]
        .filter(
          (r) =>
            r.zoneId === zoneId && r.name.endsWith(suffix) && (types.length === 0 || types.includes(r.type)),
        )
        .map(shown);
      return { status: 200, body: { id: zoneId, name: zone, type: 'NATIVE', records: list } };
    }
    if (parts.length === 4 && call.method === 'PATCH') {
      if (call.headers['content-type'] !== 'application/json') return error(415, 'UNSUPPORTED', 'JSON only');
      let body: unknown;
      try {
        body = JSON.parse(call.body);
      } catch {
        return error(400, 'INVALID_RECORD', 'the body is not JSON');
      }
      if (!Array.isArray(body)) return error(400, 'INVALID_RECORD', 'the body must be an array of records');
      const sent: Rec[] = [];
      for (const r of body as Record<string, unknown>[]) {
        for (const k of Object.keys(r))
          if (!['id', 'name', 'content', 'ttl', 'type', 'prio', 'disabled'].includes(k))
            return error(400, 'INVALID_RECORD', `unknown field ${k}`);
        const name = String(r['name'] ?? '');
        if (!absolute(name).endsWith(`.${absolute(zone)}`) && absolute(name) !== absolute(zone))
          return error(400, 'INVALID_RECORD', `${name} is not in the zone`);
        if (typeof r['ttl'] === 'number' && r['ttl'] < 60) return error(400, 'INVALID_RECORD', 'ttl too low');
        const raw = String(r['content'] ?? '');
        const content = /^".*"$/.test(raw) ? raw.slice(1, -1) : raw;
        sent.push({
          id: '',
          zoneId,
          name,
          type: String(r['type'] ?? ''),
          content,
          ttl: Number(r['ttl'] ?? 3600),
        });
      }
      const replaced = new Set(sent.map((r) => `${r.name}\n${r.type}`));
      for (const [id, r] of records) {
        if (r.zoneId !== zoneId || !replaced.has(`${r.name}\n${r.type}`)) continue;
        records.delete(id);
        await opts.backend.remove(r.name, r.content);
      }
      for (const r of sent) {
        const id = `rec-${nextId++}`;
        records.set(id, { ...r, id });
        await opts.backend.add(r.name, r.content);
      }
      return { status: 200 };
    }
    if (parts.length === 6 && parts[4] === 'records' && call.method === 'DELETE') {
      const r = records.get(parts[5] ?? '');
      if (r === undefined || r.zoneId !== zoneId) return error(404, 'RECORD_NOT_FOUND', 'Record not found');
      records.delete(r.id);
      await opts.backend.remove(r.name, r.content);
      return { status: 200 };
    }
    return error(405, 'METHOD_NOT_ALLOWED', 'Method not allowed');
  });
}
