/**
 * The `tls_version` and `tls_cipher` labels of Traefik's `traefik_*_requests_tls_total` families
 * (pkg/middlewares/metrics/metrics.go ServeHTTP, with pkg/tls/version.go GetVersion and
 * pkg/tls/cipher.go GetCipherName), worked out once per TLS connection: a request carries its
 * connection's TLS object (`RequestHead.tls`, the same object for each of its requests), which
 * is mapped here to a small integer, the index of its (version, cipher) pair.
 */
import type { TLSSocket } from 'node:tls';
import { CIPHER_SUITES } from '../../config/dynamic/tls-names.ts';
import { UNAVAILABLE_SUITES } from '../../config/dynamic/tls-warnings.ts';
import type { RequestTls } from '../../core/request.ts';

/** Traefik's GetVersion: "1.0" … "1.3", else "unknown"; node says `TLSv1`, `TLSv1.1` … */
export function goTlsVersion(protocol: string | null | undefined): string {
  switch (protocol) {
    case 'TLSv1':
      return '1.0';
    case 'TLSv1.1':
      return '1.1';
    case 'TLSv1.2':
      return '1.2';
    case 'TLSv1.3':
      return '1.3';
    default:
      return 'unknown';
  }
}

/** Traefik's GetCipherName from OpenSSL's standard (IANA) name of the negotiated suite. */
export function goCipherName(standardName: string | undefined): string {
  // Go's suite names, which the configuration reads too (tls-names.ts; the RC4 and 3DES ones in
  // tls-warnings.ts): OpenSSL's `standardName` is the same IANA name; any other is "unknown".
  return standardName !== undefined &&
    (Object.hasOwn(CIPHER_SUITES, standardName) || Object.hasOwn(UNAVAILABLE_SUITES, standardName))
    ? standardName
    : 'unknown';
}

/** Both labels of a connection; a stand-in without TLSSocket's methods reads as "unknown". */
export function tlsLabels(tls: RequestTls): { version: string; cipher: string } {
  const s = tls as Partial<TLSSocket>;
  return { version: goTlsVersion(s.getProtocol?.()), cipher: goCipherName(s.getCipher?.()?.standardName) };
}

/**
 * The (version, cipher) pairs seen, numbered in order of appearance, and the pair of each live
 * TLS connection (a WeakMap: a closed connection's entry goes with it). A request costs one
 * WeakMap lookup; the TLSSocket is asked once per connection.
 */
export class TlsPairs {
  readonly versions: string[] = [];
  readonly ciphers: string[] = [];
  readonly #byConnection = new WeakMap<RequestTls, number>();
  readonly #byName = new Map<string, number>();

  /** The pair index of this connection. */
  of(tls: RequestTls): number {
    const id = this.#byConnection.get(tls);
    return id === undefined ? this.#first(tls) : id;
  }

  #first(tls: RequestTls): number {
    const { version, cipher } = tlsLabels(tls);
    const name = `${version} ${cipher}`;
    let id = this.#byName.get(name);
    if (id === undefined) {
      id = this.versions.length;
      this.versions.push(version);
      this.ciphers.push(cipher);
      this.#byName.set(name, id);
    }
    this.#byConnection.set(tls, id);
    return id;
  }
}
