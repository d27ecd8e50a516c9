/**
 * A test double of TransIP's REST API v6 (https://api.transip.nl/rest/docs.html): `POST
 * /v6/auth` checks the `Signature` header (RSA PKCS#1 v1.5 over SHA-512 of the body, base64,
 * URL-escaped) with the account's public key and the request's fields, and answers `{"token"}`
 * (a JWT-shaped token with `exp`); the domain calls want it as Bearer: `GET /v6/domains/<d>/dns`
 * (`{"dnsEntries":[…]}`), `POST` and `DELETE` of `{"dnsEntry":{"name","expire","type","content"}}`
 * (201, 204). Errors are `{"error":…}`.
 */
import { createVerify, type KeyObject, randomUUID } from 'node:crypto';
import {
  type DnsBackend,
  type FakeAnswer,
  type FakeApi,
  jsonBody,
  startFakeApi,
} from './test-fake-dns-api.ts';

export interface FakeTransipOptions {
  readonly accountName: string;
  readonly publicKey: KeyObject;
  readonly domains: readonly string[];
  readonly backend: DnsBackend;
}

export async function startFakeTransip(opts: FakeTransipOptions): Promise<FakeApi & { tokens: number }> {
  const tokens = new Set<string>();
  const entries = new Map<string, { name: string; expire: number; type: string; content: string }[]>();
  let issued = 0;
  const error = (status: number, message: string): FakeAnswer => ({ status, body: { error: message } });
  const fqdnOf = (name: string, domain: string) =>
    name === '@' || name === '' ? `${domain}.` : `${name}.${domain}.`;
  const api = await startFakeApi(async (call) => {
    if (call.path === '/v6/auth' && call.method === 'POST') {
      const signature = decodeURIComponent(String(call.headers.signature ?? ''));
      const ok = createVerify('RSA-SHA512').update(call.body).verify(opts.publicKey, signature, 'base64');
      if (!ok) return error(401, 'Signature validation failed');
      const body = jsonBody(call);
      if (typeof body === 'string') return error(400, body);
      if (body['login'] !== opts.accountName) return error(401, 'Authentication failed');
      if (!/^[0-9a-f]{16}$/.test(String(body['nonce'])))
        return error(400, 'nonce must be 16 hex characters here');
      if (!/^gotransip-client-\d+$/.test(String(body['label']))) return error(400, 'unexpected label');
      if (body['read_only'] !== false || body['global_key'] !== true || body['expiration_time'] !== '1 day')
        return error(400, 'unexpected token request');
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const token = `${b64({ typ: 'JWT', alg: 'RS256' })}.${b64({ jti: randomUUID(), exp: Math.floor(Date.now() / 1000) + 86400 })}.c2ln`;
      tokens.add(token);
      issued++;
      return { status: 201, body: { token } };
    }
    const bearer = /^Bearer (.+)$/.exec(String(call.headers.authorization ?? ''))?.[1];
    if (bearer === undefined || !tokens.has(bearer)) return error(401, 'Your access token has been revoked.');
    const m = /^\/v6\/domains\/([^/]+)\/dns$/.exec(call.path);
    const domain = m?.[1] ?? '';
    if (m === null || !opts.domains.includes(domain)) return error(404, 'Domain not found');
    const list = entries.get(domain) ?? [];
    if (call.method === 'GET') return { status: 200, body: { dnsEntries: list } };
    const body = jsonBody(call);
    if (typeof body === 'string') return error(400, body);
    const e = body['dnsEntry'] as Record<string, unknown> | undefined;
    if (e === undefined || Object.keys(body).length !== 1) return error(400, 'dnsEntry is required');
    if (Object.keys(e).join(',') !== 'name,expire,type,content')
      return error(400, `unexpected fields ${Object.keys(e).join(',')}`);
    const entry = {
      name: String(e['name']),
      expire: Number(e['expire']),
      type: String(e['type']),
      content: String(e['content']),
    };
    if (call.method === 'POST') {
      if (entry.type !== 'TXT') return error(406, 'this double handles TXT only');
      entries.set(domain, [...list, entry]);
      await opts.backend.add(fqdnOf(entry.name, domain), entry.content);
      return { status: 201 };
    }
    if (call.method === 'DELETE') {
      const i = list.findIndex(
        (x) =>
          x.name === entry.name &&
          x.expire === entry.expire &&
          x.type === entry.type &&
          x.content === entry.content,
      );
      if (i < 0) return error(404, 'DNS entry not found');
      entries.set(
        domain,
        list.filter((_, j) => j !== i),
      );
      await opts.backend.remove(fqdnOf(entry.name, domain), entry.content);
      return { status: 204 };
    }
    return error(405, 'Method not allowed');
  });
  return Object.defineProperty(api, 'tokens', { get: () => issued }) as FakeApi & { tokens: number };
}
