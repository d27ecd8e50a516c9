/**
 * A test double of Porkbun's API v3 DNS records (https://porkbun.com/api/json/v3/documentation):
 * every call a `POST` with `apikey` and `secretapikey` in the JSON body (bad keys: 400 `{"status":
 * "ERROR","message":"Invalid API key. (001)"}`); `/dns/create/<domain>` takes `name` (relative),
 * `type`, `content`, `ttl` (a string, at least 300) and answers `{"status":"SUCCESS","id":…}`;
 * `/dns/delete/<domain>/<id>` answers `{"status":"SUCCESS"}`.
 */
import { type DnsBackend, type FakeAnswer, type FakeApi, startFakeApi } from './test-fake-dns-api.ts';

export interface FakePorkbunOptions {
  readonly apiKey: string;
  readonly secretApiKey: string;
  readonly domains: readonly string[];
  readonly backend: DnsBackend;
}

export async function startFakePorkbun(opts: FakePorkbunOptions): Promise<FakeApi> {
  const records = new Map<string, { domain: string; fqdn: string; content: string }>();
  let nextId = 106926652;
  const error = (status: number, message: string): FakeAnswer => ({
    status,
    body: { status: 'ERROR', message },
  });
  return startFakeApi(async (call) => {
    if (call.method !== 'POST') return error(405, 'Method not allowed');
    // nrdcg/porkbun sends no Content-Type; Porkbun reads the body as JSON regardless.
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(call.body) as Record<string, unknown>;
    } catch {
      return error(400, 'the body is not JSON');
    }
    if (body['apikey'] !== opts.apiKey || body['secretapikey'] !== opts.secretApiKey)
      return error(400, 'Invalid API key. (001)');
    const parts = call.path.split('/').filter((p) => p !== '');
    if (parts[0] !== 'dns') return error(404, 'Unknown endpoint');
    const domain = parts[2] ?? '';
    if (!opts.domains.includes(domain)) return error(400, 'Invalid domain.');
    if (parts[1] === 'create' && parts.length === 3) {
      for (const k of Object.keys(body))
        if (!['apikey', 'secretapikey', 'name', 'type', 'content', 'ttl', 'prio', 'notes'].includes(k))
          return error(400, `Unknown field ${k}`);
      if (body['type'] !== 'TXT') return error(400, 'this double handles TXT only');
      if (typeof body['content'] !== 'string' || body['content'] === '')
        return error(400, 'Content is required.');
      if (typeof body['ttl'] !== 'string' || Number(body['ttl']) < 300)
        return error(400, 'TTL must be a string of at least 300.');
      const name = typeof body['name'] === 'string' ? body['name'] : '';
      const fqdn = name === '' ? `${domain}.` : `${name}.${domain}.`;
      const id = nextId++;
      records.set(String(id), { domain, fqdn, content: body['content'] });
      await opts.backend.add(fqdn, body['content']);
      return { status: 200, body: { status: 'SUCCESS', id } };
    }
    if (parts[1] === 'delete' && parts.length === 4) {
      const r = records.get(parts[3] ?? '');
      if (r === undefined || r.domain !== domain) return error(400, 'Invalid record id.');
      records.delete(parts[3] ?? '');
      await opts.backend.remove(r.fqdn, r.content);
      return { status: 200, body: { status: 'SUCCESS' } };
    }
    return error(404, 'Unknown endpoint');
  });
}
