/**
 * dns-01 (RFC 8555 §8.4) through a DNS provider: the TXT record `_acme-challenge.<name>.` holds
 * base64url(SHA-256(keyAuthorization)). Traefik names providers (`dnsChallenge.provider`); each
 * one is an implementation of this interface.
 */

export interface Dns01Provider {
  /**
   * Publishes TXT `value` at `fqdn` (absolute, with the trailing dot). `signal` ends what may
   * take long (a propagation check) when the certificate manager stops.
   */
  present(fqdn: string, value: string, signal?: AbortSignal): Promise<void>;
  /** Removes what `present` published. */
  cleanup(fqdn: string, value: string): Promise<void>;
}

/** `_acme-challenge.<domain>.` for an identifier (a wildcard's authorization names the base domain). */
export function dns01RecordName(domain: string): string {
  const base = domain.startsWith('*.') ? domain.slice(2) : domain;
  return `_acme-challenge.${base.replace(/\.$/, '')}.`;
}

/**
 * pebble-challtestsrv's management API (`POST /set-txt`, `POST /clear-txt`, JSON bodies): the DNS
 * server that pebble's validator asks in tests. Plain HTTP on loopback, as challtestsrv serves it.
 */
export class ChallTestSrvDnsProvider implements Dns01Provider {
  readonly #base: string;

  constructor(managementUrl: string) {
    this.#base = managementUrl.replace(/\/$/, '');
  }

  present(fqdn: string, value: string): Promise<void> {
    return this.#post('/set-txt', { host: fqdn, value });
  }

  cleanup(fqdn: string, _value: string): Promise<void> {
    return this.#post('/clear-txt', { host: fqdn });
  }

  async #post(path: string, body: unknown): Promise<void> {
    const http = await import('node:http');
    const payload = JSON.stringify(body);
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${this.#base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        timeout: 10_000,
      });
      req.on('timeout', () => req.destroy(new Error(`challtestsrv ${path}: timeout`)));
      req.on('error', reject);
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) resolve();
          else reject(new Error(`challtestsrv ${path} answered ${res.statusCode}`));
        });
      });
      req.end(payload);
    });
  }
}
