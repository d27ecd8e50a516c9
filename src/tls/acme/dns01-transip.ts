/**
 * lego's `transip` DNS provider (providers/dns/transip with transip/gotransip v6), against
 * TransIP's REST API v6 (https://api.transip.nl/rest/docs.html). gotransip's authenticator asks
 * `POST /v6/auth` for a token with `{"login","nonce":<16 hex>,"label":"gotransip-client-<ns>",
 * "read_only":false,"expiration_time":"1 day","global_key":true}` signed in the `Signature` header
 * (RSA PKCS#1 v1.5 over SHA-512 with the account's key, base64, query-escaped), and uses the
 * answered `{"token"}` as `Authorization: Bearer` until it expires (its JWT `exp`). The zone is
 * the SOA's; `present` is `POST /v6/domains/<zone>/dns` `{"dnsEntry":{"name":<name relative to
 * the zone>,"expire":10,"type":"TXT","content":<value>}}`; `cleanup` lists `GET
 * /v6/domains/<zone>/dns` and removes the entry at the name holding the value (`DELETE
 * /v6/domains/<zone>/dns` with that entry as the body). Errors are `{"error":…}`.
 */
import { createSign, randomBytes } from 'node:crypto';
import {
  type ApiClient,
  type ApiMethod,
  arrayField,
  asObject,
  joinUrl,
  parseJson,
  stringField,
} from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { relativeName, unFqdn, type ZoneLocator } from './dns01-zone.ts';

export const TRANSIP_API = 'https://api.transip.nl/v6';
const DEFAULT_TTL = 10;

export interface TransipOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly accountName: string;
  /** PEM of the account's private key (TRANSIP_PRIVATE_KEY_PATH's file). */
  readonly privateKey: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

export class TransipDnsProvider implements Dns01Provider {
  readonly #o: TransipOptions;
  #token: { value: string; exp: number } | undefined;

  constructor(opts: TransipOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const { zone, name } = await this.#where(fqdn, signal);
    await this.#call('POST', zone, { dnsEntry: { name, expire: this.#o.ttl, type: 'TXT', content: value } });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const { zone, name } = await this.#where(fqdn);
    const listed = await this.#call('GET', zone);
    const entry = (arrayField(listed, 'dnsEntries') ?? []).find(
      (e) => stringField(e, 'name') === name && stringField(e, 'content') === value,
    );
    if (entry === undefined) return;
    // gotransip's DNSEntry, in its field order.
    await this.#call('DELETE', zone, {
      dnsEntry: {
        name: stringField(entry, 'name'),
        expire: Number(asObject(entry)?.['expire'] ?? 0),
        type: stringField(entry, 'type'),
        content: stringField(entry, 'content'),
      },
    });
  }

  async #where(fqdn: string, signal?: AbortSignal): Promise<{ zone: string; name: string }> {
    const where = await this.#o.zones.locate(fqdn, signal);
    return { zone: unFqdn(where.zone), name: relativeName(where.fqdn, where.zone) };
  }

  async #call(method: ApiMethod, zone: string, body?: unknown): Promise<unknown> {
    const token = await this.#accessToken();
    return this.#o.api.json(
      {
        method,
        url: joinUrl(this.#o.baseUrl, 'domains', zone, 'dns'),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      (b) => stringField(b, 'error'),
    );
  }

  /** gotransip's Authenticator.GetToken: the token until its `exp`, then a new one. */
  async #accessToken(): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    if (this.#token !== undefined && now + 1 < this.#token.exp) return this.#token.value;
    const body = JSON.stringify({
      login: this.#o.accountName,
      nonce: randomBytes(8).toString('hex'),
      label: `gotransip-client-${BigInt(Date.now()) * 1_000_000n}`,
      read_only: false,
      expiration_time: '1 day',
      global_key: true,
    });
    // gotransip's signWithKey: PKCS#1 v1.5 over SHA-512, base64, then url.QueryEscape.
    const signature = encodeURIComponent(
      createSign('RSA-SHA512').update(body).sign(this.#o.privateKey, 'base64'),
    );
    const answer = await this.#o.api.json(
      {
        method: 'POST',
        url: joinUrl(this.#o.baseUrl, 'auth'),
        headers: { signature, 'content-type': 'application/json' },
        body,
      },
      (b) => stringField(b, 'error'),
    );
    const token = stringField(answer, 'token');
    if (token === undefined) throw new Error('transip: the auth answer holds no token');
    const payload = asObject(parseJson(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()));
    const exp = Number(payload?.['exp'] ?? 0);
    this.#token = { value: token, exp: Number.isFinite(exp) ? exp : 0 };
    return token;
  }
}

/**
 * lego's TRANSIP_ACCOUNT_NAME and TRANSIP_PRIVATE_KEY_PATH (the key read at start-up),
 * TRANSIP_TTL (10), the timeouts (600 s, 10 s), and ours, TRANSIP_API_URL (default
 * https://api.transip.nl/v6) and TRANSIP_HTTP_TIMEOUT (30 s).
 */
export function transipFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const accountName = vars.require('TRANSIP_ACCOUNT_NAME', 'transip');
  const keyPath = vars.require('TRANSIP_PRIVATE_KEY_PATH', 'transip');
  let privateKey = '';
  if (keyPath !== '') {
    try {
      privateKey = vars.readFile(keyPath);
    } catch (e) {
      const reason = (e as { code?: string }).code ?? (e as Error).message;
      vars.problems.push(`cannot read TRANSIP_PRIVATE_KEY_PATH (${keyPath}): ${reason}`);
    }
    if (privateKey !== '' && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) {
      vars.problems.push(`TRANSIP_PRIVATE_KEY_PATH (${keyPath}) does not hold a PEM private key`);
    }
  }
  const ttl = vars.integer('TRANSIP_TTL', DEFAULT_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'transip',
    prefix: 'TRANSIP',
    apiUrlVar: 'TRANSIP_API_URL',
    defaultApi: TRANSIP_API,
    httpTimeoutS: 30,
    propagationS: 600,
    pollingS: 10,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new TransipDnsProvider({
        api: s.api,
        baseUrl: s.baseUrl,
        accountName,
        privateKey,
        ttl,
        zones: ctx.zones,
      }),
  };
}
