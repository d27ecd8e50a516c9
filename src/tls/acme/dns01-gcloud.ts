/**
 * lego's `gcloud` DNS provider (providers/dns/gcloud/googlecloud.go), against the Cloud DNS API v1
 * (https://cloud.google.com/dns/docs/reference/rest/v1), with a service account key
 * (GCE_SERVICE_ACCOUNT or GCE_SERVICE_ACCOUNT_FILE): an OAuth2 access token from the key's
 * `token_uri` with a JWT signed RS256 by its private key (golang.org/x/oauth2/jwt: grant type
 * jwt-bearer, scope ndev.clouddns.readwrite, an hour long), reused until a minute before it ends.
 * Without a key, the default credentials on Google Cloud: the metadata server's token for the
 * default service account (`GET /computeMetadata/v1/instance/service-accounts/default/token
 * ?scopes=…`, `Metadata-Flavor: Google`) and, without GCE_PROJECT, its project id.
 *
 * - the managed zone: GCE_ZONE_ID (`GET …/managedZones/<id>`), else `GET
 *   …/managedZones?dnsName=<zone.>` and the first public one (private too with
 *   GCE_ALLOW_PRIVATE_ZONE);
 * - `present`: `GET …/rrsets?name=<fqdn>&type=TXT`; nothing to do if our value is there; else the
 *   set is deleted (`POST …/changes` `{"deletions":[…]}`) and added back with ours first
 *   (`{"additions":[{"name","rrdatas","ttl","type":"TXT"}]}`), each change followed until `done`
 *   (every 3 s, for 30 s);
 * - `cleanup`: lego deletes the whole set; we delete it and add back the others' values (as the
 *   other providers keep them), so that a wildcard's value is not pulled from under its base's.
 */
import { createSign } from 'node:crypto';
import {
  type ApiClient,
  type ApiMethod,
  arrayField,
  asObject,
  delay,
  excerpt,
  parseJson,
  stringField,
} from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import type { ZoneLocator } from './dns01-zone.ts';
import { type Scheduler, systemScheduler } from './scheduler.ts';

export const GCLOUD_API = 'https://dns.googleapis.com/dns/v1';
/** cloud.google.com/go/compute/metadata's metadataIP, used unless GCE_METADATA_HOST says otherwise. */
const METADATA_IP = '169.254.169.254';
const SCOPE = 'https://www.googleapis.com/auth/ndev.clouddns.readwrite';

export interface ServiceAccountKey {
  readonly clientEmail: string;
  readonly privateKey: string;
  readonly privateKeyId: string;
  readonly tokenUri: string;
}

export interface GCloudOptions {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  /** '' : asked of the metadata server at the first change (lego's autodetectProjectID). */
  readonly project: string;
  /** A service account key; without one, the metadata server's default service account. */
  readonly key?: ServiceAccountKey;
  /** `host[:port]` of the metadata server (Google's libraries: GCE_METADATA_HOST, else 169.254.169.254). */
  readonly metadataHost?: string;
  readonly zoneId: string;
  readonly allowPrivateZone: boolean;
  readonly ttl: number;
  readonly zones: ZoneLocator;
  readonly scheduler?: Scheduler;
}

type RRSet = Record<string, unknown> & { name: string; rrdatas: string[] };

export class GCloudDnsProvider implements Dns01Provider {
  readonly #o: GCloudOptions;
  readonly #scheduler: Scheduler;
  #token: { value: string; until: number } | undefined;
  #project: string | undefined;

  constructor(opts: GCloudOptions) {
    this.#o = opts;
    this.#scheduler = opts.scheduler ?? systemScheduler;
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    const { zone, name } = await this.#zone(fqdn, signal);
    const existing = await this.#txt(zone, name);
    const values = existing.flatMap((s) => s.rrdatas.map(unquote));
    if (values.includes(value)) return;
    if (existing.length > 0) {
      await this.#change(
        zone,
        { deletions: existing.map((s) => ({ ...s, rrdatas: s.rrdatas.map(unquote) })) },
        signal,
      );
    }
    await this.#change(
      zone,
      { additions: [{ name, rrdatas: [value, ...values], ttl: this.#o.ttl, type: 'TXT' }] },
      signal,
    );
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const { zone, name } = await this.#zone(fqdn);
    const records = await this.#txt(zone, name);
    if (records.length === 0) return;
    const others = records.flatMap((s) => s.rrdatas.map(unquote)).filter((v) => v !== value);
    await this.#change(zone, {
      deletions: records,
      ...(others.length === 0
        ? {}
        : { additions: [{ name, rrdatas: others, ttl: this.#o.ttl, type: 'TXT' }] }),
    });
  }

  /** The managed zone's name (its id in the API) and the record's absolute name. */
  async #zone(fqdn: string, signal?: AbortSignal): Promise<{ zone: string; name: string }> {
    const p = encodeURIComponent(await this.#projectId());
    if (this.#o.zoneId !== '') {
      const name = await this.#o.zones.follow(fqdn, signal);
      await this.#call('GET', `projects/${p}/managedZones/${encodeURIComponent(this.#o.zoneId)}`);
      return { zone: this.#o.zoneId, name };
    }
    const where = await this.#o.zones.locate(fqdn, signal);
    const list = await this.#call('GET', `projects/${p}/managedZones`, { dnsName: where.zone });
    const zones = arrayField(list, 'managedZones') ?? [];
    if (zones.length === 0) throw new Error(`gcloud: no matching domain found for domain ${where.zone}`);
    const found = zones.find((z) => {
      const v = stringField(z, 'visibility') ?? '';
      return v === 'public' || v === '' || (v === 'private' && this.#o.allowPrivateZone);
    });
    const zone = stringField(found, 'name');
    if (zone === undefined) {
      throw new Error(
        `gcloud: no ${this.#o.allowPrivateZone ? 'public or private' : 'public'} zone found for domain ${where.zone}`,
      );
    }
    return { zone, name: where.fqdn };
  }

  async #txt(zone: string, name: string): Promise<RRSet[]> {
    const p = encodeURIComponent(await this.#projectId());
    const body = await this.#call('GET', `projects/${p}/managedZones/${encodeURIComponent(zone)}/rrsets`, {
      name,
      type: 'TXT',
    });
    return (arrayField(body, 'rrsets') ?? []).map((s) => ({
      ...asObject(s),
      name: stringField(s, 'name') ?? name,
      rrdatas: (arrayField(s, 'rrdatas') ?? []).filter((v): v is string => typeof v === 'string'),
    }));
  }

  /** lego's applyChanges: POST the change, then follow it until `done` (3 s apart, 30 s at most). */
  async #change(zone: string, change: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
    const path = `projects/${encodeURIComponent(await this.#projectId())}/managedZones/${encodeURIComponent(zone)}/changes`;
    let got = await this.#call('POST', path, undefined, change);
    for (let waited = 0; stringField(got, 'status') !== 'done'; waited += 3_000) {
      if (waited >= 30_000) throw new Error(`gcloud: change ${stringField(got, 'id')} not done within 30 s`);
      await delay(this.#scheduler, 3_000, signal);
      got = await this.#call('GET', `${path}/${encodeURIComponent(stringField(got, 'id') ?? '')}`);
    }
  }

  async #call(
    method: ApiMethod,
    path: string,
    query: Record<string, string> = {},
    body?: unknown,
  ): Promise<unknown> {
    const url = new URL(this.#o.baseUrl);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path}`;
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const headers: Record<string, string> = { authorization: `Bearer ${await this.#accessToken()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return this.#o.api.json(
      { method, url, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) },
      (b) => {
        const e = asObject(asObject(b)?.['error']);
        const message = stringField(e, 'message');
        return message === undefined
          ? undefined
          : `googleapi: Error ${stringField(e, 'code') ?? ''}: ${message}`;
      },
    );
  }

  /** GCE_PROJECT, else (no key) the metadata server's `project/project-id`, asked once. */
  async #projectId(): Promise<string> {
    if (this.#o.project !== '') return this.#o.project;
    if (this.#project === undefined) {
      const res = await this.#metadata('project/project-id');
      const id = res.text.trim();
      if (id === '')
        throw new Error('gcloud: project name missing (the metadata server named none; set GCE_PROJECT)');
      this.#project = id;
    }
    return this.#project;
  }

  /**
   * cloud.google.com/go/compute/metadata's Get: `GET http://<host>/computeMetadata/v1/<suffix>`
   * with `Metadata-Flavor: Google`; anything but 200 is an error.
   */
  async #metadata(suffix: string): Promise<{ text: string }> {
    const url = new URL(`http://${this.#o.metadataHost ?? METADATA_IP}/computeMetadata/v1/${suffix}`);
    const req = { method: 'GET' as const, url, headers: { 'metadata-flavor': 'Google' } };
    const res = await this.#o.api.send(req);
    if (res.status !== 200) throw this.#o.api.statusError(req, res, `metadata: ${excerpt(res.text)}`);
    return res;
  }

  /**
   * An access token: from the service account key (golang.org/x/oauth2/jwt), else from the
   * metadata server (golang.org/x/oauth2/google's ComputeTokenSource, which google.DefaultClient
   * uses on Google Cloud: the default service account's token for the Cloud DNS scope). Reused
   * until a minute before it ends.
   */
  async #accessToken(): Promise<string> {
    const now = Date.now();
    if (this.#token !== undefined && this.#token.until - now > 60_000) return this.#token.value;
    const k = this.#o.key;
    if (k === undefined) {
      const res = await this.#metadata(
        `instance/service-accounts/default/token?${new URLSearchParams({ scopes: SCOPE })}`,
      );
      const parsed = parseJson(res.text);
      const token = stringField(parsed, 'access_token');
      if (token === undefined) throw new Error('gcloud: metadata: no access_token in the token answer');
      const expiresIn = Number(asObject(parsed)?.['expires_in'] ?? 0);
      this.#token = { value: token, until: now + (Number.isFinite(expiresIn) ? expiresIn : 0) * 1000 };
      return token;
    }
    // x/oauth2/jws: issued 10 s in the past against clock skew, valid for an hour.
    const iat = Math.floor(now / 1000) - 10;
    const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
    const head = b64({ alg: 'RS256', typ: 'JWT', ...(k.privateKeyId === '' ? {} : { kid: k.privateKeyId }) });
    const claims = b64({ iss: k.clientEmail, scope: SCOPE, aud: k.tokenUri, exp: iat + 3600, iat });
    const signature = createSign('RSA-SHA256')
      .update(`${head}.${claims}`)
      .sign(k.privateKey)
      .toString('base64url');
    const form = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: `${head}.${claims}.${signature}`,
    });
    const url = new URL(k.tokenUri);
    const res = await this.#o.api.send({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const parsed = parseJson(res.text);
    const token = stringField(parsed, 'access_token');
    if (res.status !== 200 || token === undefined) {
      const why = stringField(parsed, 'error_description') ?? stringField(parsed, 'error');
      throw this.#o.api.statusError(
        { method: 'POST', url },
        res,
        why === undefined ? undefined : `oauth2: ${why}`,
      );
    }
    const expiresIn = Number(asObject(parsed)?.['expires_in'] ?? 3600);
    this.#token = { value: token, until: now + (Number.isFinite(expiresIn) ? expiresIn : 3600) * 1000 };
    return token;
  }
}

/** Go's strconv.Unquote for a TXT value Cloud DNS returns quoted; the text as is otherwise. */
function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) {
    try {
      return JSON.parse(v) as string;
    } catch {
      return v;
    }
  }
  return v;
}

/**
 * lego's GCE_SERVICE_ACCOUNT (the key's JSON, or GCE_SERVICE_ACCOUNT_FILE), GCE_PROJECT (else the
 * key's project_id), GCE_ZONE_ID, GCE_ALLOW_PRIVATE_ZONE, GCE_TTL (120), the timeouts (180 s,
 * 5 s); ours: GCE_API_URL and GCE_HTTP_TIMEOUT (30 s). Without a key, lego's default credentials
 * as they are on Google Cloud: the metadata server's default service account
 * (GCE_METADATA_HOST, as Google's libraries read it), and GCE_PROJECT or else the metadata
 * server's project. GOOGLE_APPLICATION_CREDENTIALS, gcloud's own credentials file and
 * GCE_IMPERSONATE_SERVICE_ACCOUNT are not supported yet.
 */
export function gcloudFromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const raw = vars.get('GCE_SERVICE_ACCOUNT');
  let key: ServiceAccountKey | undefined;
  let project = vars.get('GCE_PROJECT');
  if (raw === '') {
    // google.DefaultClient would read these first: refused rather than passed over.
    if (vars.get('GOOGLE_APPLICATION_CREDENTIALS') !== '') {
      vars.problems.push(
        'GOOGLE_APPLICATION_CREDENTIALS is not supported yet: give a service account key as GCE_SERVICE_ACCOUNT_FILE, or use the metadata server (unset it)',
      );
    }
  } else {
    const j = asObject(parseJson(raw));
    const field = (n: string): string => stringField(j, n) ?? '';
    if (j === undefined || field('client_email') === '' || field('private_key') === '') {
      vars.problems.push('GCE_SERVICE_ACCOUNT is not a service account key (client_email and private_key)');
    }
    key = {
      clientEmail: field('client_email'),
      privateKey: field('private_key'),
      privateKeyId: field('private_key_id'),
      tokenUri: field('token_uri') || 'https://oauth2.googleapis.com/token',
    };
    if (project === '') project = field('project_id');
    if (project === '' && j !== undefined)
      vars.problems.push('project ID not found in Google Cloud Service Account file (set GCE_PROJECT)');
  }
  const metadataHost = vars.get('GCE_METADATA_HOST');
  if (vars.get('GCE_IMPERSONATE_SERVICE_ACCOUNT') !== '')
    vars.problems.push('GCE_IMPERSONATE_SERVICE_ACCOUNT is not supported yet');
  const zoneId = vars.get('GCE_ZONE_ID');
  const allowPrivateZone = vars.bool('GCE_ALLOW_PRIVATE_ZONE', false);
  const ttl = vars.integer('GCE_TTL', 120);
  const s = apiSettings(vars, ctx, {
    provider: 'gcloud',
    prefix: 'GCE',
    apiUrlVar: 'GCE_API_URL',
    defaultApi: GCLOUD_API,
    httpTimeoutS: 30,
    propagationS: 180,
    pollingS: 5,
  });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new GCloudDnsProvider({
        api: s.api,
        baseUrl: s.baseUrl,
        project,
        ...(key === undefined ? {} : { key }),
        ...(metadataHost === '' ? {} : { metadataHost }),
        zoneId,
        allowPrivateZone,
        ttl,
        zones: ctx.zones,
        ...(ctx.scheduler === undefined ? {} : { scheduler: ctx.scheduler }),
      }),
  };
}
