/**
 * lego's `namecheap` DNS provider (providers/dns/namecheap and its internal client), against
 * Namecheap's XML API (https://www.namecheap.com/support/api/methods/domains-dns/): every call
 * carries `ApiUser`, `ApiKey`, `UserName` (the API user), `Command` and `ClientIp` (the public
 * address Namecheap must have allowed, asked once of Namecheap's `getip` service, as lego asks it
 * when the provider is made). There is no call for one record: `present` reads every host of the
 * domain (`GET ?Command=namecheap.domains.dns.getHosts&SLD=…&TLD=…`) and writes them all back with
 * ours added (`POST` form `Command=namecheap.domains.dns.setHosts`, `HostName<n>`, `RecordType<n>`,
 * `Address<n>`, `MXPref<n>`, `TTL<n>`); `cleanup` writes them back without ours. An answer of 400
 * or more, an `<Errors><Error Number=…>` (`<text> [<number>]`), or a setHosts whose
 * `IsSuccess` is not `true` is an error.
 *
 * lego splits the name with the public suffix list (SLD = the label before the suffix); we take
 * the zone from its SOA (dns01-zone.ts), which for a domain Namecheap hosts is the registered
 * domain: SLD its first label, TLD the rest. Only our value is removed at cleanup (lego removes
 * every TXT record at the name, which would pull a wildcard's value from under its base name's).
 */
import { type ApiClient, type ApiRequest, DnsApiError, excerpt } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { relativeName, unFqdn, type ZoneLocator } from './dns01-zone.ts';
import { elements, unescapeXml } from './route53-xml.ts';

export const NAMECHEAP_API = 'https://api.namecheap.com/xml.response';
export const NAMECHEAP_SANDBOX_API = 'https://api.sandbox.namecheap.com/xml.response';
export const NAMECHEAP_GETIP = 'https://dynamicdns.park-your-domain.com/getip';
/** lego's dns01.DefaultTTL. */
const DEFAULT_TTL = 120;

/** A host record as getHosts lists it and setHosts takes it (lego's internal.Record). */
interface NamecheapHost {
  readonly Name: string;
  readonly Type: string;
  readonly Address: string;
  readonly MXPref: string;
  readonly TTL: string;
}

export interface NamecheapOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly getIpUrl: URL;
  readonly apiUser: string;
  readonly apiKey: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
}

export class NamecheapDnsProvider implements Dns01Provider {
  readonly #o: NamecheapOptions;
  #clientIp: Promise<string> | undefined;

  constructor(opts: NamecheapOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const d = await this.#domain(fqdn, signal);
    const hosts = await this.#getHosts(d.sld, d.tld);
    // lego's Present: the record appended, MXPref 10, the TTL as a string.
    hosts.push({ Name: d.key, Type: 'TXT', Address: value, MXPref: '10', TTL: String(this.#o.ttl) });
    await this.#setHosts(d.sld, d.tld, hosts);
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const d = await this.#domain(fqdn);
    const hosts = await this.#getHosts(d.sld, d.tld);
    const left = hosts.filter((h) => !(h.Name === d.key && h.Type === 'TXT' && h.Address === value));
    // lego's CleanUp: nothing written when the record is not there.
    if (left.length === hosts.length) return;
    await this.#setHosts(d.sld, d.tld, left);
  }

  async #domain(fqdn: string, signal?: AbortSignal): Promise<{ sld: string; tld: string; key: string }> {
    const where = await this.#o.zones.locate(fqdn, signal);
    const zone = unFqdn(where.zone);
    const dot = zone.indexOf('.');
    if (dot <= 0) throw new Error(`namecheap: invalid domain name "${zone}"`);
    return { sld: zone.slice(0, dot), tld: zone.slice(dot + 1), key: relativeName(where.fqdn, where.zone) };
  }

  async #getHosts(sld: string, tld: string): Promise<NamecheapHost[]> {
    const url = new URL(this.#o.baseUrl);
    url.search = encodeForm(await this.#params('namecheap.domains.dns.getHosts', { SLD: sld, TLD: tld }));
    const xml = await this.#call({ method: 'GET', url });
    const result = elements(xml, 'DomainDNSGetHostsResult')[0] ?? '';
    return [...result.matchAll(/<host\b([^>]*?)\/?>/g)].map((m) => {
      const a = attributes(m[1] ?? '');
      return {
        Name: a['Name'] ?? '',
        Type: a['Type'] ?? '',
        Address: a['Address'] ?? '',
        MXPref: a['MXPref'] ?? '',
        TTL: a['TTL'] ?? '',
      };
    });
  }

  async #setHosts(sld: string, tld: string, hosts: readonly NamecheapHost[]): Promise<void> {
    const fields: Record<string, string> = { SLD: sld, TLD: tld };
    hosts.forEach((h, i) => {
      fields[`HostName${i + 1}`] = h.Name;
      fields[`RecordType${i + 1}`] = h.Type;
      fields[`Address${i + 1}`] = h.Address;
      fields[`MXPref${i + 1}`] = h.MXPref;
      fields[`TTL${i + 1}`] = h.TTL;
    });
    const body = encodeForm(await this.#params('namecheap.domains.dns.setHosts', fields));
    const xml = await this.#call({
      method: 'POST',
      url: new URL(this.#o.baseUrl),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const result = /<DomainDNSSetHostsResult\b([^>]*?)\/?>/.exec(xml);
    if (attributes(result?.[1] ?? '')['IsSuccess'] !== 'true')
      throw new DnsApiError('namecheap: setHosts failed');
  }

  /** lego's makeQuery: the credentials, the command and the client's address, then the call's own. */
  async #params(command: string, fields: Record<string, string>): Promise<Record<string, string>> {
    return {
      ApiUser: this.#o.apiUser,
      ApiKey: this.#o.apiKey,
      UserName: this.#o.apiUser,
      Command: command,
      ClientIp: await this.#clientAddress(),
      ...fields,
    };
  }

  /** lego's GetClientIP: the body of Namecheap's getip service, asked once (again after a failure). */
  #clientAddress(): Promise<string> {
    this.#clientIp ??= this.#askClientAddress().catch((e: unknown) => {
      this.#clientIp = undefined;
      throw e;
    });
    return this.#clientIp;
  }

  async #askClientAddress(): Promise<string> {
    const req = { method: 'GET' as const, url: this.#o.getIpUrl };
    const res = await this.#o.api.send(req);
    if (res.status !== 200 || res.text === '')
      throw this.#o.api.statusError(req, res, 'no client IP address');
    return res.text;
  }

  /** One call; its errors never show the query, which carries the API key. */
  async #call(call: ApiRequest): Promise<string> {
    const req = { ...call, secretQuery: true };
    const res = await this.#o.api.send(req);
    if (res.status >= 400) throw this.#o.api.statusError(req, res);
    if (!/<ApiResponse\b/.test(res.text)) {
      throw this.#o.api.statusError(req, res, `not an ApiResponse: ${excerpt(res.text)}`);
    }
    // lego: the first of `<Errors><Error Number="…">…</Error></Errors>`, as "<text> [<number>]".
    const errors = elements(res.text, 'Errors')[0] ?? '';
    const first = /<Error\b([^>]*)>([\s\S]*?)<\/Error>/.exec(errors);
    if (first !== null) {
      const number = attributes(first[1] ?? '')['Number'] ?? '0';
      throw this.#o.api.statusError(req, res, `${unescapeXml((first[2] ?? '').trim())} [${number}]`);
    }
    return res.text;
  }
}

/** An element's attributes, unescaped. */
function attributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g))
    out[m[1] ?? ''] = unescapeXml(m[2] ?? m[3] ?? '');
  return out;
}

/** Go's url.Values.Encode: keys sorted, each value query-escaped (space as `+`). */
function encodeForm(fields: Record<string, string>): string {
  return Object.keys(fields)
    .sort()
    .map((k) => `${goQueryEscape(k)}=${goQueryEscape(fields[k] ?? '')}`)
    .join('&');
}

function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/**
 * lego's NAMECHEAP_API_USER and NAMECHEAP_API_KEY, NAMECHEAP_SANDBOX (Namecheap's sandbox API),
 * NAMECHEAP_TTL (120), the timeouts (3600 s, 15 s; HTTP 60 s); ours, NAMECHEAP_API_URL (the API's
 * URL) and NAMECHEAP_GETIP_URL (the service that tells the client's public address).
 */
export function namecheapFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const apiUser = vars.require('NAMECHEAP_API_USER', 'namecheap');
  const apiKey = vars.require('NAMECHEAP_API_KEY', 'namecheap');
  const sandbox = vars.bool('NAMECHEAP_SANDBOX', false);
  // NAMECHEAP_DEBUG only makes lego log the records; read so that a malformed value is reported.
  vars.bool('NAMECHEAP_DEBUG', false);
  const ttl = vars.integer('NAMECHEAP_TTL', DEFAULT_TTL);
  const getIpUrl = vars.url('NAMECHEAP_GETIP_URL', NAMECHEAP_GETIP);
  const s = apiSettings(vars, ctx, {
    provider: 'namecheap',
    prefix: 'NAMECHEAP',
    apiUrlVar: 'NAMECHEAP_API_URL',
    defaultApi: sandbox ? NAMECHEAP_SANDBOX_API : NAMECHEAP_API,
    httpTimeoutS: 60,
    propagationS: 3600,
    pollingS: 15,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new NamecheapDnsProvider({
        api: s.api,
        baseUrl: s.baseUrl,
        getIpUrl,
        apiUser,
        apiKey,
        ttl,
        zones: ctx.zones,
      }),
  };
}
