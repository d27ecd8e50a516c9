/**
 * A test double of Dynu's API v2 (https://www.dynu.com/Support/API): `API-Key` header (else 401
 * `{"statusCode":401,"type":"Authentication Exception","message":"Invalid API key."}`); `GET
 * /v2/dns/getroot/<hostname>` answers the root domain (`id`, `domainName`, `hostname`, `node`);
 * `GET /v2/dns/record/<hostname>?recordType=` lists its records; `POST /v2/dns/<id>/record` adds
 * one (`recordType`, `domainName`, `nodeName`, `hostname`, `state`, `textData`, `ttl`); `DELETE
 * /v2/dns/<id>/record/<record id>`. Every answer carries `statusCode`.
 */
import {
  absolute,
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  jsonBody,
  startFakeApi,
  zoneOf,
} from './test-fake-dns-api.ts';

export interface FakeDynuOptions {
  readonly apiKey: string;
  readonly domains: readonly string[];
  readonly backend: DnsBackend;
}

export async function startFakeDynu(opts: FakeDynuOptions): Promise<FakeApi> {
  const records = new Map<
    number,
    { domainId: number; hostname: string; nodeName: string; textData: string; ttl: number }
  >();
  let nextId = 7001;
  const idOf = (d: string) => 98765 + opts.domains.indexOf(d);
  const error = (status: number, type: string, message: string): FakeAnswer => ({
    status,
    body: { statusCode: status, type, message },
  });
  return startFakeApi(async (call) => {
    if (call.headers['api-key'] !== opts.apiKey)
      return error(401, 'Authentication Exception', 'Invalid API key.');
    const parts = call.path.split('/').filter((p) => p !== '');
    if (parts[0] !== 'v2' || parts[1] !== 'dns') return error(404, 'Not Found', 'Not found');
    if (parts[2] === 'getroot' && parts.length === 4 && call.method === 'GET') {
      const hostname = parts[3] ?? '';
      const zone = zoneOf(hostname, opts.domains);
      if (zone === undefined) return error(501, 'Argument Exception', 'Invalid domain name.');
      const domainName = zone.slice(0, -1);
      return {
        status: 200,
        body: {
          statusCode: 200,
          id: idOf(domainName),
          domainName,
          hostname,
          node: hostname.slice(0, -(domainName.length + 1)),
        },
      };
    }
    if (parts[2] === 'record' && parts.length === 4 && call.method === 'GET') {
      const hostname = parts[3] ?? '';
      const dnsRecords = [...records]
        .filter(([, r]) => r.hostname === hostname && (call.query.get('recordType') ?? 'TXT') === 'TXT')
        .map(([id, r]) => ({
          id,
          domainId: r.domainId,
          recordType: 'TXT',
          hostname: r.hostname,
          nodeName: r.nodeName,
          textData: r.textData,
          ttl: r.ttl,
          state: true,
        }));
      return { status: 200, body: { statusCode: 200, dnsRecords } };
    }
    const domainId = Number(parts[2]);
    const domain = opts.domains[domainId - 98765];
    if (domain === undefined || parts[3] !== 'record') return error(404, 'Not Found', 'Domain not found');
    if (parts.length === 4 && call.method === 'POST') {
      const body = jsonBody(call);
      if (typeof body === 'string') return error(400, 'Validation Exception', body);
      if (body['recordType'] !== 'TXT')
        return error(400, 'Validation Exception', 'this double handles TXT only');
      const hostname = String(body['hostname'] ?? '');
      if (absolute(`${body['nodeName']}.${domain}`) !== absolute(hostname) || body['domainName'] !== domain)
        return error(400, 'Validation Exception', 'nodeName, domainName and hostname disagree');
      const r = {
        domainId,
        hostname,
        nodeName: String(body['nodeName']),
        textData: String(body['textData'] ?? ''),
        ttl: Number(body['ttl'] ?? 120),
      };
      const id = nextId++;
      records.set(id, r);
      await opts.backend.add(hostname, r.textData);
      return { status: 200, body: { statusCode: 200, id, recordType: 'TXT', ...r } };
    }
    if (parts.length === 5 && call.method === 'DELETE') {
      const r = records.get(Number(parts[4]));
      if (r === undefined || r.domainId !== domainId)
        return error(501, 'Argument Exception', 'Invalid record id.');
      records.delete(Number(parts[4]));
      await opts.backend.remove(r.hostname, r.textData);
      return { status: 200, body: { statusCode: 200 } };
    }
    return error(405, 'Method Not Allowed', 'Method not allowed');
  });
}
