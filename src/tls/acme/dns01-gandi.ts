/**
 * lego's `gandi` DNS provider (providers/dns/gandi, Gandi's legacy v4 XML-RPC API,
 * https://doc.rpc.gandi.net/): every call a `POST` of a `<methodCall>` whose first parameter is
 * the API key (lego's encoding/xml types write the `<param>`s without a `<params>` around them);
 * a `<fault>` is the error (`Gandi DNS: RPC Error: (code) string`). Gandi v4 zones are versioned,
 * so lego never edits the live zone: `present` takes the zone id of the SOA's zone
 * (`domain.info`), clones it (`domain.zone.clone`, named `<zone> [ACME Challenge <time>]`), makes
 * a new version (`domain.zone.version.new`), adds the TXT record to it
 * (`domain.zone.record.add` `{type,name,value,ttl}`), activates it (`domain.zone.version.set`)
 * and points the domain at the clone (`domain.zone.set`); `cleanup` points the domain back and
 * deletes the clone (`domain.zone.delete`). One challenge per zone at a time, as in lego.
 */
import type { ApiClient } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { relativeName, unFqdn, type ZoneLocator } from './dns01-zone.ts';
import { parseXmlRpcResponse, XmlRpcFault, type XmlRpcValue, xmlRpcCallOf } from './xml-rpc.ts';

export const GANDI_API = 'https://rpc.gandi.net/xmlrpc/';
/** Gandi's minimum TTL: lower values are raised to it, as lego does. */
const MIN_TTL = 300;

export interface GandiOptions {
  readonly api: ApiClient;
  readonly url: URL;
  readonly apiKey: string;
  readonly ttl: number;
  readonly zones: ZoneLocator;
  readonly now?: () => Date;
}

/** Go's time.RFC822Z: `02 Jan 06 15:04 -0700` (in UTC). */
export function rfc822z(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())} ${months[d.getUTCMonth()]} ${two(d.getUTCFullYear() % 100)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())} +0000`;
}

interface InProgress {
  readonly zoneId: number;
  readonly newZoneId: number;
  readonly authZone: string;
}

export class GandiDnsProvider implements Dns01Provider {
  readonly #o: GandiOptions;
  readonly #inProgress = new Map<string, InProgress>();
  readonly #zonesInProgress = new Set<string>();

  constructor(opts: GandiOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const where = await this.#o.zones.locate(fqdn, signal);
    const authZone = where.zone;
    const info = await this.#call('domain.info', [authZone]);
    const zoneId = intMember(info, 'zone_id');
    if (zoneId === 0) throw new Error(`gandi: could not find zone_id for ${authZone}`);
    const name = relativeName(where.fqdn, authZone);
    if (this.#zonesInProgress.has(authZone))
      throw new Error(`gandi: challenge already in progress for authZone ${authZone}`);
    const label = `${unFqdn(authZone)} [ACME Challenge ${rfc822z((this.#o.now ?? (() => new Date()))())}]`;
    const newZoneId = intMember(await this.#call('domain.zone.clone', [zoneId, 0, { name: label }]), 'id');
    if (newZoneId === 0) throw new Error('gandi: could not determine cloned zone_id');
    const version = Number(await this.#call('domain.zone.version.new', [newZoneId]));
    if (!version) throw new Error('gandi: could not create new zone version');
    await this.#call('domain.zone.record.add', [
      newZoneId,
      version,
      { type: 'TXT', name, value, ttl: Math.max(MIN_TTL, this.#o.ttl) },
    ]);
    if ((await this.#call('domain.zone.version.set', [newZoneId, version])) !== true) {
      throw new Error('gandi: could not set zone version');
    }
    if (intMember(await this.#call('domain.zone.set', [authZone, newZoneId]), 'zone_id') !== newZoneId) {
      throw new Error(`gandi: could not set new zone_id for ${authZone}`);
    }
    this.#inProgress.set(where.fqdn, { zoneId, newZoneId, authZone });
    this.#zonesInProgress.add(authZone);
  }

  async cleanup(fqdn: string, _value: string): Promise<void> {
    const effective = await this.#o.zones.follow(fqdn);
    const p = this.#inProgress.get(effective);
    if (p === undefined) return;
    this.#inProgress.delete(effective);
    this.#zonesInProgress.delete(p.authZone);
    if (intMember(await this.#call('domain.zone.set', [p.authZone, p.zoneId]), 'zone_id') !== p.zoneId) {
      throw new Error(`gandi: could not set new zone_id for ${p.authZone}`);
    }
    if ((await this.#call('domain.zone.delete', [p.newZoneId])) !== true)
      throw new Error('gandi: could not delete zone_id');
  }

  async #call(method: string, params: XmlRpcValue[]): Promise<XmlRpcValue> {
    const req = {
      method: 'POST' as const,
      url: this.#o.url,
      headers: { 'content-type': 'text/xml' },
      body: xmlRpcCallOf(method, [this.#o.apiKey, ...params], true),
    };
    const res = await this.#o.api.send(req);
    try {
      return parseXmlRpcResponse(res.text);
    } catch (e) {
      if (e instanceof XmlRpcFault)
        throw this.#o.api.statusError(req, res, `Gandi DNS: RPC Error: (${e.code}) ${e.message}`);
      throw this.#o.api.statusError(req, res, `unmarshal error: ${(e as Error).message}`);
    }
  }
}

/** An int member of a struct answer (0 when absent, as Go's zero value). */
function intMember(v: XmlRpcValue, name: string): number {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 0;
  const m = v[name];
  return typeof m === 'number' ? m : 0;
}

/**
 * lego's GANDI_API_KEY, GANDI_TTL (300, lower raised to 300), the timeouts (2400 s, 60 s; HTTP
 * 60 s), and ours, GANDI_API_URL (default https://rpc.gandi.net/xmlrpc/).
 */
export function gandiFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const apiKey = vars.require('GANDI_API_KEY', 'gandi');
  const ttl = vars.integer('GANDI_TTL', MIN_TTL);
  const s = apiSettings(vars, ctx, {
    provider: 'gandi',
    prefix: 'GANDI',
    apiUrlVar: 'GANDI_API_URL',
    defaultApi: GANDI_API,
    httpTimeoutS: 60,
    propagationS: 2400,
    pollingS: 60,
  });
  return {
    timeouts: s.timeouts,
    provider: () => new GandiDnsProvider({ api: s.api, url: s.baseUrl, apiKey, ttl, zones: ctx.zones }),
  };
}
