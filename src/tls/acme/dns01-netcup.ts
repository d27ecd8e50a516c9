/**
 * lego's `netcup` DNS provider (providers/dns/netcup and its internal client), against netcup's
 * CCP JSON API (https://ccp.netcup.net/run/webservice/servers/endpoint.php): every call a `POST`
 * of `{"action","param"}` to one URL, answered `{"status","statuscode","shortmessage",
 * "longmessage","responsedata"}`. Each change logs in (`login`: customer number, API key and
 * password, for an `apisessionid`), then `present` reads the zone's records (`infoDnsRecords`;
 * a failure there is ignored, as in lego) and writes them back with ours (`updateDnsRecords`,
 * `{"hostname":<name relative to the zone>,"type":"TXT","destination":<value>}`); `cleanup`
 * writes the record holding the value with `"deleterecord":true`; then `logout` (its failure is
 * logged only). The zone is the SOA's. A `status` other than `success` is an error.
 */
import { type ApiClient, arrayField, asObject, excerpt, parseJson, stringField } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { unFqdn, type ZoneLocator } from './dns01-zone.ts';

export const NETCUP_API = 'https://ccp.netcup.net/run/webservice/servers/endpoint.php?JSON';

export interface NetcupOptions {
  readonly api: ApiClient;
  readonly url: URL;
  readonly customer: string;
  readonly apiKey: string;
  readonly password: string;
  readonly zones: ZoneLocator;
}

/** lego's DNSRecord as it encodes it: these fields, in this order, empty ones left out but hostname, type, destination. */
function encodeRecord(r: unknown, deleteRecord = false): Record<string, unknown> {
  const o = asObject(r) ?? {};
  const out: Record<string, unknown> = {};
  const id = stringField(o, 'id');
  if (id !== undefined && id !== '' && id !== '0') out['id'] = id;
  out['hostname'] = stringField(o, 'hostname') ?? '';
  out['type'] = stringField(o, 'type') ?? '';
  const priority = stringField(o, 'priority');
  if (priority !== undefined && priority !== '') out['priority'] = priority;
  out['destination'] = stringField(o, 'destination') ?? '';
  if (deleteRecord) out['deleterecord'] = true;
  const state = stringField(o, 'state');
  if (state !== undefined && state !== '') out['state'] = state;
  return out;
}

export class NetcupDnsProvider implements Dns01Provider {
  readonly #o: NetcupOptions;

  constructor(opts: NetcupOptions) {
    this.#o = opts;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const { zone, hostname } = await this.#where(fqdn, signal);
    await this.#session(async (session) => {
      let records: unknown[] = [];
      try {
        records = await this.#info(session, zone);
      } catch {
        // lego: "no existing records, error ignored".
      }
      await this.#update(session, zone, [
        ...records.map((r) => encodeRecord(r)),
        { hostname, type: 'TXT', destination: value },
      ]);
    });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const { zone } = await this.#where(fqdn);
    await this.#session(async (session) => {
      const records = await this.#info(session, zone);
      // lego's GetDNSRecordIdx: the first record of that type holding the value.
      const ours = records.find(
        (r) => stringField(r, 'destination') === value && stringField(r, 'type') === 'TXT',
      );
      if (ours === undefined) throw new Error('netcup: no DNS Record found');
      await this.#update(session, zone, [encodeRecord(ours, true)]);
    });
  }

  /** lego: the SOA's zone, and the name with `.<zone>` cut out once (strings.Replace). */
  async #where(fqdn: string, signal?: AbortSignal): Promise<{ zone: string; hostname: string }> {
    const where = await this.#o.zones.locate(fqdn, signal);
    return { zone: unFqdn(where.zone), hostname: where.fqdn.replace(`.${where.zone}`, '') };
  }

  async #session(work: (session: string) => Promise<void>): Promise<void> {
    const login = await this.#call('login', {
      customernumber: this.#o.customer,
      apikey: this.#o.apiKey,
      apipassword: this.#o.password,
    });
    const session = stringField(login, 'apisessionid') ?? '';
    try {
      await work(session);
    } finally {
      try {
        await this.#call('logout', {
          customernumber: this.#o.customer,
          apikey: this.#o.apiKey,
          apisessionid: session,
        });
      } catch {
        // lego only logs a failed logout: the change was made; netcup ends the session itself.
      }
    }
  }

  async #info(session: string, zone: string): Promise<unknown[]> {
    const data = await this.#call('infoDnsRecords', {
      domainname: zone,
      customernumber: this.#o.customer,
      apikey: this.#o.apiKey,
      apisessionid: session,
    });
    return arrayField(data, 'dnsrecords') ?? [];
  }

  async #update(session: string, zone: string, records: unknown[]): Promise<void> {
    await this.#call('updateDnsRecords', {
      domainname: zone,
      customernumber: this.#o.customer,
      apikey: this.#o.apiKey,
      apisessionid: session,
      dnsrecordset: { dnsrecords: records },
    });
  }

  /** One action; its `responsedata`. */
  async #call(action: string, param: Record<string, unknown>): Promise<unknown> {
    const req = {
      method: 'POST' as const,
      url: this.#o.url,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action, param }),
    };
    const res = await this.#o.api.send(req);
    if (res.status > 299) throw this.#o.api.statusError(req, res);
    const msg = parseJson(res.text);
    if (asObject(msg) === undefined)
      throw this.#o.api.statusError(req, res, `not a response message: ${excerpt(res.text)}`);
    if (stringField(msg, 'status') !== 'success') {
      // lego's ResponseMsg.Error.
      throw this.#o.api.statusError(
        req,
        res,
        `an error occurred during the action ${action}: [Status=${stringField(msg, 'status') ?? ''}, StatusCode=${stringField(msg, 'statuscode') ?? ''}, ShortMessage=${stringField(msg, 'shortmessage') ?? ''}, LongMessage=${stringField(msg, 'longmessage') ?? ''}]`,
      );
    }
    return asObject(msg)?.['responsedata'];
  }
}

/**
 * lego's NETCUP_CUSTOMER_NUMBER, NETCUP_API_KEY, NETCUP_API_PASSWORD, the timeouts (900 s, 30 s;
 * HTTP 10 s; NETCUP_TTL is deprecated in lego and has no effect), and ours, NETCUP_API_URL
 * (default https://ccp.netcup.net/run/webservice/servers/endpoint.php?JSON).
 */
export function netcupFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const customer = vars.require('NETCUP_CUSTOMER_NUMBER', 'netcup');
  const apiKey = vars.require('NETCUP_API_KEY', 'netcup');
  const password = vars.require('NETCUP_API_PASSWORD', 'netcup');
  const s = apiSettings(vars, ctx, {
    provider: 'netcup',
    prefix: 'NETCUP',
    apiUrlVar: 'NETCUP_API_URL',
    defaultApi: NETCUP_API,
    httpTimeoutS: 10,
    propagationS: 900,
    pollingS: 30,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new NetcupDnsProvider({ api: s.api, url: s.baseUrl, customer, apiKey, password, zones: ctx.zones }),
  };
}
