/**
 * lego's `hurricane` DNS provider (providers/dns/hurricane and its client), against Hurricane
 * Electric's dynamic DNS endpoint (https://dns.he.net/docs.html): one TXT record per name, made
 * dynamic in the HE interface with its own key. Each change is a `POST /nic/update` form
 * (`hostname=<record name>&password=<key>&txt=<value>`, sorted as Go encodes it); cleanup writes
 * `txt=.`. The key is the one HURRICANE_TOKENS gives the domain (the record name without
 * `_acme-challenge.`), else the record name itself. The answer's first word must be `good` or
 * `nochg`; any other (`badauth`, `nohost`, `interval`, …) is lego's error for it. HE holds one
 * value per name: a certificate's authorizations are solved one after the other, so a wildcard
 * and its base name take turns.
 */
import type { ApiClient } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { unFqdn, type ZoneLocator } from './dns01-zone.ts';

export const HURRICANE_API = 'https://dyn.dns.he.net/nic/update';

export interface HurricaneOptions {
  readonly api: ApiClient;
  readonly url: URL;
  /** Domain (or record name) → its dynamic record's key. */
  readonly credentials: ReadonlyMap<string, string>;
  readonly zones: ZoneLocator;
}

export class HurricaneDnsProvider implements Dns01Provider {
  readonly #o: HurricaneOptions;

  constructor(opts: HurricaneOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    await this.#update(unFqdn(await this.#o.zones.follow(fqdn, signal)), value);
  }

  async cleanup(fqdn: string, _value: string): Promise<void> {
    // lego writes "." over the value: HE's dynamic TXT records cannot be emptied.
    await this.#update(unFqdn(await this.#o.zones.follow(fqdn)), '.');
  }

  async #update(hostname: string, txt: string): Promise<void> {
    const domain = hostname.startsWith('_acme-challenge.')
      ? hostname.slice('_acme-challenge.'.length)
      : hostname;
    const token = this.#o.credentials.get(domain) ?? this.#o.credentials.get(hostname);
    if (token === undefined) {
      throw new Error(
        `hurricane: domain ${domain} (or ${hostname}) not found in credentials, check your credentials map`,
      );
    }
    const req = {
      method: 'POST' as const,
      url: this.#o.url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ hostname, password: token, txt }).toString(),
    };
    const res = await this.#o.api.send(req);
    if (res.status !== 200) throw this.#o.api.statusError(req, res, `unexpected status code: ${res.status}`);
    const body = res.text.trim();
    const why = hurricaneError(body, hostname);
    if (why !== undefined) throw this.#o.api.statusError(req, res, why);
  }
}

/** lego's evaluateBody: undefined for `good` and `nochg`, else its message. */
function hurricaneError(body: string, hostname: string): string | undefined {
  switch (body.split(' ')[0]) {
    case 'good':
    case 'nochg':
      return undefined;
    case 'abuse':
      return `${body}: blocked hostname for abuse: ${hostname}`;
    case 'badagent':
      return `${body}: user agent not sent or HTTP method not recognized`;
    case 'badauth':
      return `${body}: wrong authentication token provided for TXT record ${hostname}`;
    case 'interval':
      return `${body}: TXT records update exceeded API rate limit`;
    case 'nohost':
      return `${body}: the record provided does not exist in this account: ${hostname}`;
    case 'notfqdn':
      return `${body}: the record provided isn't an FQDN: ${hostname}`;
    default:
      return `attempt to change TXT record ${hostname} returned ${body}`;
  }
}

/** lego's env.ParsePairs: `key:value` pairs separated by commas (a trailing comma allowed). */
function parsePairs(raw: string, vars: LegoEnv): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of raw.replace(/,$/, '').split(',')) {
    const parts = pair.split(':');
    if (parts.length !== 2) {
      // Not quoted: the pair holds a key.
      vars.problems.push('HURRICANE_TOKENS: incorrect credential pair (want domain:token, comma-separated)');
      continue;
    }
    out.set((parts[0] ?? '').trim(), (parts[1] ?? '').trim());
  }
  return out;
}

/**
 * lego's HURRICANE_TOKENS (`example.com:key,other.org:key2`), the timeouts (300 s, 2 s; HTTP
 * 30 s), and ours, HURRICANE_API_URL (default https://dyn.dns.he.net/nic/update).
 * HURRICANE_SEQUENCE_INTERVAL is not read: authorizations are solved one after the other already.
 */
export function hurricaneFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const raw = vars.require('HURRICANE_TOKENS', 'hurricane');
  const credentials = raw === '' ? new Map<string, string>() : parsePairs(raw, vars);
  const s = apiSettings(vars, ctx, {
    provider: 'hurricane',
    prefix: 'HURRICANE',
    apiUrlVar: 'HURRICANE_API_URL',
    defaultApi: HURRICANE_API,
    httpTimeoutS: 30,
    propagationS: 300,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () => new HurricaneDnsProvider({ api: s.api, url: s.baseUrl, credentials, zones: ctx.zones }),
  };
}
