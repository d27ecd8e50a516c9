/**
 * OCSP stapling with `workers: N`: the control plane's stapler fetches and refreshes every
 * response once (tls/ocsp), and each worker staples the copies it was sent. Each configuration
 * carries the full table (a worker that starts gets them all); a response fetched later is sent
 * at once (`ocsp` message).
 */
import { type Staple, stapleKey } from '../tls/ocsp/ocsp-stapler.ts';

/** Shaped as the TLS front's OcspHook (listeners/tls-front.ts): main.ts hands it over as one. */
export class OcspMirror {
  readonly #staples = new Map<string, Staple>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The full table that came with a configuration: replaces what was known. */
  load(staples: readonly Staple[]): void {
    this.#staples.clear();
    for (const s of staples) this.#staples.set(s.key, s);
  }

  update(staple: Staple): void {
    this.#staples.set(staple.key, staple);
  }

  /** As the stapler's: the response held for the certificate, unless past its nextUpdate. */
  readonly onOcspRequest = (
    certificate: Buffer,
    _issuer: Buffer,
    callback: (err: Error | null, resp: Buffer | null) => void,
  ): void => {
    const s = this.#staples.get(stapleKey(certificate));
    const fresh = s !== undefined && (s.nextUpdate === undefined || this.#now() < s.nextUpdate);
    callback(null, fresh ? Buffer.from(s.der.buffer, s.der.byteOffset, s.der.byteLength) : null);
  };
}
