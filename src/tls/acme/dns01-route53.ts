/**
 * lego's `route53` DNS provider, against Route 53's REST API (version 2013-04-01, XML), each
 * request signed with AWS Signature Version 4 (aws-sigv4.ts; service `route53`, region us-east-1
 * for the global endpoint). As lego does it:
 *
 * - the hosted zone: `AWS_HOSTED_ZONE_ID`, else `GET /2013-04-01/hostedzonesbyname?dnsname=<zone>`
 *   and the zone of exactly that name whose privacy matches `AWS_PRIVATE_ZONE`;
 * - the values already at the record name (`GET …/hostedzone/<id>/rrset?name=<fqdn>&type=TXT`) are
 *   kept: `present` UPSERTs them with the new quoted value, `cleanup` UPSERTs the others back, or
 *   DELETEs the set when only ours was there (`POST …/hostedzone/<id>/rrset/`);
 * - each change is followed until `GET /2013-04-01/change/<id>` says INSYNC, unless
 *   `AWS_WAIT_FOR_RECORD_SETS_CHANGED=false`.
 */
import { type AwsCredentials, type ExpiringAwsCredentials, signV4 } from '../../core/aws-sigv4.ts';
import { type ApiClient, type ApiMethod, type ApiResponse, apiUrl, pollUntil } from './dns01-api.ts';
import { type ApiProviderContext, type ApiProviderSetup, apiSettings } from './dns01-api-provider.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import type { ProviderTimeouts } from './dns01-settings.ts';
import { unFqdn, type ZoneLocator } from './dns01-zone.ts';
import {
  changeBatchXml,
  elements,
  parseHostedZones,
  parseRecordSets,
  type Route53RecordSet,
  route53Error,
  text,
} from './route53-xml.ts';
import { type Scheduler, systemScheduler } from './scheduler.ts';

export const ROUTE53_API = 'https://route53.amazonaws.com';
const VERSION = '2013-04-01';

export interface Route53Options {
  readonly api: ApiClient;
  readonly baseUrl: URL;
  /** Fixed keys, or where temporary ones come from (called again when they near their expiry). */
  readonly credentials: AwsCredentials | (() => Promise<ExpiringAwsCredentials>);
  /** The signing region: us-east-1 for the global endpoint. */
  readonly region: string;
  readonly hostedZoneId: string;
  readonly privateZone: boolean;
  readonly waitForChange: boolean;
  readonly ttl: number;
  readonly zones: ZoneLocator;
  readonly timeouts: ProviderTimeouts;
  readonly scheduler?: Scheduler;
  readonly now?: () => Date;
}

export class Route53DnsProvider implements Dns01Provider {
  readonly #o: Route53Options;
  readonly #scheduler: Scheduler;
  readonly #now: () => Date;
  readonly #records = new Map<string, { zoneId: string; fqdn: string }>();
  #cached: ExpiringAwsCredentials | undefined;

  constructor(opts: Route53Options) {
    this.#o = opts;
    this.#scheduler = opts.scheduler ?? systemScheduler;
    this.#now = opts.now ?? (() => new Date());
  }

  async present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    let name: string;
    let zoneId = this.#o.hostedZoneId;
    if (zoneId === '') {
      const where = await this.#o.zones.locate(fqdn, signal);
      name = where.fqdn;
      zoneId = await this.#hostedZone(where.zone);
    } else {
      name = await this.#o.zones.follow(fqdn, signal);
    }
    const existing = await this.#existing(zoneId, name);
    const quoted = `"${value}"`;
    const values = existing?.values ?? [];
    if (!values.includes(quoted)) values.push(quoted);
    await this.#change(zoneId, 'UPSERT', { name, type: 'TXT', ttl: this.#o.ttl, values }, signal);
    this.#records.set(`${fqdn}\n${value}`, { zoneId, fqdn: name });
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    const key = `${fqdn}\n${value}`;
    const r = this.#records.get(key);
    if (r === undefined) return;
    const existing = await this.#existing(r.zoneId, r.fqdn);
    this.#records.delete(key);
    if (existing === undefined || existing.values.length === 0) return;
    const others = existing.values.filter((v) => v !== `"${value}"`);
    if (others.length === 0) {
      // A DELETE must name the set exactly as it is, TTL included.
      await this.#change(r.zoneId, 'DELETE', { ...existing, name: r.fqdn });
    } else {
      await this.#change(r.zoneId, 'UPSERT', { name: r.fqdn, type: 'TXT', ttl: this.#o.ttl, values: others });
    }
  }

  async #hostedZone(zone: string): Promise<string> {
    const res = await this.#call('GET', [VERSION, 'hostedzonesbyname'], { dnsname: unFqdn(zone) });
    const wanted = zone.toLowerCase();
    const found = parseHostedZones(res.text).find(
      (z) => z.name.toLowerCase() === wanted && z.privateZone === this.#o.privateZone,
    );
    if (found === undefined) {
      throw new Error(
        `route53: no ${this.#o.privateZone ? 'private' : 'public'} hosted zone ${zone} (AWS_PRIVATE_ZONE=${this.#o.privateZone})`,
      );
    }
    return found.id.replace(/^\/hostedzone\//, '');
  }

  /** The TXT set at exactly `name`, if any (the list starts at the name and may go on past it). */
  async #existing(zoneId: string, name: string): Promise<Route53RecordSet | undefined> {
    const res = await this.#call('GET', [VERSION, 'hostedzone', zoneId, 'rrset'], { name, type: 'TXT' });
    const wanted = name.toLowerCase();
    return parseRecordSets(res.text).find((s) => s.type === 'TXT' && s.name.toLowerCase() === wanted);
  }

  async #change(
    zoneId: string,
    action: 'UPSERT' | 'DELETE',
    set: Route53RecordSet,
    signal?: AbortSignal,
  ): Promise<void> {
    const res = await this.#call(
      'POST',
      [VERSION, 'hostedzone', zoneId, 'rrset', ''],
      {},
      changeBatchXml(action, set, 'Managed by traffic (lego-compatible)'),
    );
    const changeId = (text(res.text, 'Id') ?? '').replace(/^\/change\//, '');
    if (!this.#o.waitForChange) return;
    if (changeId === '') throw new Error('route53: no change id in the answer to ChangeResourceRecordSets');
    const { timeoutMs, intervalMs } = this.#o.timeouts;
    await pollUntil(
      this.#scheduler,
      `route53: change ${changeId}`,
      timeoutMs,
      intervalMs,
      async () => {
        const got = await this.#call('GET', [VERSION, 'change', changeId], {});
        const status = text(got.text, 'Status');
        return status === 'INSYNC' ? true : `status ${status ?? 'unknown'}`;
      },
      signal,
    );
  }

  /** The SDK's CredentialsCache: temporary credentials are fetched again 5 minutes before they expire. */
  async #credentials(): Promise<AwsCredentials> {
    const source = this.#o.credentials;
    if (typeof source !== 'function') return source;
    const c = this.#cached;
    if (c !== undefined && (c.expires === undefined || c.expires - this.#now().getTime() > 5 * 60_000))
      return c;
    this.#cached = await source();
    return this.#cached;
  }

  /** A signed request; any answer but 2xx is an error quoting Route 53's error code and message. */
  async #call(
    method: ApiMethod,
    path: string[],
    query: Readonly<Record<string, string>>,
    body = '',
  ): Promise<ApiResponse> {
    const url = apiUrl(this.#o.baseUrl, path, query);
    const credentials = await this.#credentials();
    const headers = signV4(
      {
        method,
        url,
        headers: body === '' ? {} : { 'content-type': 'application/xml' },
        body,
        region: this.#o.region,
        service: 'route53',
        now: this.#now(),
      },
      credentials,
    );
    const req = { method, url, headers, ...(body === '' ? {} : { body }) };
    const res = await this.#o.api.send(req);
    if (res.status < 200 || res.status > 299) throw this.#o.api.statusError(req, res, route53Error(res.text));
    return res;
  }
}

/** The partition's endpoint and signing region for AWS_REGION (Route 53 is global within one). */
function partition(region: string): { api: string; region: string } {
  if (region.startsWith('cn-')) return { api: 'https://route53.amazonaws.com.cn', region: 'cn-northwest-1' };
  if (region.startsWith('us-gov-'))
    return { api: 'https://route53.us-gov.amazonaws.com', region: 'us-gov-west-1' };
  return { api: ROUTE53_API, region: 'us-east-1' };
}

/**
 * The SDK's stscreds.AssumeRoleProvider as lego's createAWSConfig sets it up for
 * AWS_ASSUME_ROLE_ARN: STS AssumeRole (Query protocol, signed with the base credentials) for a
 * 15-minute session named `aws-go-sdk-<nanoseconds>`, with AWS_EXTERNAL_ID when set.
 */
export async function assumeRole(opts: {
  readonly api: ApiClient;
  readonly endpoint: URL;
  readonly region: string;
  readonly roleArn: string;
  readonly externalId: string;
  readonly base: AwsCredentials;
  readonly now: Date;
}): Promise<ExpiringAwsCredentials> {
  const form = new URLSearchParams({
    Action: 'AssumeRole',
    DurationSeconds: '900',
    ...(opts.externalId === '' ? {} : { ExternalId: opts.externalId }),
    RoleArn: opts.roleArn,
    RoleSessionName: `aws-go-sdk-${BigInt(opts.now.getTime()) * 1_000_000n}`,
    Version: '2011-06-15',
  });
  const body = form.toString();
  const url = new URL(opts.endpoint);
  if (url.pathname === '') url.pathname = '/';
  const headers = signV4(
    {
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
      region: opts.region,
      service: 'sts',
      now: opts.now,
    },
    opts.base,
  );
  const req = { method: 'POST' as const, url, headers, body };
  const res = await opts.api.send(req);
  if (res.status !== 200) throw opts.api.statusError(req, res, route53Error(res.text));
  const creds = elements(res.text, 'Credentials')[0] ?? '';
  const accessKeyId = text(creds, 'AccessKeyId');
  const secretAccessKey = text(creds, 'SecretAccessKey');
  if (accessKeyId === undefined || secretAccessKey === undefined)
    throw new Error('route53: no credentials in the answer of STS AssumeRole');
  const token = text(creds, 'SessionToken');
  const expires = Date.parse(text(creds, 'Expiration') ?? '');
  return {
    accessKeyId,
    secretAccessKey,
    ...(token === undefined ? {} : { sessionToken: token }),
    ...(Number.isFinite(expires) ? { expires } : {}),
  };
}

/**
 * lego's (and the AWS SDK's) `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
 * `AWS_REGION`, `AWS_HOSTED_ZONE_ID`, `AWS_PRIVATE_ZONE`, `AWS_WAIT_FOR_RECORD_SETS_CHANGED`,
 * `AWS_TTL` (10), the timeouts (120 s, 4 s); the endpoint from the SDK's
 * `AWS_ENDPOINT_URL_ROUTE_53`, else `AWS_ENDPOINT_URL`. Without both keys, the SDK's default
 * chain (ctx.awsCredentials: web identity, AWS_PROFILE's shared credentials, container, instance
 * role), as lego's createAWSConfig leaves it to LoadDefaultConfig; AWS_ASSUME_ROLE_ARN (with
 * AWS_EXTERNAL_ID) then assumes that role with them, through STS (AWS_ENDPOINT_URL_STS, else
 * AWS_ENDPOINT_URL, else `https://sts.<AWS_REGION or us-east-1>.amazonaws.com`).
 */
export function route53FromEnv(vars: LegoEnv, ctx: ApiProviderContext): ApiProviderSetup {
  const accessKeyId = vars.get('AWS_ACCESS_KEY_ID');
  const secretAccessKey = vars.get('AWS_SECRET_ACCESS_KEY');
  const sessionToken = vars.get('AWS_SESSION_TOKEN');
  const keys = accessKeyId !== '' && secretAccessKey !== '';
  if (!keys && ctx.awsCredentials === undefined) {
    vars.problems.push(
      'the route53 provider needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (each also as …_FILE) where the AWS default credential chain is not available',
    );
  }
  const roleArn = vars.get('AWS_ASSUME_ROLE_ARN');
  const externalId = vars.get('AWS_EXTERNAL_ID');
  const region = vars.get('AWS_REGION');
  const p = partition(region);
  const endpointVar =
    vars.get('AWS_ENDPOINT_URL_ROUTE_53') !== '' ? 'AWS_ENDPOINT_URL_ROUTE_53' : 'AWS_ENDPOINT_URL';
  const s = apiSettings(vars, ctx, {
    provider: 'route53',
    prefix: 'AWS',
    apiUrlVar: endpointVar,
    defaultApi: p.api,
    httpTimeoutS: 30,
    propagationS: 120,
    pollingS: 4,
  });
  const stsRegion = region === '' ? 'us-east-1' : region;
  const stsVar = vars.get('AWS_ENDPOINT_URL_STS') !== '' ? 'AWS_ENDPOINT_URL_STS' : 'AWS_ENDPOINT_URL';
  const stsEndpoint = vars.url(
    stsVar,
    `https://sts.${stsRegion}.amazonaws.com${stsRegion.startsWith('cn-') ? '.cn' : ''}`,
  );
  const hostedZoneId = vars.get('AWS_HOSTED_ZONE_ID').replace(/^\/hostedzone\//, '');
  const privateZone = vars.bool('AWS_PRIVATE_ZONE', false);
  const waitForChange = vars.bool('AWS_WAIT_FOR_RECORD_SETS_CHANGED', true);
  const ttl = vars.integer('AWS_TTL', 10, 1);
  const chain = ctx.awsCredentials;
  const base: AwsCredentials | (() => Promise<ExpiringAwsCredentials>) = keys
    ? { accessKeyId, secretAccessKey, ...(sessionToken === '' ? {} : { sessionToken }) }
    : async () => {
        try {
          return await chain!(AbortSignal.timeout(30_000));
        } catch (e) {
          throw new Error(`route53: no AWS credentials: ${(e as Error).message}`, { cause: e });
        }
      };
  const credentials =
    roleArn === ''
      ? base
      : async () =>
          assumeRole({
            api: s.api,
            endpoint: stsEndpoint,
            region: stsRegion,
            roleArn,
            externalId,
            base: typeof base === 'function' ? await base() : base,
            now: new Date(),
          });
  return {
    timeouts: s.timeouts,
    provider: () =>
      new Route53DnsProvider({
        api: s.api,
        baseUrl: s.baseUrl,
        credentials,
        region: p.region,
        hostedZoneId,
        privateZone,
        waitForChange,
        ttl,
        zones: ctx.zones,
        timeouts: s.timeouts,
        ...(ctx.scheduler === undefined ? {} : { scheduler: ctx.scheduler }),
      }),
  };
}
