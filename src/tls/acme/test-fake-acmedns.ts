/**
 * A test double of an acme-dns server (https://github.com/joohoi/acme-dns): `POST /register`
 * (201, `{"username","password","fulldomain","subdomain","allowfrom"}`), `POST /update` with
 * `X-Api-User`/`X-Api-Key` and `{"SubDomain","Txt"}` (200 `{"txt":…}`; 401 `{"error":
 * "forbidden"}`; 400 `{"error":"bad_txt"}` for a value that is not 43 characters). Like acme-dns
 * it keeps the last two values of a subdomain, published at `<subdomain>.<domain>.`.
 */
import { randomUUID } from 'node:crypto';
import { type DnsBackend, type FakeApi, jsonBody, startFakeApi } from './test-fake-dns-api.ts';

export interface FakeAcmeDnsOptions {
  /** The zone acme-dns serves, e.g. `auth.acmedns.test`. */
  readonly domain: string;
  readonly backend: DnsBackend;
}

export interface FakeAcmeDns extends FakeApi {
  /** Accounts registered so far, by subdomain. */
  readonly accounts: Map<string, { username: string; password: string; values: string[] }>;
}

export async function startFakeAcmeDns(opts: FakeAcmeDnsOptions): Promise<FakeAcmeDns> {
  const accounts = new Map<string, { username: string; password: string; values: string[] }>();
  const api = await startFakeApi(async (call) => {
    if (call.method === 'POST' && call.path === '/register') {
      const subdomain = randomUUID();
      const account = { username: randomUUID(), password: randomUUID().replaceAll('-', ''), values: [] };
      accounts.set(subdomain, account);
      return {
        status: 201,
        body: {
          allowfrom: [],
          fulldomain: `${subdomain}.${opts.domain}`,
          password: account.password,
          subdomain,
          username: account.username,
        },
      };
    }
    if (call.method === 'POST' && call.path === '/update') {
      const body = jsonBody(call);
      if (typeof body === 'string') return { status: 400, body: { error: 'malformed_json_payload' } };
      if (Object.keys(body).sort().join(',') !== 'SubDomain,Txt')
        return { status: 400, body: { error: 'bad_subdomain' } };
      const account = accounts.get(String(body['SubDomain']));
      if (
        account === undefined ||
        call.headers['x-api-user'] !== account.username ||
        call.headers['x-api-key'] !== account.password
      )
        return { status: 401, body: { error: 'forbidden' } };
      const txt = String(body['Txt']);
      if (txt.length !== 43) return { status: 400, body: { error: 'bad_txt' } };
      const name = `${body['SubDomain']}.${opts.domain}.`;
      account.values.push(txt);
      await opts.backend.add(name, txt);
      while (account.values.length > 2) await opts.backend.remove(name, account.values.shift() ?? '');
      return { status: 200, body: { txt } };
    }
    return { status: 404, body: { error: 'not_found' } };
  });
  return Object.assign(api, { accounts });
}
