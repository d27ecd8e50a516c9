/**
 * A test double of INWX's DomRobot XML-RPC API (https://www.inwx.com/en/help/apidoc): `POST` of
 * a `<methodCall>` (text/xml), answered with a struct `{code,msg,resData}` (1000 success, 1500
 * ending the session, 2xxx errors). `account.login` sets the `domrobot` session cookie the other
 * calls need; an account with two-factor authentication answers `tfa` `GOOGLE-AUTH` and stays
 * locked until `account.unlock` gives the current TOTP code, each code usable once.
 * `nameserver.createRecord` (full `name`; the same record twice: 2302 "Object exists"),
 * `nameserver.info` (`record` list), `nameserver.deleteRecord` (`id`), `account.logout`.
 */
import { totpCode } from './dns01-inwx.ts';
import { absolute, type DnsBackend, type FakeApi, startFakeApi } from './test-fake-dns-api.ts';
import { parseXmlRpcCall, type XmlRpcValue, xmlRpcResponse } from './xml-rpc.ts';

export interface FakeInwxOptions {
  readonly username: string;
  readonly password: string;
  /** The account's TOTP secret: two-factor authentication on. */
  readonly sharedSecret?: string;
  readonly domains: readonly string[];
  readonly backend: DnsBackend;
  readonly now?: () => number;
}

export async function startFakeInwx(opts: FakeInwxOptions): Promise<FakeApi & { unlocks: string[] }> {
  const sessions = new Map<string, { unlocked: boolean }>();
  const records = new Map<number, { domain: string; name: string; content: string; ttl: number }>();
  const usedTans = new Set<string>();
  const unlocks: string[] = [];
  let nextId = 100;
  let nextSession = 1;
  const now = opts.now ?? Date.now;
  const answer = (code: number, msg: string, resData?: XmlRpcValue, reason?: string) => ({
    status: 200,
    contentType: 'text/xml',
    body: xmlRpcResponse({
      code,
      msg,
      ...(resData === undefined ? {} : { resData }),
      ...(reason === undefined ? {} : { reasonCode: 'REASON', reason }),
    }),
  });
  const api = await startFakeApi(async (call) => {
    if (call.method !== 'POST' || call.path !== '/xmlrpc/')
      return { status: 404, body: 'Not Found', contentType: 'text/plain' };
    if (call.headers['content-type'] !== 'text/xml') return answer(2001, 'Command syntax error');
    let parsed: { method: string; params: XmlRpcValue[] };
    try {
      parsed = parseXmlRpcCall(call.body);
    } catch {
      return answer(2001, 'Command syntax error');
    }
    const p = (parsed.params[0] ?? {}) as Record<string, XmlRpcValue>;
    if (parsed.method !== 'account.logout' && p['lang'] !== 'en')
      return answer(2003, 'Required parameter missing', undefined, 'lang');
    const session = /domrobot=([^;]+)/.exec(String(call.headers.cookie ?? ''))?.[1];
    if (parsed.method === 'account.login') {
      if (p['user'] !== opts.username || p['pass'] !== opts.password)
        return answer(2200, 'Authentication error');
      const id = `s${nextSession++}`;
      sessions.set(id, { unlocked: opts.sharedSecret === undefined });
      const a = answer(1000, 'Command completed successfully', {
        customerId: 4711,
        accountId: 4712,
        tfa: opts.sharedSecret === undefined ? '0' : 'GOOGLE-AUTH',
        builddate: '2024-01-01',
        version: '1.0',
      });
      return { ...a, headers: { 'set-cookie': `domrobot=${id}; path=/; HttpOnly` } };
    }
    const s = session === undefined ? undefined : sessions.get(session);
    if (s === undefined) return answer(2200, 'Authentication error');
    if (parsed.method === 'account.unlock') {
      const tan = String(p['tan'] ?? '');
      unlocks.push(tan);
      if (usedTans.has(tan) || tan !== totpCode(opts.sharedSecret ?? '', now()))
        return answer(2200, 'Authentication error', undefined, 'Invalid TAN');
      usedTans.add(tan);
      s.unlocked = true;
      return answer(1000, 'Command completed successfully');
    }
    if (parsed.method === 'account.logout') {
      sessions.delete(session ?? '');
      return answer(1500, 'Command completed successfully; ending session');
    }
    if (!s.unlocked) return answer(2200, 'Authentication error', undefined, 'Account locked');
    const domain = String(p['domain'] ?? '');
    if (parsed.method === 'nameserver.createRecord') {
      if (!opts.domains.includes(domain)) return answer(2303, 'Object does not exist');
      const name = String(p['name'] ?? '');
      if (!absolute(name).endsWith(`.${absolute(domain)}`))
        return answer(2005, 'Parameter value syntax error', undefined, 'name');
      if (p['type'] !== 'TXT')
        return answer(2004, 'Parameter value range error', undefined, 'this double handles TXT only');
      const content = String(p['content'] ?? '');
      for (const r of records.values())
        if (r.name === name && r.content === content) return answer(2302, 'Object exists');
      const id = nextId++;
      records.set(id, { domain, name, content, ttl: Number(p['ttl'] ?? 3600) });
      await opts.backend.add(name, content);
      return answer(1000, 'Command completed successfully', { id });
    }
    if (parsed.method === 'nameserver.info') {
      if (!opts.domains.includes(domain)) return answer(2303, 'Object does not exist');
      const record = [...records]
        .filter(([, r]) => r.domain === domain && (p['name'] === undefined || r.name === p['name']))
        .map(([id, r]) => ({ id, name: r.name, type: 'TXT', content: r.content, ttl: r.ttl, prio: 0 }));
      return answer(1000, 'Command completed successfully', {
        roId: 1,
        domain,
        type: 'MASTER',
        count: record.length,
        record,
      });
    }
    if (parsed.method === 'nameserver.deleteRecord') {
      const r = records.get(Number(p['id']));
      if (r === undefined) return answer(2303, 'Object does not exist');
      records.delete(Number(p['id']));
      await opts.backend.remove(r.name, r.content);
      return answer(1000, 'Command completed successfully');
    }
    return answer(2000, 'Unknown command');
  });
  return Object.assign(api, { unlocks });
}
