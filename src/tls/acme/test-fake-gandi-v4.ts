/**
 * A test double of Gandi's legacy v4 XML-RPC API (https://doc.rpc.gandi.net/): `POST /xmlrpc/`
 * of a `<methodCall>` whose first parameter is the API key (a wrong one: fault 510150 "Error on
 * object : OBJECT_ACCOUNT (CAUSE_NORIGHT)"). Zones are versioned: `domain.info` names a domain's
 * `zone_id`; `domain.zone.clone`, `domain.zone.version.new`, `domain.zone.record.add`,
 * `domain.zone.version.set`, `domain.zone.set` (the domain's live zone) and `domain.zone.delete`
 * (not the live one). The records the live zones' active versions hold are in the back end.
 */
import { absolute, type DnsBackend, type FakeApi, startFakeApi } from './test-fake-dns-api.ts';
import { parseXmlRpcCall, type XmlRpcValue, xmlRpcResponse } from './xml-rpc.ts';

export interface FakeGandiV4Options {
  readonly apiKey: string;
  readonly domains: readonly string[];
  readonly backend: DnsBackend;
}

interface Zone {
  name: string;
  active: number;
  versions: Map<number, { name: string; value: string }[]>;
}

export async function startFakeGandiV4(
  opts: FakeGandiV4Options,
): Promise<FakeApi & { zones: Map<number, Zone> }> {
  const zones = new Map<number, Zone>();
  const live = new Map<string, number>();
  let nextZone = 1;
  for (const d of opts.domains) {
    zones.set(nextZone, { name: d, active: 1, versions: new Map([[1, []]]) });
    live.set(d, nextZone++);
  }
  const fault = (code: number, text: string) => ({
    status: 200,
    contentType: 'text/xml',
    body: `<?xml version="1.0"?><methodResponse><fault><value><struct><member><name>faultCode</name><value><int>${code}</int></value></member><member><name>faultString</name><value><string>${text}</string></value></member></struct></value></fault></methodResponse>`,
  });
  const ok = (v: XmlRpcValue) => ({ status: 200, contentType: 'text/xml', body: xmlRpcResponse(v) });
  const publish = async (domain: string, records: { name: string; value: string }[], add: boolean) => {
    for (const r of records) {
      const fqdn = absolute(`${r.name}.${domain}`);
      if (add) await opts.backend.add(fqdn, r.value);
      else await opts.backend.remove(fqdn, r.value);
    }
  };
  const api = await startFakeApi(async (call) => {
    if (call.method !== 'POST' || call.path !== '/xmlrpc/')
      return { status: 404, body: 'Not Found', contentType: 'text/plain' };
    let parsed: { method: string; params: XmlRpcValue[] };
    try {
      parsed = parseXmlRpcCall(call.body);
    } catch {
      return fault(500, 'malformed call');
    }
    const [key, ...p] = parsed.params;
    if (key !== opts.apiKey)
      return fault(510150, 'Error on object : OBJECT_ACCOUNT (CAUSE_NORIGHT) [Invalid API key]');
    switch (parsed.method) {
      case 'domain.info': {
        // lego sends the zone with its final dot.
        const d = String(p[0] ?? '').replace(/\.$/, '');
        const id = live.get(d);
        return id === undefined
          ? fault(510042, `Error on object : OBJECT_DOMAIN (CAUSE_NOTFOUND) [Domain '${d}' doesn't exist.]`)
          : ok({ fqdn: d, zone_id: id });
      }
      case 'domain.zone.clone': {
        const src = zones.get(Number(p[0]));
        if (src === undefined || p[1] !== 0) return fault(510042, 'zone not found');
        const id = nextZone++;
        const records = [...(src.versions.get(src.active) ?? [])];
        zones.set(id, {
          name: String((p[2] as Record<string, XmlRpcValue>)?.['name'] ?? ''),
          active: 1,
          versions: new Map([[1, records]]),
        });
        return ok({ id, name: zones.get(id)?.name ?? '', version: 1 });
      }
      case 'domain.zone.version.new': {
        const z = zones.get(Number(p[0]));
        if (z === undefined) return fault(510042, 'zone not found');
        const v = z.versions.size + 1;
        z.versions.set(v, [...(z.versions.get(z.active) ?? [])]);
        return ok(v);
      }
      case 'domain.zone.record.add': {
        const z = zones.get(Number(p[0]));
        const records = z?.versions.get(Number(p[1]));
        const r = p[2] as Record<string, XmlRpcValue> | undefined;
        if (records === undefined || r === undefined) return fault(510042, 'version not found');
        if (r['type'] !== 'TXT' || Number(r['ttl']) < 300)
          return fault(581042, 'Error on object : OBJECT_RECORD (CAUSE_BADPARAMETER)');
        records.push({ name: String(r['name']), value: String(r['value']) });
        return ok({ id: 1, name: r['name'] ?? '', type: 'TXT', value: r['value'] ?? '', ttl: r['ttl'] ?? 0 });
      }
      case 'domain.zone.version.set': {
        const z = zones.get(Number(p[0]));
        if (z === undefined || !z.versions.has(Number(p[1]))) return fault(510042, 'version not found');
        z.active = Number(p[1]);
        return ok(true);
      }
      case 'domain.zone.set': {
        const d = String(p[0] ?? '').replace(/\.$/, '');
        const old = live.get(d);
        const next = zones.get(Number(p[1]));
        if (old === undefined || next === undefined) return fault(510042, 'not found');
        await publish(d, zones.get(old)?.versions.get(zones.get(old)?.active ?? 0) ?? [], false);
        live.set(d, Number(p[1]));
        await publish(d, next.versions.get(next.active) ?? [], true);
        return ok({ fqdn: d, zone_id: Number(p[1]) });
      }
      case 'domain.zone.delete': {
        const id = Number(p[0]);
        if ([...live.values()].includes(id) || !zones.has(id))
          return fault(510042, 'zone in use or not found');
        zones.delete(id);
        return ok(true);
      }
    }
    return fault(500, `unknown method ${parsed.method}`);
  });
  return Object.assign(api, { zones });
}
