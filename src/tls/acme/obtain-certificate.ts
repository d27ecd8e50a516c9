/**
 * One issuance (RFC 8555 §7.1 overview): newOrder → for each authorization still pending, publish
 * the challenge answer, respond, poll, withdraw the answer → finalize with a CSR for a fresh key →
 * poll → download the chain. Authorizations the server reports `valid` already (reused, §7.1.3)
 * need nothing.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../../core/logger.ts';
import {
  certificateInfo,
  certificateRequest,
  chainRootName,
  generateKeyAsync,
  type KeyAndCert,
  type KeyType,
  keyMatchesCertificate,
  tlsAlpnChallengeCertificate,
} from '../x509/index.ts';
import type { AcmeClient } from './acme-client.ts';
import { type AcmeProblem, AcmeProblemError, AcmeTransportError } from './acme-errors.ts';
import type { AcmeAuthorization, AcmeChallenge, AcmeIdentifier } from './acme-resources.ts';
import { type Dns01Provider, dns01RecordName } from './dns01-provider.ts';
import type { Http01Store } from './http01-store.ts';
import type { TlsAlpn01Store } from './tls-alpn01-store.ts';

export type ChallengeType = 'http-01' | 'tls-alpn-01' | 'dns-01';

/** Publishes and withdraws the answer to one challenge type. */
export interface ChallengeSolver {
  readonly type: ChallengeType;
  /** Resolves once the answer can be validated (dns-01: once the record has propagated). */
  present(
    authz: AcmeAuthorization,
    challenge: AcmeChallenge,
    keyAuthorization: string,
    signal?: AbortSignal,
  ): Promise<void>;
  cleanup(authz: AcmeAuthorization, challenge: AcmeChallenge, keyAuthorization: string): Promise<void>;
}

/**
 * `solver` whose present() waits `delayMs` more once the answer is in place, before the CA is
 * told to look: lego's http01 / tlsalpn01 SetDelay (Traefik's httpChallenge.delay,
 * tlsChallenge.delay), for answers that take a while to reach every instance behind a balancer.
 * `sleep` is for tests.
 */
export function delayedSolver(
  solver: ChallengeSolver,
  delayMs: number,
  sleep: (ms: number, signal?: AbortSignal) => Promise<void> = (ms, signal) =>
    delay(ms, undefined, signal === undefined ? {} : { signal }),
): ChallengeSolver {
  if (delayMs <= 0) return solver;
  return {
    type: solver.type,
    async present(authz, challenge, keyAuthorization, signal) {
      await solver.present(authz, challenge, keyAuthorization, signal);
      await sleep(delayMs, signal);
    },
    cleanup: (authz, challenge, keyAuthorization) => solver.cleanup(authz, challenge, keyAuthorization),
  };
}

export function http01Solver(store: Http01Store): ChallengeSolver {
  return {
    type: 'http-01',
    // With workers the answer must be in every worker before the CA is told to look.
    present: async (_a, c, keyAuth) => {
      store.set(c.token, keyAuth);
      await store.published();
    },
    cleanup: async (_a, c) => store.delete(c.token),
  };
}

export function tlsAlpn01Solver(store: TlsAlpn01Store): ChallengeSolver {
  return {
    type: 'tls-alpn-01',
    present: async (a, _c, keyAuth) => {
      store.set(a.identifier.value, tlsAlpnChallengeCertificate(a.identifier.value, keyAuth));
      await store.published();
    },
    cleanup: async (a) => store.delete(a.identifier.value),
  };
}

export function dns01Solver(provider: Dns01Provider): ChallengeSolver {
  // RFC 8555 §8.4: the TXT value is base64url(SHA-256(keyAuthorization)).
  const value = (keyAuth: string): string => createHash('sha256').update(keyAuth).digest('base64url');
  return {
    type: 'dns-01',
    present: (a, _c, keyAuth, signal) =>
      provider.present(dns01RecordName(a.identifier.value), value(keyAuth), signal),
    cleanup: (a, _c, keyAuth) => provider.cleanup(dns01RecordName(a.identifier.value), value(keyAuth)),
  };
}

export function solverFor(
  challenge: ChallengeType,
  stores: { readonly http01: Http01Store; readonly tlsAlpn01: TlsAlpn01Store },
  dnsProvider: Dns01Provider | undefined,
): ChallengeSolver {
  switch (challenge) {
    case 'http-01':
      return http01Solver(stores.http01);
    case 'tls-alpn-01':
      return tlsAlpn01Solver(stores.tlsAlpn01);
    case 'dns-01':
      if (dnsProvider === undefined) throw new Error('the dns-01 challenge needs a DNS provider');
      return dns01Solver(dnsProvider);
  }
}

/** DNS names and IP literals (RFC 8738) as ACME identifiers. */
export function identifiersFor(domains: readonly string[]): AcmeIdentifier[] {
  return domains.map((d) => (isIP(d) === 0 ? { type: 'dns', value: d } : { type: 'ip', value: d }));
}

export interface ObtainOptions {
  readonly domains: readonly string[];
  /** One solver, or several (a resolver with more than one challenge: see chooseChallenge). */
  readonly solver: ChallengeSolver | readonly ChallengeSolver[];
  readonly keyType?: KeyType;
  /**
   * The key to certify again instead of a new one (a renewal: Traefik's renewCertificates hands
   * lego the stored certificate's key, which RenewWithOptions puts in the new CSR; `keyType`
   * then does not apply).
   */
  readonly keyPem?: string;
  /** Traefik's `emailAddresses`: rfc822Name entries of the CSR's subjectAltName. */
  readonly emailAddresses?: readonly string[];
  /** Traefik's `disableCommonName`: no subject CN in the CSR (the names stay in the SAN). */
  readonly disableCommonName?: boolean;
  /** Traefik's `profile`: the certificate profile asked for in newOrder. */
  readonly profile?: string;
  /** Traefik's `preferredChain`: the issuer CN of the root the served chain should lead to. */
  readonly preferredChain?: string;
  readonly signal?: AbortSignal;
  readonly logger: Logger;
}

export async function obtainCertificate(client: AcmeClient, opts: ObtainOptions): Promise<KeyAndCert> {
  const { domains, solver, signal, logger } = opts;
  let order = await client.newOrder(identifiersFor(domains), signal, opts.profile);
  logger.debug('acme order created', { order: order.url, status: order.status });
  for (const authzUrl of order.authorizations) {
    const authz = await client.getAuthorization(authzUrl, signal);
    if (authz.status === 'valid') continue;
    if (authz.status !== 'pending')
      throw new AcmeTransportError(`authorization for ${authz.identifier.value} is ${authz.status}`);
    await solveAuthorization(client, authz, solver, signal, logger);
  }
  order = await client.waitForOrder(order.url, (o) => o.status !== 'pending', signal);
  if (order.status !== 'ready' && order.status !== 'valid') throw orderFailed(order.status, order.error);

  const keyPem = opts.keyPem ?? (await generateKeyAsync(opts.keyType ?? 'ec256'));
  if (order.status === 'ready')
    order = await client.finalize(
      order,
      certificateRequest(keyPem, domains, opts.emailAddresses, opts.disableCommonName !== true),
      signal,
    );
  order = await client.waitForOrder(order.url, (o) => o.status === 'valid', signal);
  if (order.status !== 'valid' || order.certificate === undefined)
    throw orderFailed(order.status, order.error);
  const certPem =
    opts.preferredChain === undefined || opts.preferredChain === ''
      ? await client.downloadCertificate(order.certificate, signal)
      : await preferredChain(client, order.certificate, opts.preferredChain, signal, logger);

  // The CA is trusted to sign, not to be right: never install a chain that does not fit.
  if (!keyMatchesCertificate(keyPem, certPem))
    throw new AcmeTransportError('issued certificate does not match the key of the CSR');
  const names = new Set(certificateInfo(certPem).names);
  const missing = domains.filter((d) => !names.has(d.toLowerCase()));
  if (missing.length > 0) throw new AcmeTransportError(`issued certificate lacks ${missing.join(', ')}`);
  return { keyPem, certPem };
}

/**
 * The challenge to answer and its solver: as lego's SolverManager.chooseSolver, the
 * authorization's challenges in descending order of type (tls-alpn-01, http-01, dns-01: lego's
 * byType), the first one a solver is configured for. Traefik sets a solver for each of
 * httpChallenge, tlsChallenge and dnsChallenge it is given (provider.go getClient), so a resolver
 * with several answers tls-alpn-01 where the CA offers it, then http-01, then dns-01 (a wildcard).
 */
export function chooseChallenge(
  authz: AcmeAuthorization,
  solvers: readonly ChallengeSolver[],
): { challenge: AcmeChallenge; solver: ChallengeSolver } | undefined {
  const offered = [...authz.challenges].sort((a, b) => (a.type < b.type ? 1 : a.type > b.type ? -1 : 0));
  for (const challenge of offered) {
    const solver = solvers.find((s) => s.type === challenge.type);
    if (solver !== undefined) return { challenge, solver };
  }
  return undefined;
}

async function solveAuthorization(
  client: AcmeClient,
  authz: AcmeAuthorization,
  solvers: ChallengeSolver | readonly ChallengeSolver[],
  signal: AbortSignal | undefined,
  logger: Logger,
): Promise<void> {
  const list: readonly ChallengeSolver[] = Array.isArray(solvers) ? solvers : [solvers as ChallengeSolver];
  const chosen = chooseChallenge(authz, list);
  const name = `${authz.wildcard ? '*.' : ''}${authz.identifier.value}`;
  if (chosen === undefined) {
    const offered = authz.challenges.map((c) => c.type).join(', ');
    throw new AcmeTransportError(
      `the CA offers no ${list.map((s) => s.type).join(' or ')} challenge for ${name} (offered: ${offered})`,
    );
  }
  const { challenge, solver } = chosen;
  const keyAuth = client.accountKey.keyAuthorization(challenge.token);
  await solver.present(authz, challenge, keyAuth, signal);
  try {
    logger.debug('acme challenge ready', { name, type: solver.type });
    await client.respondToChallenge(challenge.url, signal);
    const done = await client.waitForAuthorization(authz.url, signal);
    if (done.status !== 'valid') {
      const failed = done.challenges.find((c) => c.type === solver.type);
      const problem = failed?.error ?? { type: 'urn:ietf:params:acme:error:unauthorized' };
      throw new AcmeProblemError(
        { ...problem, detail: `${solver.type} for ${name}: ${problem.detail ?? done.status}` },
        0,
      );
    }
  } finally {
    try {
      await solver.cleanup(authz, challenge, keyAuth);
    } catch (e) {
      logger.warn('acme challenge cleanup failed', { name, type: solver.type, error: e });
    }
  }
}

/**
 * As lego's Certifier.checkResponse with a PreferredChain: the chain whose top issuer's common
 * name (hasPreferredChain) is `name`, among the default one and its `rel="alternate"` links
 * (RFC 8555 §7.4.2); the default chain when none matches. The default is looked at first, so an
 * alternate is fetched only when the default does not match.
 */
async function preferredChain(
  client: AcmeClient,
  url: string,
  name: string,
  signal: AbortSignal | undefined,
  logger: Logger,
): Promise<string> {
  const first = await client.downloadCertificateChain(url, signal);
  if (chainRootName(first.pem) === name) return first.pem;
  for (const alternate of first.alternates) {
    const pem = await client.downloadCertificate(alternate, signal);
    if (chainRootName(pem) === name) {
      logger.info('acme certificate chain chosen by preferredChain', {
        preferredChain: name,
        chain: alternate,
      });
      return pem;
    }
  }
  logger.info('acme preferredChain matched no chain from the CA; using the default chain', {
    preferredChain: name,
    chains: 1 + first.alternates.length,
  });
  return first.pem;
}

function orderFailed(status: string, error: AcmeProblem | undefined): Error {
  if (error !== undefined) return new AcmeProblemError(error, 0);
  return new AcmeTransportError(`order ended ${status}`);
}
