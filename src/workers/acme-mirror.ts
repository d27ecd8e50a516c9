/**
 * ACME with `workers: N`: the control plane runs the resolvers (one account, one order per
 * certificate, one renewal timer), and the workers only serve what it obtained. Each
 * configuration a worker builds carries the ACME state (`AcmeState`): every resolver's
 * certificates and the challenges pending. A challenge presented while a validation is under way
 * is sent at once (a `challenge` message), and the control plane tells the CA to validate only
 * once every worker has it: the CA's request may reach any of them (SO_REUSEPORT).
 */
import { Http01Store } from '../tls/acme/http01-store.ts';
import { TlsAlpn01Store } from '../tls/acme/tls-alpn01-store.ts';
import type { KeyAndCert } from '../tls/x509/index.ts';

export interface AcmeCertificate {
  readonly domains: readonly string[];
  readonly keyPem: string;
  readonly certPem: string;
}

export interface AcmeState {
  /** Resolver name → the certificates it holds. */
  readonly certificates: readonly (readonly [resolver: string, certs: readonly AcmeCertificate[]])[];
  /** http-01: token → key authorization. */
  readonly http01: readonly (readonly [token: string, keyAuthorization: string])[];
  /** tls-alpn-01: server name → challenge certificate. */
  readonly tlsAlpn01: readonly (readonly [serverName: string, cert: KeyAndCert])[];
}

/** One challenge change, control plane → workers. `value` null = withdrawn. */
export type ChallengeChange =
  | { readonly kind: 'http-01'; readonly key: string; readonly value: string | null }
  | { readonly kind: 'tls-alpn-01'; readonly key: string; readonly value: KeyAndCert | null };

/** A worker's copy of the control plane's ACME state. */
export class AcmeMirror {
  readonly http01 = new Http01Store();
  readonly tlsAlpn01 = new TlsAlpn01Store();
  #certificates = new Map<string, readonly AcmeCertificate[]>();

  /** The full state that came with a configuration: replaces what was known. */
  load(state: AcmeState): void {
    this.#certificates = new Map(state.certificates);
    for (const [token] of this.http01.entries()) this.http01.delete(token);
    for (const [token, ka] of state.http01) this.http01.set(token, ka);
    for (const [name] of this.tlsAlpn01.entries()) this.tlsAlpn01.delete(name);
    for (const [name, cert] of state.tlsAlpn01) this.tlsAlpn01.set(name, cert);
  }

  challenge(c: ChallengeChange): void {
    if (c.kind === 'http-01') {
      if (c.value === null) this.http01.delete(c.key);
      else this.http01.set(c.key, c.value);
    } else if (c.value === null) this.tlsAlpn01.delete(c.key);
    else this.tlsAlpn01.set(c.key, c.value);
  }

  /** One resolver's certificates, for the TLS certificate store. */
  certificatesOf(resolver: string): readonly AcmeCertificate[] {
    return this.#certificates.get(resolver) ?? [];
  }
}
