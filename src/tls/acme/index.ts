/**
 * ACME (RFC 8555) for the TLS module: Traefik's `certificatesResolvers.<name>.acme`. The manager
 * obtains and renews certificates; the challenge stores are what the entry points serve while a
 * validation is under way.
 */

export { type AccountInfo, AcmeClient, type AcmeClientOptions } from './acme-client.ts';
export { type AcmeProblem, AcmeProblemError, AcmeTransportError } from './acme-errors.ts';
export {
  type CertificateListener,
  CertificateManager,
  type CertificateManagerOptions,
  type ChallengeStores,
  type ManagedCertificateStatus,
} from './acme-manager.ts';
export type {
  AcmeAuthorization,
  AcmeChallenge,
  AcmeDirectory,
  AcmeIdentifier,
  AcmeOrder,
} from './acme-resources.ts';
export {
  AcmeStorage,
  AcmeStorageError,
  type ResolverData,
  type StoredAccount,
  type StoredCertificate,
} from './acme-storage.ts';
export { type AcmeTransport, type HttpsTransportOptions, httpsTransport } from './acme-transport.ts';
export { type AcmeCaTrust, acmeCaTrust } from './ca-trust.ts';
export { Dns01ConfigError } from './dns01-env.ts';
export { ExecDnsProvider, type ExecDnsProviderOptions } from './dns01-exec.ts';
export { HttpReqDnsProvider, type HttpReqDnsProviderOptions } from './dns01-httpreq.ts';
export {
  Dns01PropagationCheck,
  Dns01PropagationError,
  PropagationCheckedDnsProvider,
  type PropagationCheckOptions,
  type PropagationSettings,
} from './dns01-propagation.ts';
export { ChallTestSrvDnsProvider, type Dns01Provider, dns01RecordName } from './dns01-provider.ts';
export { type DnsProviderContext, dnsProviderFor, dnsProvidersFor } from './dns01-providers.ts';
export {
  type DnsChallengeDeprecation,
  dnsChallengeDeprecations,
  propagationSettings,
} from './dns01-settings.ts';
export { coversName, normalizeDomains } from './domain-names.ts';
export { HTTP01_PATH_PREFIX, Http01Store } from './http01-store.ts';
export { AccountKey } from './jws.ts';
export { type ChallengeSolver, type ChallengeType, obtainCertificate } from './obtain-certificate.ts';
export { backoffDelay, renewalTime } from './retry.ts';
export { type Scheduler, systemScheduler } from './scheduler.ts';
export { ACME_TLS_ALPN_PROTOCOL, TlsAlpn01Store } from './tls-alpn01-store.ts';
