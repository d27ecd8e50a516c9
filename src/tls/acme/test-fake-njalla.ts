/**
 * A test double of Njalla's JSON-RPC API (https://njal.la/api/): `POST /api/1/` of
 * `{"method","params"}` with `Authorization: Njalla <token>` (else 200 `{"error":{"code":403,
 * "message":"Permission denied"}}`); `add-record` (`content`, `domain`, `name`, `ttl`, `type`)
 * answers the record with its `id` (a string); `remove-record` (`id`, `domain`) answers
 * `{"result":{}}`. Errors come as `{"jsonrpc":"2.0","error":{"code","message"}}`.
 */
import { type DnsBackend, type FakeAnswer, type FakeApi, startFakeApi } from './test-fake-dns-api.ts';

export interface FakeNjallaOptions {
  readonly token: string;
  readonly domains: readonly string[];
  readonly backend: DnsBackend;
}

export async function startFakeNjalla(opts: FakeNjallaOptions): Promise<FakeApi> {
  const records = new Map<string, { domain: string; name: string; content: string }>();
  let nextId = 1337;
  const error = (code: number, message: string): FakeAnswer => ({
    status: 200,
    body: { jsonrpc: '2.0', error: { code, message } },
  });
  const fqdnOf = (name: string, domain: string) =>
    name === '' || name === '@' ? `${domain}.` : `${name}.${domain}.`;
  return startFakeApi(async (call) => {
    if (call.method !== 'POST' || call.path !== '/api/1/')
      return { status: 404, body: 'Not Found', contentType: 'text/plain' };
    if (call.headers.authorization !== `Njalla ${opts.token}`) return error(403, 'Permission denied');
    let req: { method?: string; params?: Record<string, unknown> };
    try {
      req = JSON.parse(call.body) as typeof req;
    } catch {
      return error(400, 'Invalid JSON');
    }
    const p = req.params ?? {};
    const domain = String(p['domain'] ?? '');
    if (!opts.domains.includes(domain)) return error(404, 'Domain not found');
    if (req.method === 'add-record') {
      for (const k of Object.keys(p))
        if (!['content', 'domain', 'name', 'ttl', 'type'].includes(k))
          return error(400, `unknown param ${k}`);
      if (p['type'] !== 'TXT') return error(400, 'this double handles TXT only');
      const r = { domain, name: String(p['name'] ?? '@'), content: String(p['content'] ?? '') };
      const id = String(nextId++);
      records.set(id, r);
      await opts.backend.add(fqdnOf(r.name, domain), r.content);
      return {
        status: 200,
        body: {
          jsonrpc: '2.0',
          result: { id, name: r.name, type: 'TXT', content: r.content, ttl: p['ttl'] },
        },
      };
    }
    if (req.method === 'remove-record') {
      const r = records.get(String(p['id'] ?? ''));
      if (r === undefined || r.domain !== domain) return error(404, 'Record not found');
      records.delete(String(p['id']));
      await opts.backend.remove(fqdnOf(r.name, domain), r.content);
      return { status: 200, body: { jsonrpc: '2.0', result: {} } };
    }
    return error(400, 'Unknown method');
  });
}
