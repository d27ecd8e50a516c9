/**
 * The DNS provider named by `certificatesResolvers.<name>.acme.dnsChallenge.provider`, configured
 * as lego (hence Traefik) configures it: from environment variables, read once when the proxy
 * starts. A missing or malformed variable is a start-up error naming it, never a failure found
 * hours later when a certificate is due.
 */
import type { DnsChallengeConfig } from '../../config/static/schema.ts';
import type { Logger } from '../../core/logger.ts';
import { LegoEnv } from './dns01-env.ts';
import { ExecDnsProvider } from './dns01-exec.ts';
import { HttpReqDnsProvider } from './dns01-httpreq.ts';
import { ChallTestSrvDnsProvider, type Dns01Provider } from './dns01-provider.ts';
import type { Scheduler } from './scheduler.ts';

export interface DnsProviderContext {
  /** The resolver's name, for error messages. */
  readonly resolver?: string;
  /** Receives the exec program's output at `debug`. */
  readonly logger?: Logger;
  readonly scheduler?: Scheduler;
  /** Reads `<VAR>_FILE` files (default: readFileSync). */
  readonly readFile?: (path: string) => string;
}

/** lego's dns01.DefaultPropagationTimeout: how long lego gives a record to appear. */
const EXEC_DEFAULT_TIMEOUT_S = 60;
/** lego's default `HTTPREQ_HTTP_TIMEOUT`. */
const HTTPREQ_DEFAULT_TIMEOUT_S = 30;

/** Throws a Dns01ConfigError naming every variable that is missing or malformed. */
export function dnsProviderFor(
  challenge: DnsChallengeConfig,
  env: NodeJS.ProcessEnv,
  ctx: DnsProviderContext = {},
): Dns01Provider {
  const where = `certificatesResolvers.${ctx.resolver ?? '<resolver>'}.acme.dnsChallenge (provider ${challenge.provider})`;
  const vars = new LegoEnv(env, ctx.readFile);
  const scheduler = ctx.scheduler === undefined ? {} : { scheduler: ctx.scheduler };
  const logger = ctx.resolver === undefined ? ctx.logger : ctx.logger?.child({ resolver: ctx.resolver });
  switch (challenge.provider) {
    case 'challtestsrv': {
      // The schema requires it for this provider; checked again for callers that build the value.
      if (challenge.managementUrl === undefined) vars.problems.push('managementUrl is required');
      vars.check(where);
      return new ChallTestSrvDnsProvider(challenge.managementUrl ?? '');
    }
    case 'exec': {
      const program = vars.require('EXEC_PATH', 'exec');
      vars.mode('EXEC_MODE');
      // lego bounds no run of the program; with no propagation check of ours to bound either,
      // its propagation timeout is what keeps a hung program from holding the resolver forever.
      const timeoutMs = vars.seconds('EXEC_PROPAGATION_TIMEOUT', EXEC_DEFAULT_TIMEOUT_S);
      vars.check(where);
      return new ExecDnsProvider({
        program,
        timeoutMs,
        env,
        ...(logger === undefined ? {} : { logger }),
        ...scheduler,
      });
    }
    case 'httpreq': {
      const raw = vars.require('HTTPREQ_ENDPOINT', 'httpreq');
      vars.mode('HTTPREQ_MODE');
      const username = vars.get('HTTPREQ_USERNAME');
      const password = vars.get('HTTPREQ_PASSWORD');
      const timeoutMs = vars.seconds('HTTPREQ_HTTP_TIMEOUT', HTTPREQ_DEFAULT_TIMEOUT_S);
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
      return new HttpReqDnsProvider({ endpoint: endpoint!, username, password, timeoutMs, ...scheduler });
    }
  }
}
