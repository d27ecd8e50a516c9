import { createHash, X509Certificate } from 'node:crypto';
import type { Logger } from '../../core/logger.ts';
import { certificatePems } from '../../core/pem.ts';
import type { TrustedRoots } from '../x509/chain.ts';
import { postOcsp } from './ocsp-fetch.ts';
import { type CertIdParts, certIdParts, ocspRequest } from './ocsp-request.ts';
import { type OcspResponse, parseOcspResponse } from './ocsp-response.ts';

/*
 * OCSP stapling as Traefik does it (pkg/tls/ocsp.go), for every served certificate that names an
 * OCSP responder: the response is fetched when the certificate is loaded, refreshed in the
 * background once half of its validity has passed, kept when a refresh fails, and handed to
 * clients that ask (status_request) during the handshake. Differences, on purpose:
 *   - a failed fetch is retried after 1 minute, doubling up to an hour (Traefik: every hour);
 *   - a response is checked before it is stapled (signature by the issuer or its delegated
 *     responder, answer for this certificate, current) and stapled only until its nextUpdate,
 *     never expired (a must-staple client would refuse the connection on it);
 *   - the issuer is the certificate in the file that signed the leaf, else a trusted root that
 *     did (Traefik takes the file's second certificate, or the leaf itself);
 *   - a certificate no longer served is forgotten at once (Traefik keeps it for 24 hours).
 */

/** One hour: Traefik's refresh tick, our cap between retries and for responses without nextUpdate. */
const HOUR_MS = 3_600_000;
const FIRST_RETRY_MS = 60_000;

export interface OcspStaplerOptions {
  readonly logger: Logger;
  /** Traefik's `ocsp.responderOverrides`: a responder URL as the certificate names it → the URL to ask. */
  readonly responderOverrides?: Readonly<Record<string, string>>;
  /** Where an issuer not in the certificate's file is looked for. */
  readonly roots?: TrustedRoots;
  /** Wall clock, ms. */
  readonly now?: () => number;
  /** One responder's time to answer (Traefik's client timeout: 10 s). */
  readonly fetchTimeoutMs?: number;
  /** How long a handshake waits for a certificate's first response before going on without. */
  readonly handshakeWaitMs?: number;
  /** How often due refreshes are looked for; 0: only when `refreshDue` is called (tests). */
  readonly checkEveryMs?: number;
}

/** A certificate to staple for: its PEM chain (leaf first) and a name for logs. */
export interface StapleSource {
  readonly certPem: string;
  readonly source: string;
}

interface Entry {
  readonly source: string;
  readonly parts: CertIdParts;
  readonly issuer: X509Certificate;
  readonly request: Buffer;
  readonly responders: readonly string[];
  staple: { readonly der: Buffer; readonly response: OcspResponse } | undefined;
  /** When the next fetch is due (epoch ms). */
  dueAt: number;
  failures: number;
  fetching: Promise<void> | undefined;
}

type StapleCallback = (err: Error | null, resp: Buffer | null) => void;

/** One certificate's response as it is stapled elsewhere (src/workers/ocsp-mirror.ts). */
export interface Staple {
  /** SHA-256 (base64) of the leaf's DER: what a handshake's certificate is looked up by. */
  readonly key: string;
  readonly der: Uint8Array;
  /** Epoch ms after which it must not be stapled; undefined = no nextUpdate. */
  readonly nextUpdate: number | undefined;
}

function stapleOf(key: string, s: { readonly der: Buffer; readonly response: OcspResponse }): Staple {
  return { key, der: s.der, nextUpdate: s.response.nextUpdate };
}

/** The key of a leaf certificate (DER) in the stapler and its mirrors. */
export function stapleKey(leafDer: Uint8Array): string {
  return createHash('sha256').update(leafDer).digest('base64');
}

/** The leaf's OCSP responder URLs (Authority Information Access), as node prints them. */
function ocspUrls(leaf: X509Certificate): string[] {
  const out: string[] = [];
  for (const line of (leaf.infoAccess ?? '').split('\n')) {
    if (!line.startsWith('OCSP - URI:')) continue;
    const value = line.slice('OCSP - URI:'.length);
    // Node quotes values that hold characters it escapes (JSON string syntax).
    out.push(value.startsWith('"') ? (JSON.parse(value) as string) : value);
  }
  return out;
}

const keyOf = stapleKey;

export class OcspStapler {
  readonly #logger: Logger;
  readonly #overrides: Readonly<Record<string, string>>;
  readonly #roots: TrustedRoots | undefined;
  readonly #now: () => number;
  readonly #fetchTimeoutMs: number;
  readonly #handshakeWaitMs: number;
  readonly #entries = new Map<string, Entry>();
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #abort = new AbortController();
  readonly #listeners: ((staple: Staple) => void)[] = [];

  constructor(opts: OcspStaplerOptions) {
    this.#logger = opts.logger;
    this.#overrides = opts.responderOverrides ?? {};
    this.#roots = opts.roots;
    this.#now = opts.now ?? Date.now;
    this.#fetchTimeoutMs = opts.fetchTimeoutMs ?? 10_000;
    this.#handshakeWaitMs = opts.handshakeWaitMs ?? 1_000;
    const every = opts.checkEveryMs ?? 60_000;
    if (every > 0) {
      this.#timer = setInterval(() => void this.refreshDue(), every);
      this.#timer.unref();
    }
  }

  /**
   * The certificates served now (after each configuration change): new ones with a responder
   * start fetching, known ones keep their response, the rest are forgotten.
   */
  track(certs: Iterable<StapleSource>): void {
    const seen = new Set<string>();
    for (const c of certs) {
      try {
        const key = this.#add(c);
        if (key !== undefined) seen.add(key);
      } catch (e) {
        // The store already parsed it; a certificate our DER reader cannot walk is served unstapled.
        this.#logger.warn('no OCSP stapling: the certificate cannot be read', {
          certificate: c.source,
          error: (e as Error).message,
        });
      }
    }
    for (const key of this.#entries.keys()) if (!seen.has(key)) this.#entries.delete(key);
  }

  #add(c: StapleSource): string | undefined {
    const pems = certificatePems(c.certPem);
    const leafPem = pems[0];
    if (leafPem === undefined) return undefined;
    const leaf = new X509Certificate(leafPem);
    const key = keyOf(leaf.raw);
    if (this.#entries.has(key)) return key;
    const urls = ocspUrls(leaf);
    if (urls.length === 0) return undefined;
    const issuer = this.#issuerOf(leaf, pems.slice(1));
    if (issuer === undefined) {
      this.#logger.warn('no OCSP stapling: the issuer certificate is not in the file nor a trusted root', {
        certificate: c.source,
        issuer: leaf.issuer,
      });
      return undefined;
    }
    const parts = certIdParts(leaf, issuer);
    const entry: Entry = {
      source: c.source,
      parts,
      issuer,
      request: ocspRequest(parts),
      responders: urls.map((u) => this.#overrides[u] ?? u),
      staple: undefined,
      dueAt: this.#now(),
      failures: 0,
      fetching: undefined,
    };
    this.#entries.set(key, entry);
    void this.#refresh(entry);
    return key;
  }

  #issuerOf(leaf: X509Certificate, rest: readonly string[]): X509Certificate | undefined {
    for (const pem of rest) {
      const c = new X509Certificate(pem);
      if (leaf.checkIssued(c) && leaf.verify(c.publicKey)) return c;
    }
    return this.#roots?.issuerOf(leaf);
  }

  /** The `OCSPRequest` listener of a tls.Server: staples the current response, if any. */
  readonly onOcspRequest = (certificate: Buffer, _issuer: Buffer, callback: StapleCallback): void => {
    const entry = this.#entries.get(keyOf(certificate));
    if (entry === undefined) {
      callback(null, null);
      return;
    }
    const now = this.#now();
    if (entry.staple !== undefined || entry.fetching === undefined) {
      callback(null, this.#current(entry, now));
      return;
    }
    // The first response is on its way (the certificate was just loaded): wait for it a little.
    let done = false;
    const answer = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      callback(null, this.#current(entry, this.#now()));
    };
    const timer = setTimeout(answer, this.#handshakeWaitMs);
    void entry.fetching.then(answer);
  };

  #current(entry: Entry, now: number): Buffer | null {
    const s = entry.staple;
    if (s === undefined) return null;
    const next = s.response.nextUpdate;
    return next === undefined || now < next ? s.der : null;
  }

  /** Fetches every response that is due (the background timer calls this). */
  async refreshDue(): Promise<void> {
    const now = this.#now();
    await Promise.all([...this.#entries.values()].filter((e) => e.dueAt <= now).map((e) => this.#refresh(e)));
  }

  /** Called with each response fetched (the control plane of workers hands it to them). */
  onStapled(fn: (staple: Staple) => void): void {
    this.#listeners.push(fn);
  }

  /** The responses held now, one per certificate that has one. */
  staples(): Staple[] {
    const out: Staple[] = [];
    for (const [key, e] of this.#entries) if (e.staple !== undefined) out.push(stapleOf(key, e.staple));
    return out;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#abort.abort();
  }

  #refresh(entry: Entry): Promise<void> {
    entry.fetching ??= this.#fetch(entry).finally(() => {
      entry.fetching = undefined;
    });
    return entry.fetching;
  }

  async #fetch(entry: Entry): Promise<void> {
    const errors: string[] = [];
    for (const url of entry.responders) {
      try {
        const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#fetchTimeoutMs)]);
        const der = await postOcsp(url, entry.request, signal);
        const now = this.#now();
        const response = parseOcspResponse(der, entry.parts, entry.issuer, now);
        this.#stapled(entry, der, response, now);
        return;
      } catch (e) {
        if (this.#abort.signal.aborted) return;
        errors.push(`${url}: ${(e as Error).message}`);
      }
    }
    entry.failures++;
    const wait = Math.min(HOUR_MS, FIRST_RETRY_MS * 2 ** (entry.failures - 1));
    entry.dueAt = this.#now() + wait;
    this.#logger.warn('OCSP response not refreshed', {
      certificate: entry.source,
      errors,
      // The last good response keeps being stapled until its nextUpdate.
      stapling: this.#current(entry, this.#now()) !== null,
      retryInMs: wait,
    });
  }

  #stapled(entry: Entry, der: Buffer, response: OcspResponse, now: number): void {
    const wasRevoked = entry.staple?.response.status === 'revoked';
    entry.staple = { der, response };
    entry.failures = 0;
    if (this.#listeners.length > 0) {
      const key = [...this.#entries].find(([, e]) => e === entry)?.[0];
      if (key !== undefined) for (const fn of this.#listeners) fn(stapleOf(key, entry.staple));
    }
    // Traefik's rule: again once half of the validity has passed; hourly without nextUpdate.
    const next = response.nextUpdate;
    entry.dueAt =
      next === undefined
        ? now + HOUR_MS
        : Math.max(now + 1_000, response.thisUpdate + (next - response.thisUpdate) / 2);
    this.#logger.debug('OCSP response stapled', {
      certificate: entry.source,
      status: response.status,
      nextUpdate: next === undefined ? null : new Date(next).toISOString(),
    });
    if (response.status === 'revoked' && !wasRevoked) {
      this.#logger.warn('certificate revoked (OCSP): clients that check will refuse it', {
        certificate: entry.source,
        revokedAt: response.revokedAt === undefined ? null : new Date(response.revokedAt).toISOString(),
      });
    }
  }
}
