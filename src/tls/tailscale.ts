import { X509Certificate } from 'node:crypto';
import { request } from 'node:http';
import type { Logger } from '../core/logger.ts';

/**
 * Traefik's Tailscale certificate resolver (pkg/provider/tailscale/provider.go): the certificate
 * of each Tailscale name its routers use (`<machine>.<tailnet>.ts.net`) is asked of the local
 * tailscaled through its LocalAPI, as github.com/tailscale/tscert's CertPair does:
 * `GET /localapi/v0/cert/<domain>?type=pair` on tailscaled's unix socket, which answers the key's
 * PEM block then the certificate chain's. tailscaled obtains and renews them (Let's Encrypt);
 * every day the certificates that will not be valid 14 days later are asked for again.
 */

/** tscert's default socket on Linux (paths.DefaultTailscaledSocket). */
export const TAILSCALED_SOCKET = '/var/run/tailscale/tailscaled.sock';
/** Ours: another tailscaled socket (a container's mount, a test's fake). */
export const TAILSCALED_SOCKET_ENV = 'TM_TAILSCALED_SOCKET';
const RENEW_EVERY_MS = 24 * 3600_000;
/** Tailscale renews 14 days before expiry (Traefik's renewCertificates). */
const RENEW_AHEAD_MS = 14 * 24 * 3600_000;
/** Ours: a name whose certificate could not be had is asked again at most this often. */
const RETRY_MS = 60_000;
const TIMEOUT_MS = 60_000;

interface Held {
  readonly keyPem: string;
  readonly certPem: string;
  readonly domains: readonly string[];
  readonly validTo: number;
}

/**
 * Traefik's isTailscaleDomain: four labels, the last two `ts.net`. Case-insensitive here, as host
 * names are.
 */
function isTailscaleDomain(domain: string): boolean {
  const labels = domain.toLowerCase().split('.');
  return (
    labels.length === 4 && labels[2] === 'ts' && labels[3] === 'net' && labels[0] !== '' && labels[1] !== ''
  );
}

export class TailscaleResolver {
  readonly #name: string;
  readonly #socket: string;
  readonly #logger: Logger;
  readonly #held = new Map<string, Held>();
  readonly #pending = new Set<string>();
  readonly #failedAt = new Map<string, number>();
  readonly #refused = new Set<string>();
  readonly #listeners: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** The names the routers asked for in the walk under way (beginPass…endPass). */
  #pass: Set<string> | null = null;
  /** The names the last configuration's routers use; null before the first walk. */
  #used: ReadonlySet<string> | null = null;

  constructor(name: string, logger: Logger, env: NodeJS.ProcessEnv = process.env) {
    this.#name = name;
    this.#logger = logger;
    const given = env[TAILSCALED_SOCKET_ENV];
    this.#socket = given !== undefined && given !== '' ? given : TAILSCALED_SOCKET;
  }

  onChange(fn: () => void): void {
    this.#listeners.push(fn);
  }

  start(): void {
    this.#timer = setInterval(() => this.#renew(), RENEW_EVERY_MS);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  /**
   * A router's names (main.ts passes only each `tls.domains[].main`, as Traefik's findDomains: a
   * Tailscale certificate has one name; else the rule's hosts); a name that is not a Tailscale
   * one is an error in the log, once.
   */
  ensure(domains: readonly string[]): void {
    for (const d of domains) {
      const domain = d.toLowerCase();
      if (!isTailscaleDomain(domain)) {
        if (!this.#refused.has(domain)) {
          this.#refused.add(domain);
          this.#logger.error(`Domain ${domain} is not a valid Tailscale domain`, { resolver: this.#name });
        }
        continue;
      }
      this.#pass?.add(domain);
      if (this.#held.has(domain) || this.#pending.has(domain)) continue;
      const failed = this.#failedAt.get(domain);
      if (failed !== undefined && Date.now() - failed < RETRY_MS) continue;
      void this.#fetch(domain);
    }
  }

  /** A configuration's routers are about to be walked: `ensure` notes the names they use. */
  beginPass(): void {
    this.#pass = new Set();
  }

  /**
   * The walk is over. As Traefik's purgeUnusedCerts (pkg/provider/tailscale/provider.go,
   * watchDomains): the certificates of names no router uses any more are dropped, and the
   * certificates served change when some were.
   */
  endPass(): void {
    const used = this.#pass;
    this.#pass = null;
    if (used === null) return;
    this.#used = used;
    let purged = false;
    for (const domain of this.#held.keys()) {
      if (used.has(domain)) continue;
      this.#held.delete(domain);
      purged = true;
      this.#logger.info('certificate dropped: no router uses its name any more', {
        resolver: this.#name,
        domain,
      });
    }
    if (purged) for (const fn of this.#listeners) fn();
  }

  certificates(): readonly {
    readonly keyPem: string;
    readonly certPem: string;
    readonly domains: readonly string[];
  }[] {
    return [...this.#held.values()];
  }

  #renew(): void {
    const soon = Date.now() + RENEW_AHEAD_MS;
    for (const [domain, h] of this.#held) if (h.validTo < soon) void this.#fetch(domain);
  }

  async #fetch(domain: string): Promise<void> {
    this.#pending.add(domain);
    try {
      const pair = await certPair(this.#socket, domain);
      if (this.#stopped) return;
      // The configuration changed while tailscaled answered: its routers no longer use the name.
      if (this.#used !== null && !this.#used.has(domain)) return;
      this.#held.set(domain, { ...pair, domains: [domain] });
      this.#failedAt.delete(domain);
      this.#logger.info('certificate fetched from tailscaled', { resolver: this.#name, domain });
      for (const fn of this.#listeners) fn();
    } catch (e) {
      this.#failedAt.set(domain, Date.now());
      this.#logger.error(`Unable to fetch certificate for domain "${domain}"`, {
        resolver: this.#name,
        error: e instanceof Error ? e.message : String(e),
      });
    } finally {
      this.#pending.delete(domain);
    }
  }
}

/** tscert's CertPair: the key's PEM, then the chain's, split at the first `--\n--`. */
async function certPair(
  socket: string,
  domain: string,
): Promise<{ keyPem: string; certPem: string; validTo: number }> {
  const body = await localApi(socket, `/localapi/v0/cert/${encodeURIComponent(domain)}?type=pair`);
  const at = body.indexOf('--\n--');
  if (at < 0) throw new Error('unexpected output: no delimiter');
  const keyPem = body.slice(0, at + 3);
  const certPem = body.slice(at + 3);
  if (certPem.includes(' PRIVATE KEY-----')) throw new Error('unexpected output: key in cert');
  let validTo: number;
  try {
    validTo = Date.parse(new X509Certificate(certPem).validTo);
  } catch (e) {
    throw new Error(`unreadable certificate: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { keyPem, certPem, validTo };
}

function localApi(socket: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: socket,
        path,
        method: 'GET',
        // tscert's request host; tailscaled's LocalAPI checks it is not a browser's.
        headers: { host: 'local-tailscaled.sock' },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 200) resolve(text);
          else reject(new Error(`tailscaled: ${res.statusCode}: ${text.trim().slice(0, 300)}`));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('tailscaled did not answer in time')));
    req.on('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(`cannot reach tailscaled at ${socket}: ${e.code ?? e.message}`)),
    );
    req.end();
  });
}
