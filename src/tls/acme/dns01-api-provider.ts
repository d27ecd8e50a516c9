/**
 * What every API-backed DNS provider reads besides its credentials, with lego's names:
 * `<PREFIX>_PROPAGATION_TIMEOUT`, `<PREFIX>_POLLING_INTERVAL`, `<PREFIX>_HTTP_TIMEOUT` (whole
 * seconds, each provider with lego's defaults), and the API's base URL. lego has a variable for
 * the base URL of some providers only (`DO_API_URL`, `OVH_ENDPOINT`, the AWS SDK's
 * `AWS_ENDPOINT_URL_ROUTE_53`); for the others we read `<PREFIX>_API_URL`, so that every provider
 * can be pointed at a test double (or a proxy) the same way.
 */
import type { ExpiringAwsCredentials } from '../../core/aws-sigv4.ts';
import { ApiClient } from './dns01-api.ts';
import type { LegoEnv } from './dns01-env.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import type { ProviderTimeouts } from './dns01-settings.ts';
import type { ZoneLocator } from './dns01-zone.ts';
import type { Scheduler } from './scheduler.ts';

export interface ApiProviderContext {
  /** Where records go (lego: CNAME followed, zone from the SOA). */
  readonly zones: ZoneLocator;
  readonly scheduler?: Scheduler;
  /** The AWS SDK's default credential chain over the proxy's environment (route53 without keys). */
  readonly awsCredentials?: (signal: AbortSignal) => Promise<ExpiringAwsCredentials>;
}

export interface ApiProviderSetup {
  readonly timeouts: ProviderTimeouts;
  /** Called only once every variable was found good (LegoEnv.check passed). */
  readonly provider: () => Dns01Provider;
}

export interface ApiSettingsSpec {
  /** lego's provider name, the prefix of its errors. */
  readonly provider: string;
  /** lego's variable prefix: `CLOUDFLARE` for `CLOUDFLARE_HTTP_TIMEOUT`. */
  readonly prefix: string;
  /**
   * lego's GetOneWithFallback: each `<prefix>_…` variable, when unset, is read as
   * `<fallbackPrefix>_…` (scaleway's `SCW_…`).
   */
  readonly fallbackPrefix?: string;
  /** The variable that overrides the API's base URL (none: `defaultApi` is the URL). */
  readonly apiUrlVar?: string;
  readonly defaultApi: string;
  /** lego's defaults, in seconds. */
  readonly httpTimeoutS: number;
  readonly propagationS: number;
  readonly pollingS: number;
}

export interface ApiSettings {
  readonly baseUrl: URL;
  readonly timeouts: ProviderTimeouts;
  readonly api: ApiClient;
}

export function apiSettings(vars: LegoEnv, ctx: ApiProviderContext, spec: ApiSettingsSpec): ApiSettings {
  const name = (suffix: string): string => prefixedName(vars, spec.prefix, suffix, spec.fallbackPrefix);
  const timeouts = {
    timeoutMs: vars.seconds(name('PROPAGATION_TIMEOUT'), spec.propagationS),
    intervalMs: vars.seconds(name('POLLING_INTERVAL'), spec.pollingS),
  };
  const httpTimeoutMs = vars.seconds(name('HTTP_TIMEOUT'), spec.httpTimeoutS);
  return {
    baseUrl:
      spec.apiUrlVar === undefined ? new URL(spec.defaultApi) : vars.url(spec.apiUrlVar, spec.defaultApi),
    timeouts,
    api: new ApiClient({
      provider: spec.provider,
      timeoutMs: httpTimeoutMs,
      ...(ctx.scheduler === undefined ? {} : { scheduler: ctx.scheduler }),
    }),
  };
}

/** `<prefix>_<suffix>`, or `<fallbackPrefix>_<suffix>` when only that one is set (lego's GetOneWithFallback). */
export function prefixedName(vars: LegoEnv, prefix: string, suffix: string, fallbackPrefix?: string): string {
  const main = `${prefix}_${suffix}`;
  if (fallbackPrefix === undefined || vars.get(main) !== '') return main;
  const alt = `${fallbackPrefix}_${suffix}`;
  return vars.get(alt) === '' ? main : alt;
}
