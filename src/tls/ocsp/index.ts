/**
 * OCSP stapling (static `ocsp` section, Traefik's): the stapler fetches, checks and refreshes the
 * responses of served certificates; the TLS front hands its `onOcspRequest` to each tls.Server.
 */

export type { CertStatus, OcspResponse } from './ocsp-response.ts';
export {
  OcspStapler,
  type OcspStaplerOptions,
  type Staple,
  type StapleSource,
  stapleKey,
} from './ocsp-stapler.ts';
