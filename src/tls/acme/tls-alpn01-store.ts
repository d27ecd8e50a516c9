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
  /** Copies each change elsewhere (the workers of `workers: N`); resolves once it is there. */
  readonly #replicate: ((serverName: string, cert: KeyAndCert | null) => Promise<void>) | null;
  #published: Promise<void> = Promise.resolve();

  constructor(replicate?: (serverName: string, cert: KeyAndCert | null) => Promise<void>) {
    this.#replicate = replicate ?? null;
  }

  set(serverName: string, cert: KeyAndCert): void {
    this.#certs.set(serverName.toLowerCase(), cert);
    if (this.#replicate !== null) this.#published = this.#replicate(serverName.toLowerCase(), cert);
  }

  delete(serverName: string): void {
    this.#certs.delete(serverName.toLowerCase());
    if (this.#replicate !== null) this.#published = this.#replicate(serverName.toLowerCase(), null);
  }

  /** Resolves once the last change is presented wherever handshakes are made (never rejects). */
  published(): Promise<void> {
    return this.#published;
  }

  /** Every pending challenge certificate by server name (a worker that starts gets them all). */
  entries(): [string, KeyAndCert][] {
    return [...this.#certs];
  }

  lookup(serverName: string): KeyAndCert | undefined {
    if (this.#certs.size === 0) return undefined;
    return this.#certs.get(serverName.toLowerCase());
  }

  get size(): number {
    return this.#certs.size;
  }
}
