/**
 * An RFC 8555 client: directory, nonces, JWS-signed POSTs (jwk for newAccount, kid after),
 * accounts, orders, authorizations, challenges, finalization and certificate download. The order
 * flow that strings these together is in obtain-certificate.ts.
 */
import { AcmeProblemError, AcmeTransportError, asProblem } from './acme-errors.ts';
import {
  type AcmeAuthorization,
  type AcmeChallenge,
  type AcmeDirectory,
  type AcmeIdentifier,
  type AcmeOrder,
  parseAuthorization,
  parseChallenge,
  parseDirectory,
  parseOrder,
} from './acme-resources.ts';
import type { AcmeHttpResponse, AcmeTransport } from './acme-transport.ts';
import type { AccountKey } from './jws.ts';
import { type Delay, parseRetryAfter, timerDelay } from './retry.ts';

export interface AcmeClientOptions {
  readonly directoryUrl: string;
  readonly accountKey: AccountKey;
  readonly transport: AcmeTransport;
  /** Known account URL (from storage); requests are signed with `kid` once it is set. */
  readonly accountUrl?: string;
  readonly delay?: Delay;
  /** First poll interval when the server sends no Retry-After; doubles up to 5 s. Default 250 ms. */
  readonly pollIntervalMs?: number;
  /** How long an authorization or order may stay pending/processing. Default 2 min. */
  readonly pollTimeoutMs?: number;
  /**
   * Retries of one request after `badNonce`. The error is retryable by definition (RFC 8555
   * §6.5) and carries a fresh nonce, and a server may reject any share of good nonces (pebble's
   * PEBBLE_WFE_NONCEREJECT), so one retry is not enough; the bound keeps a broken server from
   * looping us. Default 10.
   */
  readonly maxNonceRetries?: number;
  /** Wall time in ms, for Retry-After given as an HTTP date. */
  readonly wallNow?: () => number;
}

/** Traefik's `eab`: the key identifier and the (decoded) MAC key the CA gave out of band. */
export interface ExternalAccountKey {
  readonly kid: string;
  readonly macKey: Buffer;
}

export interface AccountInfo {
  readonly url: string;
  readonly body: Readonly<Record<string, unknown>>;
}

const JOSE = 'application/jose+json';
const MAX_POLL_MS = 5_000;
const MAX_RETRY_AFTER_MS = 60_000;

export class AcmeClient {
  readonly accountKey: AccountKey;
  accountUrl: string | undefined;
  readonly #directoryUrl: string;
  readonly #transport: AcmeTransport;
  readonly #delay: Delay;
  readonly #pollIntervalMs: number;
  readonly #pollTimeoutMs: number;
  readonly #maxNonceRetries: number;
  readonly #wallNow: () => number;
  #directory: AcmeDirectory | undefined;
  /** Unused nonces from earlier responses (each is good for one request, §6.5). */
  readonly #nonces: string[] = [];

  constructor(opts: AcmeClientOptions) {
    this.#directoryUrl = opts.directoryUrl;
    this.accountKey = opts.accountKey;
    this.#transport = opts.transport;
    this.accountUrl = opts.accountUrl;
    this.#delay = opts.delay ?? timerDelay;
    this.#pollIntervalMs = opts.pollIntervalMs ?? 250;
    this.#pollTimeoutMs = opts.pollTimeoutMs ?? 120_000;
    this.#maxNonceRetries = opts.maxNonceRetries ?? 10;
    this.#wallNow = opts.wallNow ?? Date.now;
  }

  async directory(signal?: AbortSignal): Promise<AcmeDirectory> {
    if (this.#directory !== undefined) return this.#directory;
    const res = await this.#transport.send({
      method: 'GET',
      url: this.#directoryUrl,
      ...(signal === undefined ? {} : { signal }),
    });
    if (res.status !== 200) throw problemOf(res, this.#wallNow());
    this.#directory = parseDirectory(json(res));
    return this.#directory;
  }

  /** newAccount (§7.3); an existing account for this key answers 200 with its URL, which is fine. */
  async newAccount(
    opts: { email?: string; termsOfServiceAgreed: boolean; externalAccount?: ExternalAccountKey },
    signal?: AbortSignal,
  ): Promise<AccountInfo> {
    const dir = await this.directory(signal);
    const eab = opts.externalAccount;
    const payload = {
      termsOfServiceAgreed: opts.termsOfServiceAgreed,
      ...(opts.email === undefined || opts.email === '' ? {} : { contact: [`mailto:${opts.email}`] }),
      // §7.3.4: binds this account key to the CA's own customer account.
      ...(eab === undefined
        ? {}
        : {
            externalAccountBinding: this.accountKey.externalAccountBinding(
              dir.newAccount,
              eab.kid,
              eab.macKey,
            ),
          }),
    };
    const res = await this.#post(dir.newAccount, payload, { jwk: true, signal });
    const url = res.headers.location;
    if (url === undefined) throw new AcmeTransportError('newAccount answered without a Location header');
    this.accountUrl = url;
    return { url, body: json(res) as Record<string, unknown> };
  }

  /**
   * newOrder (§7.4); `profile` names one of the directory's `meta.profiles` (the ACME profiles
   * draft), sent only when given, as lego's OrderService.NewWithOptions.
   */
  async newOrder(
    identifiers: readonly AcmeIdentifier[],
    signal?: AbortSignal,
    profile?: string,
  ): Promise<AcmeOrder> {
    const dir = await this.directory(signal);
    const payload = profile === undefined || profile === '' ? { identifiers } : { identifiers, profile };
    const res = await this.#post(dir.newOrder, payload, { signal });
    const url = res.headers.location;
    if (url === undefined) throw new AcmeTransportError('newOrder answered without a Location header');
    return parseOrder(url, json(res));
  }

  async getOrder(url: string, signal?: AbortSignal): Promise<AcmeOrder> {
    return parseOrder(url, json(await this.#post(url, undefined, { signal })));
  }

  async getAuthorization(url: string, signal?: AbortSignal): Promise<AcmeAuthorization> {
    return parseAuthorization(url, json(await this.#post(url, undefined, { signal })));
  }

  /** Tells the server the challenge is ready to be validated (§7.5.1: the payload is `{}`). */
  async respondToChallenge(url: string, signal?: AbortSignal): Promise<AcmeChallenge> {
    return parseChallenge(json(await this.#post(url, {}, { signal })));
  }

  /** Polls until the authorization leaves `pending`. */
  async waitForAuthorization(url: string, signal?: AbortSignal): Promise<AcmeAuthorization> {
    return this.#poll(
      url,
      async (s) => {
        const res = await this.#post(url, undefined, { signal: s });
        return { value: parseAuthorization(url, json(res)), res };
      },
      (a) => a.status !== 'pending',
      signal,
    );
  }

  /** Polls until the order's status is not `pending` or `processing` (or is one of `until`). */
  async waitForOrder(
    url: string,
    until: (o: AcmeOrder) => boolean,
    signal?: AbortSignal,
  ): Promise<AcmeOrder> {
    return this.#poll(
      url,
      async (s) => {
        const res = await this.#post(url, undefined, { signal: s });
        return { value: parseOrder(url, json(res)), res };
      },
      (o) => until(o) || o.status === 'invalid',
      signal,
    );
  }

  /** finalize (§7.4) with a PEM CSR; the body carries it as base64url DER. */
  async finalize(order: AcmeOrder, csrPem: string, signal?: AbortSignal): Promise<AcmeOrder> {
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const res = await this.#post(order.finalize, { csr: der.toString('base64url') }, { signal });
    return parseOrder(order.url, json(res));
  }

  /** The PEM chain, leaf first (§7.4.2). */
  async downloadCertificate(url: string, signal?: AbortSignal): Promise<string> {
    return (await this.downloadCertificateChain(url, signal)).pem;
  }

  /**
   * The PEM chain, leaf first, and the URLs of the same certificate with other chains: the
   * server's `Link: <url>;rel="alternate"` headers (§7.4.2).
   */
  async downloadCertificateChain(
    url: string,
    signal?: AbortSignal,
  ): Promise<{ pem: string; alternates: string[] }> {
    const res = await this.#post(url, undefined, { accept: 'application/pem-certificate-chain', signal });
    if (!res.body.includes('-----BEGIN CERTIFICATE-----'))
      throw new AcmeTransportError('certificate download did not return a PEM chain');
    return { pem: res.body, alternates: linksOf(res.headers.link, 'alternate', url) };
  }

  async #nonce(signal: AbortSignal | undefined): Promise<string> {
    const cached = this.#nonces.pop();
    if (cached !== undefined) return cached;
    const dir = await this.directory(signal);
    const res = await this.#transport.send({
      method: 'HEAD',
      url: dir.newNonce,
      ...(signal === undefined ? {} : { signal }),
    });
    const nonce = res.headers['replay-nonce'];
    if (nonce === undefined || res.status >= 400)
      throw new AcmeTransportError(`newNonce answered ${res.status} without a Replay-Nonce`);
    return nonce;
  }

  async #post(
    url: string,
    payload: unknown,
    opts: { jwk?: boolean; accept?: string; signal: AbortSignal | undefined },
  ): Promise<AcmeHttpResponse> {
    for (let attempt = 0; ; attempt++) {
      const nonce = await this.#nonce(opts.signal);
      let kid: string | undefined;
      if (opts.jwk !== true) {
        kid = this.accountUrl;
        if (kid === undefined) throw new AcmeTransportError('no ACME account yet: call newAccount first');
      }
      const jws = this.accountKey.sign(url, nonce, payload, kid);
      const res = await this.#transport.send({
        method: 'POST',
        url,
        headers: { 'content-type': JOSE, ...(opts.accept === undefined ? {} : { accept: opts.accept }) },
        body: JSON.stringify(jws),
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      });
      const fresh = res.headers['replay-nonce'];
      if (fresh !== undefined) this.#nonces.push(fresh);
      if (res.status < 400) return res;
      const err = problemOf(res, this.#wallNow());
      if (err instanceof AcmeProblemError && err.is('badNonce') && attempt < this.#maxNonceRetries) continue;
      throw err;
    }
  }

  async #poll<T>(
    url: string,
    fetchOnce: (signal: AbortSignal | undefined) => Promise<{ value: T; res: AcmeHttpResponse }>,
    done: (v: T) => boolean,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    let waited = 0;
    let interval = this.#pollIntervalMs;
    for (;;) {
      const { value, res } = await fetchOnce(signal);
      if (done(value)) return value;
      const hinted = parseRetryAfter(res.headers['retry-after'], this.#wallNow());
      const wait = hinted === undefined ? interval : Math.min(Math.max(hinted, interval), MAX_RETRY_AFTER_MS);
      if (waited + wait > this.#pollTimeoutMs)
        throw new AcmeTransportError(`${url} still not done after ${this.#pollTimeoutMs} ms`);
      await this.#delay(wait, signal);
      waited += wait;
      interval = Math.min(interval * 2, MAX_POLL_MS);
    }
  }
}

function json(res: AcmeHttpResponse): unknown {
  try {
    return JSON.parse(res.body);
  } catch (e) {
    throw new AcmeTransportError(`ACME server answered ${res.status} with a body that is not JSON`, {
      cause: e,
    });
  }
}

/** The error a failed response stands for: its problem document when it has one. */
function problemOf(res: AcmeHttpResponse, wallNow: number): Error {
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    body = undefined;
  }
  const problem = asProblem(body);
  if (problem === undefined)
    return new AcmeTransportError(`ACME server answered ${res.status} without a problem document`);
  return new AcmeProblemError(problem, res.status, parseRetryAfter(res.headers['retry-after'], wallNow));
}

/**
 * The targets of the `Link` header's links of relation `rel` (RFC 8288), resolved against the
 * request URL. Repeated headers arrive joined with ", "; a comma inside `<…>` is part of a URL.
 */
export function linksOf(header: string | undefined, rel: string, base: string): string[] {
  if (header === undefined) return [];
  const out: string[] = [];
  const link = /<([^>]*)>((?:\s*;\s*[^;,]+)*)/g;
  for (let m = link.exec(header); m !== null; m = link.exec(header)) {
    const params = m[2] ?? '';
    const relParam = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const rels = (relParam?.[1] ?? relParam?.[2] ?? '').toLowerCase().split(/\s+/);
    if (!rels.includes(rel)) continue;
    try {
      out.push(new URL(m[1]!, base).href);
    } catch {
      // not a URL: skipped, as lego skips what it cannot parse
    }
  }
  return out;
}
