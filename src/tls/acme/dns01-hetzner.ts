/**
 * lego's `hetzner` DNS provider, with its two APIs:
 *
 * - `HETZNER_API_TOKEN`: Hetzner Console's DNS (the Cloud API, https://docs.hetzner.cloud/reference/cloud
 *   "Zone RRSet Actions"), `Authorization: Bearer`. The TXT value, quoted, is added to the RRSet
 *   with `POST /v1/zones/<zone>/rrsets/<name>/TXT/actions/add_records`
 *   `{"ttl":…,"records":[{"value":"\"…\""}]}` and taken out with `…/actions/remove_records`; each
 *   answers `{"action":{"id":…,"status":…}}`, and `GET /v1/actions/<id>` is polled until the
 *   action is `success` (or `error`).
 * - `HETZNER_API_KEY` (deprecated by lego, used when no token is set): the older DNS Console API
 *   (https://dns.hetzner.com/api-docs), `Auth-API-Token` header: `GET /api/v1/zones?name=<zone>`
 *   for the zone id, `POST /api/v1/records` `{"zone_id","type":"TXT","name","value","ttl"}`,
 *   `GET /api/v1/records?zone_id=…` to find it again and `DELETE /api/v1/records/<id>`.
 */
import {
  type ApiClient,
  arrayField,
  asObject,
  joinUrl,
  parseJson,
  pollUntil,
  stringField,
} from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import type { ProviderTimeouts } from './dns01-settings.ts';
import { relativeName, unFqdn, type ZoneLocator } from './dns01-zone.ts';
import { type Scheduler, systemScheduler } from './scheduler.ts';

export const HETZNER_CLOUD_API = 'https://api.hetzner.cloud/v1';
export const HETZNER_DNS_API = 'https://dns.hetzner.com';

export interface HetznerOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  readonly credential: { readonly kind: 'token' | 'key'; readonly secret: string };
  readonly ttl: number;
  readonly zones: ZoneLocator;
  /** How long and how often an action is polled (the provider's propagation settings, as lego does). */
  readonly timeouts: ProviderTimeouts;
  readonly scheduler?: Scheduler;
}

export class HetznerDnsProvider implements Dns01Provider {
  readonly #o: HetznerOptions;
  readonly #scheduler: Scheduler;
  readonly #records = new Map<string, { zone: string; name: string }>();

  constructor(opts: HetznerOptions) {
    this.#o = opts;
    this.#scheduler = opts.scheduler ?? systemScheduler;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const where = await this.#o.zones.locate(fqdn, signal);
    const zone = unFqdn(where.zone).toLowerCase();
    const name = relativeName(where.fqdn, where.zone);
    if (this.#o.credential.kind === 'token') {
      await this.#action(
        zone,
        name,
        'add_records',
        { ttl: this.#o.ttl, records: [{ value: quoted(value) }] },
        signal,
      );
    } else {
      const zoneId = await this.#legacyZoneId(zone);
      await this.#o.api.json(
        {
          method: 'POST',
          url: joinUrl(this.#o.baseUrl, 'api', 'v1', 'records'),
          headers: this.#headers(true),
          body: JSON.stringify({ zone_id: zoneId, type: 'TXT', name, value, ttl: this.#o.ttl }),
        },
        hetznerError,
      );
    }
    this.#records.set(`${fqdn}\n${value}`, { zone, name });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const key = `${fqdn}\n${value}`;
    const r = this.#records.get(key);
    if (r === undefined) return;
    if (this.#o.credential.kind === 'token') {
      await this.#action(r.zone, r.name, 'remove_records', { records: [{ value: quoted(value) }] });
    } else {
      const zoneId = await this.#legacyZoneId(r.zone);
      const url = joinUrl(this.#o.baseUrl, 'api', 'v1', 'records');
      url.searchParams.set('zone_id', zoneId);
      const list = arrayField(
        await this.#o.api.json({ method: 'GET', url, headers: this.#headers(false) }, hetznerError),
        'records',
      );
      const found = (list ?? []).find(
        (x) =>
          stringField(x, 'type') === 'TXT' &&
          stringField(x, 'name') === r.name &&
          stringField(x, 'value') === value,
      );
      const id = stringField(found, 'id');
      if (id === undefined)
        throw new Error(`hetzner: TXT record ${r.name} "${value}" not found in zone ${r.zone}`);
      await this.#o.api.json(
        {
          method: 'DELETE',
          url: joinUrl(this.#o.baseUrl, 'api', 'v1', 'records', id),
          headers: this.#headers(false),
        },
        hetznerError,
      );
    }
    this.#records.delete(key);
  }

  /** Starts an RRSet action and waits for it to finish, as lego does. */
  async #action(
    zone: string,
    name: string,
    action: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<void> {
    const started = await this.#o.api.json(
      {
        method: 'POST',
        url: joinUrl(this.#o.baseUrl, 'zones', zone, 'rrsets', name, 'TXT', 'actions', action),
        headers: this.#headers(true),
        body: JSON.stringify(body),
      },
      hetznerError,
    );
    const id = stringField(asObject(started)?.['action'], 'id');
    if (id === undefined) throw new Error(`hetzner: ${action}: no action id in the answer`);
    const { timeoutMs, intervalMs } = this.#o.timeouts;
    await pollUntil(
      this.#scheduler,
      `hetzner: action ${id} (${action})`,
      timeoutMs,
      intervalMs,
      async () => {
        const got = asObject(
          await this.#o.api.json(
            { method: 'GET', url: joinUrl(this.#o.baseUrl, 'actions', id), headers: this.#headers(false) },
            hetznerError,
          ),
        )?.['action'];
        const status = stringField(got, 'status');
        if (status === 'running') return 'still running';
        if (status === 'error') {
          const e = asObject(got)?.['error'];
          throw new Error(
            `hetzner: action ${id} (${action}) failed: ${stringField(e, 'code') ?? ''}: ${stringField(e, 'message') ?? ''}`,
          );
        }
        return true;
      },
      signal,
    );
  }

  async #legacyZoneId(zone: string): Promise<string> {
    const url = joinUrl(this.#o.baseUrl, 'api', 'v1', 'zones');
    url.searchParams.set('name', zone);
    const res = await this.#o.api.send({ method: 'GET', url, headers: this.#headers(false) });
    // The legacy API answers 404 for a name it has no zone for (lego reads that as "none").
    if (res.status !== 200 && res.status !== 404) throw this.#o.api.statusError({ method: 'GET', url }, res);
    const zones = res.status === 404 ? [] : (arrayField(parseJson(res.text), 'zones') ?? []);
    const id = stringField(
      zones.find((z) => stringField(z, 'name') === zone),
      'id',
    );
    if (id === undefined) throw new Error(`hetzner: zone ${zone} not found`);
    return id;
  }

  #headers(json: boolean): Record<string, string> {
    const c = this.#o.credential;
    const h: Record<string, string> =
      c.kind === 'token' ? { authorization: `Bearer ${c.secret}` } : { 'auth-api-token': c.secret };
    if (json) h['content-type'] = 'application/json';
    return h;
  }
}

/** A TXT value in presentation format, as lego sends it to the Cloud API (Go's strconv.Quote). */
function quoted(value: string): string {
  return JSON.stringify(value);
}

/** The Cloud API's `{"error":{"code","message"}}`; the legacy one's `{"error":{"message","code"}}` too. */
function hetznerError(body: unknown): string | undefined {
  const e = asObject(body)?.['error'];
  const message = stringField(e, 'message');
  return message === undefined ? undefined : `${stringField(e, 'code') ?? 'error'}: ${message}`;
}

/**
 * lego's `HETZNER_API_TOKEN` (or the deprecated `HETZNER_API_KEY`), `HETZNER_TTL` (60, at least
 * 60), the timeouts (120 s, 2 s; HTTP 30 s), and ours, `HETZNER_API_URL`, for the base URL of
 * whichever API the credential selects.
 */
export function hetznerFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const token = vars.get('HETZNER_API_TOKEN');
  const key = token === '' ? vars.get('HETZNER_API_KEY') : '';
  if (token === '' && key === '') {
    vars.problems.push(
      'the hetzner provider needs HETZNER_API_TOKEN (or the deprecated HETZNER_API_KEY; each also as …_FILE)',
    );
  }
  const ttl = vars.integer('HETZNER_TTL', 60, 60);
  const s = apiSettings(vars, ctx, {
    provider: 'hetzner',
    prefix: 'HETZNER',
    apiUrlVar: 'HETZNER_API_URL',
    defaultApi: key === '' ? HETZNER_CLOUD_API : HETZNER_DNS_API,
    httpTimeoutS: 30,
    propagationS: 120,
    pollingS: 2,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new HetznerDnsProvider({
        api: s.api,
        baseUrl: s.baseUrl,
        credential: token !== '' ? { kind: 'token', secret: token } : { kind: 'key', secret: key },
        ttl,
        zones: ctx.zones,
        timeouts: s.timeouts,
        ...(ctx.scheduler === undefined ? {} : { scheduler: ctx.scheduler }),
      }),
  };
}
