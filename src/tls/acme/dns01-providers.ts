/**
 * The DNS provider named by `certificatesResolvers.<name>.acme.dnsChallenge.provider`, configured
 * as lego (hence Traefik) configures it: from environment variables, read once when the proxy
 * starts. A missing or malformed variable is a start-up error naming it, never a failure found
 * hours later when a certificate is due. The provider comes with the propagation check that
 * `dnsChallenge` asks for (dns01-settings.ts): its `present` returns once the record is seen.
 */
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import type { AwsCredentialChain } from '../../core/aws-sigv4.ts';
import type { Logger } from '../../core/logger.ts';
import { acmeDnsFromEnv } from './dns01-acmedns.ts';
import type { ApiProviderContext, ApiProviderSetup } from './dns01-api-provider.ts';
import { azureDnsFromEnv } from './dns01-azuredns.ts';
import { bunnyFromEnv } from './dns01-bunny.ts';
import { cloudflareFromEnv } from './dns01-cloudflare.ts';
import { cloudnsFromEnv } from './dns01-cloudns.ts';
import { desecFromEnv } from './dns01-desec.ts';
import { digitalOceanFromEnv } from './dns01-digitalocean.ts';
import { dnsimpleFromEnv } from './dns01-dnsimple.ts';
import { duckDnsFromEnv } from './dns01-duckdns.ts';
import { dynuFromEnv } from './dns01-dynu.ts';
import { Dns01ConfigError, LegoEnv } from './dns01-env.ts';
import { ExecDnsProvider } from './dns01-exec.ts';
import { gandiFromEnv } from './dns01-gandi.ts';
import { gandiV5FromEnv } from './dns01-gandiv5.ts';
import { gcloudFromEnv } from './dns01-gcloud.ts';
import { goDaddyFromEnv } from './dns01-godaddy.ts';
import { hetznerFromEnv } from './dns01-hetzner.ts';
import { HttpReqDnsProvider } from './dns01-httpreq.ts';
import { hurricaneFromEnv } from './dns01-hurricane.ts';
import { infomaniakFromEnv } from './dns01-infomaniak.ts';
import { inwxFromEnv } from './dns01-inwx.ts';
import { ionosFromEnv } from './dns01-ionos.ts';
import { linodeFromEnv } from './dns01-linode.ts';
import { namecheapFromEnv } from './dns01-namecheap.ts';
import { namesiloFromEnv } from './dns01-namesilo.ts';
import { netcupFromEnv } from './dns01-netcup.ts';
import { njallaFromEnv } from './dns01-njalla.ts';
import { ovhFromEnv } from './dns01-ovh.ts';
import { pdnsFromEnv } from './dns01-pdns.ts';
import { porkbunFromEnv } from './dns01-porkbun.ts';
import { Dns01PropagationCheck, PropagationCheckedDnsProvider } from './dns01-propagation.ts';
import { ChallTestSrvDnsProvider, type Dns01Provider } from './dns01-provider.ts';
import { rfc2136FromEnv } from './dns01-rfc2136.ts';
import { route53FromEnv } from './dns01-route53.ts';
import { scalewayFromEnv } from './dns01-scaleway.ts';
import {
  DEFAULT_POLLING_INTERVAL_MS,
  DEFAULT_PROPAGATION_TIMEOUT_MS,
  dnsChallengeDeprecations,
  type ProviderTimeouts,
  propagationSettings,
} from './dns01-settings.ts';
import { transipFromEnv } from './dns01-transip.ts';
import { vultrFromEnv } from './dns01-vultr.ts';
import { DnsZoneLocator, type ZoneLocator } from './dns01-zone.ts';
import type { Scheduler } from './scheduler.ts';

/** The providers that talk to a DNS host's API, by lego's names. */
const API_PROVIDERS: Readonly<Record<string, (vars: LegoEnv, ctx: ApiProviderContext) => ApiProviderSetup>> =
  {
    'acme-dns': acmeDnsFromEnv,
    azuredns: azureDnsFromEnv,
    bunny: bunnyFromEnv,
    cloudflare: cloudflareFromEnv,
    cloudns: cloudnsFromEnv,
    desec: desecFromEnv,
    digitalocean: digitalOceanFromEnv,
    dnsimple: dnsimpleFromEnv,
    duckdns: duckDnsFromEnv,
    dynu: dynuFromEnv,
    gandi: gandiFromEnv,
    gandiv5: gandiV5FromEnv,
    gcloud: gcloudFromEnv,
    godaddy: goDaddyFromEnv,
    hetzner: hetznerFromEnv,
    hurricane: hurricaneFromEnv,
    infomaniak: infomaniakFromEnv,
    inwx: inwxFromEnv,
    ionos: ionosFromEnv,
    linode: linodeFromEnv,
    namecheap: namecheapFromEnv,
    namesilo: namesiloFromEnv,
    netcup: netcupFromEnv,
    njalla: njallaFromEnv,
    ovh: ovhFromEnv,
    pdns: pdnsFromEnv,
    porkbun: porkbunFromEnv,
    rfc2136: rfc2136FromEnv,
    route53: route53FromEnv,
    scaleway: scalewayFromEnv,
    transip: transipFromEnv,
    vultr: vultrFromEnv,
  };

export interface DnsProviderContext {
  /** The resolver's name, for error messages. */
  readonly resolver?: string;
  /** Receives the exec program's output at `debug`, the propagation check's progress, deprecation warnings. */
  readonly logger?: Logger;
  readonly scheduler?: Scheduler;
  /** Reads `<VAR>_FILE` files (default: readFileSync). */
  readonly readFile?: (path: string) => string;
  /** Where API providers write records (default: lego's rules through `dnsChallenge.resolvers`). */
  readonly zones?: ZoneLocator;
  /** The AWS SDK's default credential chain (main.ts: the ECS provider's), for route53 without keys. */
  readonly awsCredentials?: AwsCredentialChain;
}

/** lego's default `HTTPREQ_HTTP_TIMEOUT`. */
const HTTPREQ_DEFAULT_TIMEOUT_S = 30;

/**
 * The provider, wrapped in its propagation check unless `dnsChallenge` turns the check off.
 * Throws a Dns01ConfigError naming every variable that is missing or malformed.
 */
export function dnsProviderFor(
  challenge: DnsChallengeConfig,
  env: NodeJS.ProcessEnv,
  ctx: DnsProviderContext = {},
): Dns01Provider {
  const logger = ctx.resolver === undefined ? ctx.logger : ctx.logger?.child({ resolver: ctx.resolver });
  const { provider, timeouts } = bareProvider(challenge, env, ctx, logger);
  for (const d of dnsChallengeDeprecations(challenge))
    logger?.warn(d.message, { key: `dnsChallenge.${d.key}` });
  const settings = propagationSettings(challenge, timeouts);
  if (settings.disableChecks && settings.delayBeforeChecksMs === 0) return provider;
  const check = new Dns01PropagationCheck({
    ...settings,
    ...(ctx.scheduler === undefined ? {} : { scheduler: ctx.scheduler }),
    ...(logger === undefined ? {} : { logger }),
  });
  return new PropagationCheckedDnsProvider(provider, check, logger);
}

/**
 * The DNS providers of every resolver that has a `dnsChallenge`, and the configuration error of
 * each one that cannot be made: `run` refuses to start on any, `traffic validate` reports them.
 */
export function dnsProvidersFor(
  resolvers: Iterable<readonly [name: string, challenge: DnsChallengeConfig | undefined]>,
  env: NodeJS.ProcessEnv,
  ctx: Omit<DnsProviderContext, 'resolver'> = {},
): { providers: Map<string, Dns01Provider>; errors: { resolver: string; message: string }[] } {
  const providers = new Map<string, Dns01Provider>();
  const errors: { resolver: string; message: string }[] = [];
  for (const [resolver, challenge] of resolvers) {
    if (challenge === undefined) continue;
    try {
      providers.set(resolver, dnsProviderFor(challenge, env, { ...ctx, resolver }));
    } catch (e) {
      if (!(e instanceof Dns01ConfigError)) throw e;
      errors.push({ resolver, message: e.message });
    }
  }
  return { providers, errors };
}

/** lego's `<PREFIX>_PROPAGATION_TIMEOUT` and `<PREFIX>_POLLING_INTERVAL`, in whole seconds. */
function legoTimeouts(vars: LegoEnv, prefix: string): ProviderTimeouts {
  return {
    timeoutMs: vars.seconds(`${prefix}_PROPAGATION_TIMEOUT`, DEFAULT_PROPAGATION_TIMEOUT_MS / 1000),
    intervalMs: vars.seconds(`${prefix}_POLLING_INTERVAL`, DEFAULT_POLLING_INTERVAL_MS / 1000),
  };
}

function bareProvider(
  challenge: DnsChallengeConfig,
  env: NodeJS.ProcessEnv,
  ctx: DnsProviderContext,
  logger: Logger | undefined,
): { provider: Dns01Provider; timeouts: ProviderTimeouts } {
  const where = `certificatesResolvers.${ctx.resolver ?? '<resolver>'}.acme.dnsChallenge (provider ${challenge.provider})`;
  const vars = new LegoEnv(env, ctx.readFile);
  const scheduler = ctx.scheduler === undefined ? {} : { scheduler: ctx.scheduler };
  const fromEnv = API_PROVIDERS[challenge.provider];
  if (fromEnv !== undefined) {
    const zones =
      ctx.zones ??
      new DnsZoneLocator({
        resolvers: challenge.resolvers ?? [],
        followCname: !vars.bool('LEGO_DISABLE_CNAME_SUPPORT', false),
      });
    const chain = ctx.awsCredentials;
    const setup = fromEnv(vars, {
      zones,
      ...scheduler,
      ...(chain === undefined ? {} : { awsCredentials: (signal: AbortSignal) => chain(env, signal) }),
    });
    vars.check(where);
    return { provider: setup.provider(), timeouts: setup.timeouts };
  }
  switch (challenge.provider) {
    case 'challtestsrv': {
      // The schema requires it for this provider; checked again for callers that build the value.
      if (challenge.managementUrl === undefined) vars.problems.push('managementUrl is required');
      vars.check(where);
      return {
        provider: new ChallTestSrvDnsProvider(challenge.managementUrl ?? ''),
        timeouts: { timeoutMs: DEFAULT_PROPAGATION_TIMEOUT_MS, intervalMs: DEFAULT_POLLING_INTERVAL_MS },
      };
    }
    case 'exec': {
      const program = vars.require('EXEC_PATH', 'exec');
      vars.mode('EXEC_MODE');
      const timeouts = legoTimeouts(vars, 'EXEC');
      vars.check(where);
      const provider = new ExecDnsProvider({
        program,
        // lego bounds no run of the program; its propagation timeout is what keeps a hung
        // program from holding the resolver forever.
        timeoutMs: timeouts.timeoutMs,
        env,
        ...(logger === undefined ? {} : { logger }),
        ...scheduler,
      });
      return { provider, timeouts };
    }
    case 'httpreq': {
      const raw = vars.require('HTTPREQ_ENDPOINT', 'httpreq');
      vars.mode('HTTPREQ_MODE');
      const username = vars.get('HTTPREQ_USERNAME');
      const password = vars.get('HTTPREQ_PASSWORD');
      const timeoutMs = vars.seconds('HTTPREQ_HTTP_TIMEOUT', HTTPREQ_DEFAULT_TIMEOUT_S);
      const timeouts = legoTimeouts(vars, 'HTTPREQ');
      // Not quoted in messages: an endpoint URL may carry a password.
      const endpoint = raw === '' ? null : URL.parse(raw);
      if (raw !== '' && endpoint === null) vars.problems.push('HTTPREQ_ENDPOINT is not a URL');
      if (endpoint !== null && endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
        vars.problems.push(`HTTPREQ_ENDPOINT must be an http:// or https:// URL, not ${endpoint.protocol}//`);
      }
      vars.check(where);
      if ((username === '') !== (password === '')) {
        // lego then sends no credentials at all, silently; the user most likely meant to.
        logger?.warn('httpreq: Basic authentication needs both HTTPREQ_USERNAME and HTTPREQ_PASSWORD', {
          missing: username === '' ? 'HTTPREQ_USERNAME' : 'HTTPREQ_PASSWORD',
        });
      }
      return {
        provider: new HttpReqDnsProvider({
          endpoint: endpoint!,
          username,
          password,
          timeoutMs,
          ...scheduler,
        }),
        timeouts,
      };
    }
  }
  // The schema admits only the names above.
  throw new Dns01ConfigError(`${where}: unknown provider`);
}
