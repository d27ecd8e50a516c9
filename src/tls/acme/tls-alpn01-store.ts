/**
 * Pending tls-alpn-01 challenges (RFC 8737): server name → the self-signed challenge certificate
 * carrying the acmeIdentifier extension. The TLS server presents it, and negotiates
 * `acme-tls/1`, only when the ClientHello offers exactly that protocol (§3: the validator offers
 * nothing else) and names a server found here; ordinary clients never see it.
 */
import type { KeyAndCert } from '../x509/index.ts';

export const ACME_TLS_ALPN_PROTOCOL = 'acme-tls/1';

export class TlsAlpn01Store {
  readonly #certs = new Map<string, KeyAndCert>();

  set(serverName: string, cert: KeyAndCert): void {
    this.#certs.set(serverName.toLowerCase(), cert);
  }

  delete(serverName: string): void {
    this.#certs.delete(serverName.toLowerCase());
  }

  lookup(serverName: string): KeyAndCert | undefined {
    if (this.#certs.size === 0) return undefined;
    return this.#certs.get(serverName.toLowerCase());
  }

  get size(): number {
    return this.#certs.size;
  }
}
