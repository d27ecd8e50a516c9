/**
 * lego's `acme-dns` DNS provider (providers/dns/acmedns, with cpu/goacmedns's client and file
 * storage), against an acme-dns server (https://github.com/joohoi/acme-dns):
 *
 * - ACME_DNS_STORAGE_PATH is a JSON file of accounts by domain (`{"example.com":{"fulldomain",
 *   "subdomain","username","password"}}`); for a domain it holds, `present` sends `POST
 *   <ACME_DNS_API_BASE>/update` `{"SubDomain":…,"Txt":…}` with `X-Api-User`/`X-Api-Key`, and
 *   expects 200 (acme-dns keeps the last two values, so a wildcard and its base name both hold);
 * - for a domain it does not hold, `POST /register` (201) makes an account, which is saved to the
 *   file, and the challenge fails naming the CNAME the user must create (`_acme-challenge.<domain>.
 *   CNAME <fulldomain>.`), as lego's ErrCNAMERequired does; once it is in place the next attempt
 *   succeeds;
 * - `cleanup` does nothing: acme-dns has no deletion.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { type ApiClient, asObject, excerpt, joinUrl, parseJson, stringField } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import type { ZoneLocator } from './dns01-zone.ts';

interface Account {
  readonly fulldomain: string;
  readonly subdomain: string;
  readonly username: string;
  readonly password: string;
}

export interface AcmeDnsOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly storagePath: string;
  readonly zones: ZoneLocator;
}

const USER_AGENT = `goacmedns (${process.platform}; ${process.arch === 'x64' ? 'amd64' : process.arch})`;

export class AcmeDnsProvider implements Dns01Provider {
  readonly #o: AcmeDnsOptions;

  constructor(opts: AcmeDnsOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const domain = fqdn.replace(/^_acme-challenge\./, '').replace(/\.$/, '');
    const effective = await this.#o.zones.follow(fqdn, signal);
    const accounts = await this.#load();
    // lego keys the account by the domain, or by the CNAME target once one is followed
    // (acmedns.go isCNAME): either finds it.
    const account = accounts[domain] ?? (effective === fqdn ? undefined : accounts[effective]);
    if (account === undefined) {
      await this.#register(accounts, domain, fqdn);
      return;
    }
    const url = joinUrl(this.#o.baseUrl, 'update');
    const req = {
      method: 'POST' as const,
      url,
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'x-api-user': account.username,
        'x-api-key': account.password,
      },
      body: JSON.stringify({ SubDomain: account.subdomain, Txt: value }),
    };
    const res = await this.#o.api.send(req);
    if (res.status !== 200) {
      throw new Error(
        `acme-dns: failed to update txt record : status code ${res.status} response: ${excerpt(res.text)}`,
      );
    }
  }

  async cleanup(): Promise<void> {
    // "ACME-DNS doesn't support the notion of removing a record" (lego).
  }

  async #load(): Promise<Record<string, Account>> {
    let text: string;
    try {
      text = await readFile(this.#o.storagePath, 'utf8');
    } catch (e) {
      // goacmedns starts with no accounts when the file is missing or unreadable.
      if ((e as { code?: string }).code === 'ENOENT') return {};
      throw new Error(
        `acme-dns: cannot read ACME_DNS_STORAGE_PATH (${this.#o.storagePath}): ${(e as Error).message}`,
      );
    }
    const parsed = asObject(parseJson(text));
    if (parsed === undefined)
      throw new Error(
        `acme-dns: ACME_DNS_STORAGE_PATH (${this.#o.storagePath}) is not a JSON object of accounts`,
      );
    const out: Record<string, Account> = {};
    for (const [k, v] of Object.entries(parsed)) {
      out[k] = {
        fulldomain: stringField(v, 'fulldomain') ?? '',
        subdomain: stringField(v, 'subdomain') ?? '',
        username: stringField(v, 'username') ?? '',
        password: stringField(v, 'password') ?? '',
      };
    }
    return out;
  }

  async #register(accounts: Record<string, Account>, domain: string, fqdn: string): Promise<never> {
    const url = joinUrl(this.#o.baseUrl, 'register');
    const res = await this.#o.api.send({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT },
    });
    if (res.status !== 201) {
      throw new Error(
        `acme-dns: failed to register account : status code ${res.status} response: ${excerpt(res.text)}`,
      );
    }
    const body = parseJson(res.text);
    const account: Account = {
      fulldomain: stringField(body, 'fulldomain') ?? '',
      subdomain: stringField(body, 'subdomain') ?? '',
      username: stringField(body, 'username') ?? '',
      password: stringField(body, 'password') ?? '',
    };
    // goacmedns writes the file with mode 0600.
    await writeFile(this.#o.storagePath, JSON.stringify({ ...accounts, [domain]: account }), { mode: 0o600 });
    throw new Error(
      `acme-dns: new account created for ${JSON.stringify(domain)}. To complete setup for ${JSON.stringify(domain)} you must provision the following CNAME in your DNS zone and re-run this provider when it is in place:\n${fqdn} CNAME ${account.fulldomain}.`,
    );
  }
}

/** lego's ACME_DNS_API_BASE and ACME_DNS_STORAGE_PATH (both required); lego's default timeouts. */
export function acmeDnsFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const base = vars.require('ACME_DNS_API_BASE', 'acme-dns');
  const storagePath = vars.require('ACME_DNS_STORAGE_PATH', 'acme-dns');
  const s = apiSettings(vars, ctx, {
    provider: 'acme-dns',
    prefix: 'ACME_DNS',
    ...(base === '' ? {} : { apiUrlVar: 'ACME_DNS_API_BASE' }),
    defaultApi: 'http://localhost',
    // goacmedns's 30 s; lego reads no timeout variable for acme-dns: 60 s and 2 s, its defaults.
    httpTimeoutS: 30,
    propagationS: 60,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () => new AcmeDnsProvider({ api: s.api, baseUrl: s.baseUrl, storagePath, zones: ctx.zones }),
  };
}
