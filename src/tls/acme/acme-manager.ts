/**
 * One certificate resolver (Traefik's `certificatesResolvers.<name>.acme`): obtains certificates
 * for the domain sets it is asked to `ensure`, keeps them in the storage file, renews them before
 * they expire, and answers `certificateFor(serverName)` from memory for the TLS handshake.
 *
 * Work happens one certificate at a time in the background. A failure never removes a
 * certificate: the current one keeps being served while attempts back off exponentially (capped
 * at 1 h, or longer when the CA's Retry-After says so).
 */

import {
  ACME_NO_CHALLENGE,
  acmeCaServerProblem,
  acmeEmailAddressesProblem,
  decodeEabHmac,
} from '../../config/static/eab.ts';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import { certificateInfo, type KeyAndCert, type KeyType } from '../x509/index.ts';
import { AccountSession } from './acme-account.ts';
import { AcmeProblemError } from './acme-errors.ts';
import { AcmeStorage, type StoredAccount, type StoredCertificate } from './acme-storage.ts';
import { type AcmeTransport, httpsTransport } from './acme-transport.ts';
import { type ClusterLock, type ClusterRead, ClusterState } from './cluster-state.ts';
import { ClusterSync } from './cluster-sync.ts';
import type { Dns01Provider } from './dns01-provider.ts';
import { coversName, normalizeDomains } from './domain-names.ts';
import type { Http01Store } from './http01-store.ts';
import {
  type ChallengeSolver,
  type ChallengeType,
  delayedSolver,
  obtainCertificate,
  solverFor,
} from './obtain-certificate.ts';
import { backoffDelay, certificateRenewDurations, renewalTime } from './retry.ts';
import { type Scheduler, systemScheduler } from './scheduler.ts';
import type { SharedStore } from './shared-store.ts';
import type { TlsAlpn01Store } from './tls-alpn01-store.ts';

/** Storage shared by several instances (cluster-state.ts): replaces the storage file. */
export interface SharedStorageOptions {
  readonly store: SharedStore;
  /** This instance's name in the store (`host-pid-random`). */
  readonly instanceId: string;
  readonly pollIntervalMs?: number;
  readonly lockTtlMs?: number;
  readonly challengeWaitMs?: number;
}

export interface CertificateManagerOptions {
  /** The ACME directory URL (Traefik's `caServer`). */
  readonly caServer: string;
  readonly email: string;
  /** Traefik's `eab` (external account binding): used when the account is registered. */
  readonly eab?: { readonly kid: string; readonly hmacEncoded: string };
  /** Traefik's acme.json (ignored with `shared`). */
  readonly storageFile: string;
  /** A store shared by several instances instead of the file: one order per name among them all. */
  readonly shared?: SharedStorageOptions;
  /** Section of the storage file (the resolver's name); default `default`. */
  readonly resolverName?: string;
  /**
   * The challenge, or several: Traefik configures a solver for each of httpChallenge,
   * tlsChallenge and dnsChallenge given, and lego picks one per authorization (chooseChallenge).
   */
  readonly challenge: ChallengeType | readonly ChallengeType[];
  readonly dnsProvider?: Dns01Provider;
  /** PEM bundle to trust for the ACME server instead of the system roots. */
  readonly caCertificates?: string;
  /** Traefik's `caSystemCertPool`: the system's roots too (with caCertificates or caServerName). */
  readonly caSystemCertPool?: boolean;
  /**
   * Traefik's `httpChallenge.delay` / `tlsChallenge.delay` (ms): wait this long once the answer
   * is served (by every instance, with `shared`) before telling the CA to look. Default 0.
   */
  readonly challengeDelayMs?: number | Readonly<Partial<Record<ChallengeType, number>>>;
  /** Traefik's `caServerName`: the TLS server name of the CA. */
  readonly caServerName?: string;
  /** Traefik's `clientTimeout` (ms, 0 = none): one request to the CA whole. Default 2 min. */
  readonly clientTimeoutMs?: number;
  /** Traefik's `clientResponseHeaderTimeout` (ms, 0 = none): the CA's response head. Default 30 s. */
  readonly clientResponseHeaderTimeoutMs?: number;
  /**
   * Traefik's `certificatesDuration` (hours, default 2160): picks how long before expiry a
   * certificate is renewed, from Traefik's table (retry.ts certificateRenewDurations); never
   * later than a third of its lifetime before (renewalTime).
   */
  readonly certificatesDuration?: number;
  /** Key of issued certificates (Traefik's `keyType`); default `ec256` here, the static config's default is RSA4096. */
  readonly keyType?: KeyType;
  /** Traefik's `preferredChain`: the issuer CN of the root the chain should lead to. */
  readonly preferredChain?: string;
  /** Traefik's `profile`: the CA's certificate profile (ACME profiles draft) asked for in each order. */
  readonly profile?: string;
  /** Traefik's `emailAddresses`: email addresses the CSR asks for as subjectAltName entries. */
  readonly emailAddresses?: readonly string[];
  /**
   * Traefik's `disableCommonName` (v3.6): CSRs without a subject CN, for renewals too (Traefik
   * v3.7 passes it to lego's RenewOptions since traefik/traefik#13759).
   */
  readonly disableCommonName?: boolean;
  readonly clock?: Clock;
  readonly scheduler?: Scheduler;
  /** First retry delay after a failure; doubles per failure up to 1 h. Default 60 s. */
  readonly retryInitialMs?: number;
  readonly transport?: AcmeTransport;
  readonly pollIntervalMs?: number;
  readonly logger: Logger;
}

export interface ChallengeStores {
  readonly http01: Http01Store;
  readonly tlsAlpn01: TlsAlpn01Store;
}

export type CertificateListener = (domains: readonly string[], cert: KeyAndCert) => void;

export interface ManagedCertificateStatus {
  readonly domains: readonly string[];
  readonly notAfter?: Date;
  readonly renewAt?: Date;
  readonly failures: number;
  readonly nextAttemptAt?: Date;
  readonly lastError?: string;
}

interface InstalledCertificate extends KeyAndCert {
  readonly notAfter: number;
  readonly renewAt: number;
  readonly names: readonly string[];
}

interface Entry {
  readonly domains: readonly string[];
  cert: InstalledCertificate | undefined;
  failures: number;
  /** Consecutive issuances that were already due for renewal when they arrived. */
  dueOnArrival: number;
  /** Wall ms of the next attempt (obtain, renew or retry). */
  dueAt: number;
  lastError: string | undefined;
}

/** Re-evaluate at least this often: the wall clock may jump (suspend, NTP). */
const MAX_TIMER_MS = 12 * 3_600_000;
const RETRY_CAP_MS = 3_600_000;

export class CertificateManager {
  readonly #opts: CertificateManagerOptions;
  readonly #resolver: string;
  readonly #solvers: readonly ChallengeSolver[];
  readonly #storage: AcmeStorage;
  readonly #log: Logger;
  readonly #wallNow: () => number;
  readonly #scheduler: Scheduler;
  readonly #transport: AcmeTransport;
  readonly #entries: Entry[] = [];
  #index = new Map<string, Entry>();
  readonly #listeners = new Set<CertificateListener>();
  #session: AccountSession | undefined;
  /** Why no order of this resolver can succeed (its caServer or EAB key), set by start(). */
  #unusable: string | undefined;
  #started = false;
  #stopped = false;
  #running = false;
  #timer: unknown;
  readonly #abort = new AbortController();
  readonly #cluster: ClusterState | undefined;
  readonly #sync: ClusterSync | undefined;
  readonly #renewPeriodMs: number;

  constructor(opts: CertificateManagerOptions, stores: ChallengeStores) {
    this.#opts = opts;
    this.#renewPeriodMs = certificateRenewDurations(opts.certificatesDuration).renewPeriodMs;
    this.#resolver = opts.resolverName ?? 'default';
    this.#log = opts.logger.child({ resolver: this.#resolver });
    const clock = opts.clock;
    this.#wallNow = clock === undefined ? Date.now : () => clock.wallNow();
    this.#scheduler = opts.scheduler ?? systemScheduler;
    this.#storage = new AcmeStorage(opts.storageFile, this.#log);
    this.#transport =
      opts.transport ??
      httpsTransport({
        ...(opts.caCertificates === undefined ? {} : { caCertificates: opts.caCertificates }),
        ...(opts.caSystemCertPool === undefined ? {} : { caSystemCertPool: opts.caSystemCertPool }),
        ...(opts.caServerName === undefined ? {} : { caServerName: opts.caServerName }),
        ...(opts.clientTimeoutMs === undefined ? {} : { timeoutMs: opts.clientTimeoutMs }),
        ...(opts.clientResponseHeaderTimeoutMs === undefined
          ? {}
          : { responseHeaderTimeoutMs: opts.clientResponseHeaderTimeoutMs }),
      });
    const types: readonly ChallengeType[] =
      typeof opts.challenge === 'string' ? [opts.challenge] : opts.challenge;
    const solvers = types.map((t) => solverFor(t, stores, opts.dnsProvider));
    const delays = opts.challengeDelayMs ?? 0;
    const delayOf = (t: ChallengeType): number => (typeof delays === 'number' ? delays : (delays[t] ?? 0));
    const shared = opts.shared;
    if (shared === undefined) {
      this.#solvers = solvers.map((sv) => delayedSolver(sv, delayOf(sv.type)));
      return;
    }
    this.#cluster = new ClusterState({
      store: shared.store,
      resolver: this.#resolver,
      instanceId: shared.instanceId,
      wallNow: this.#wallNow,
      scheduler: this.#scheduler,
      logger: this.#log,
      ...(shared.pollIntervalMs === undefined ? {} : { pollIntervalMs: shared.pollIntervalMs }),
      ...(shared.lockTtlMs === undefined ? {} : { lockTtlMs: shared.lockTtlMs }),
      ...(shared.challengeWaitMs === undefined ? {} : { challengeWaitMs: shared.challengeWaitMs }),
    });
    this.#sync = new ClusterSync(this.#cluster, stores, (r) => this.#onSharedRead(r));
    const sync = this.#sync;
    this.#solvers = solvers.map((sv) => delayedSolver(sync.wrap(sv), delayOf(sv.type)));
  }

  /** Loads the storage file and starts the work queue (certificates stored there serve at once). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    let stored: StoredAccount | undefined;
    if (this.#sync !== undefined) {
      // The shared store is read by the sync loop; its first read installs what it holds, then
      // starts the work queue.
      this.#startSession(undefined);
      this.#sync.start();
      return;
    }
    try {
      const data = this.#storage.load(this.#resolver);
      stored = data.account;
      for (const c of data.certificates) {
        const entry = this.#entry(c.domains);
        try {
          this.#install(entry, c);
        } catch (e) {
          this.#log.warn('acme storage holds an unreadable certificate; obtaining a new one', {
            domains: c.domains,
            error: e,
          });
        }
      }
      this.#rebuildIndex();
    } catch (e) {
      this.#log.error('acme storage could not be loaded; starting empty', {
        file: this.#storage.file,
        error: e,
      });
    }
    this.#startSession(stored);
    this.#kick();
  }

  #startSession(stored: StoredAccount | undefined): void {
    // A caServer or EAB key no order can use: Traefik starts and every order fails (eab.ts); no
    // session then, and #obtain fails each with lego's error, logged and retried as any failure.
    const challenges = this.#opts.challenge;
    this.#unusable =
      (typeof challenges !== 'string' && challenges.length === 0 ? ACME_NO_CHALLENGE : undefined) ??
      acmeCaServerProblem(this.#opts.caServer) ??
      acmeEmailAddressesProblem(this.#opts.emailAddresses ?? []);
    const e = this.#opts.eab;
    let eab: { kid: string; macKey: Buffer } | undefined;
    if (e !== undefined) {
      const macKey = decodeEabHmac(e.hmacEncoded);
      if (macKey === undefined) this.#unusable ??= 'acme: could not decode hmac key';
      else eab = { kid: e.kid, macKey };
    }
    if (this.#unusable !== undefined) return;
    this.#session = new AccountSession(
      {
        caServer: this.#opts.caServer,
        email: this.#opts.email,
        ...(eab === undefined ? {} : { externalAccount: eab }),
        transport: this.#transport,
        wallNow: this.#wallNow,
        logger: this.#log,
        onChange: (account) => this.#persist(account),
        ...(this.#opts.pollIntervalMs === undefined ? {} : { pollIntervalMs: this.#opts.pollIntervalMs }),
      },
      stored,
    );
  }

  stop(): void {
    this.#stopped = true;
    this.#abort.abort(new Error('certificate manager stopped'));
    if (this.#timer !== undefined) this.#scheduler.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#transport.close();
    // The heartbeat record is removed (other instances stop waiting for us), then the connection.
    this.#sync
      ?.stop()
      .catch(() => {})
      .finally(() => this.#cluster?.store.close());
  }

  /** Asks for a certificate covering `domains` (first is the subject); obtained in the background. */
  ensure(domains: readonly string[]): void {
    const names = normalizeDomains(domains);
    if (names.length === 0) return;
    if (this.#entries.some((e) => names.every((n) => coversName(e.domains, n)))) return;
    this.#entry(names);
    this.#kick();
  }

  /** The certificate for a TLS handshake's server name: exact name first, then a `*.` wildcard. */
  certificateFor(serverName: string): KeyAndCert | undefined {
    const name = serverName.toLowerCase();
    const exact = this.#index.get(name);
    if (exact !== undefined) return exact.cert;
    const dot = name.indexOf('.');
    return dot > 0 ? this.#index.get(`*${name.slice(dot)}`)?.cert : undefined;
  }

  /** Every certificate held now (issued or loaded from storage), for the TLS certificate store. */
  certificates(): {
    readonly keyPem: string;
    readonly certPem: string;
    readonly domains: readonly string[];
  }[] {
    const out: { keyPem: string; certPem: string; domains: readonly string[] }[] = [];
    for (const e of this.#entries) {
      if (e.cert !== undefined)
        out.push({ keyPem: e.cert.keyPem, certPem: e.cert.certPem, domains: e.domains });
    }
    return out;
  }

  /** Called after each certificate obtained or renewed; returns the unsubscribe function. */
  onChange(fn: CertificateListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  status(): ManagedCertificateStatus[] {
    return this.#entries.map((e) => ({
      domains: e.domains,
      failures: e.failures,
      ...(e.cert === undefined
        ? {}
        : { notAfter: new Date(e.cert.notAfter), renewAt: new Date(e.cert.renewAt) }),
      ...(Number.isFinite(e.dueAt) ? { nextAttemptAt: new Date(e.dueAt) } : {}),
      ...(e.lastError === undefined ? {} : { lastError: e.lastError }),
    }));
  }

  #entry(domains: readonly string[]): Entry {
    const key = domains.join(',');
    const found = this.#entries.find((e) => e.domains.join(',') === key);
    if (found !== undefined) return found;
    const entry: Entry = {
      domains,
      cert: undefined,
      failures: 0,
      dueOnArrival: 0,
      dueAt: this.#wallNow(),
      lastError: undefined,
    };
    this.#entries.push(entry);
    return entry;
  }

  #install(entry: Entry, kc: KeyAndCert): void {
    const info = certificateInfo(kc.certPem);
    const notAfter = info.notAfter.getTime();
    const renewAt = renewalTime(info.notBefore.getTime(), notAfter, this.#renewPeriodMs);
    entry.cert = { keyPem: kc.keyPem, certPem: kc.certPem, notAfter, renewAt, names: info.names };
    entry.dueAt = renewAt;
  }

  #rebuildIndex(): void {
    const index = new Map<string, Entry>();
    for (const e of this.#entries) {
      if (e.cert === undefined) continue;
      for (const n of e.cert.names) {
        const other = index.get(n);
        if (other?.cert === undefined || other.cert.notAfter < e.cert.notAfter) index.set(n, e);
      }
    }
    this.#index = index;
  }

  #kick(): void {
    if (!this.#started || this.#stopped || this.#running) return;
    // Clustered: nothing is ordered before the store was read once (it may hold the certificate).
    if (this.#sync !== undefined && !this.#sync.ready) return;
    this.#running = true;
    this.#run().catch((e: unknown) => this.#log.error('acme work queue failed', { error: e }));
  }

  async #run(): Promise<void> {
    try {
      while (!this.#stopped) {
        const now = this.#wallNow();
        let due: Entry | undefined;
        for (const e of this.#entries)
          if (e.dueAt <= now && (due === undefined || e.dueAt < due.dueAt)) due = e;
        if (due === undefined) break;
        await this.#attempt(due);
      }
    } finally {
      this.#running = false;
      this.#schedule();
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined) this.#scheduler.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped) return;
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.#entries) next = Math.min(next, e.dueAt);
    if (!Number.isFinite(next)) return;
    const delay = Math.min(Math.max(0, next - this.#wallNow()), MAX_TIMER_MS);
    this.#timer = this.#scheduler.setTimeout(() => {
      this.#timer = undefined;
      this.#kick();
    }, delay);
  }

  async #attempt(entry: Entry): Promise<void> {
    if (this.#cluster === undefined) {
      await this.#attemptHere(entry);
      return;
    }
    await this.#attemptShared(entry, this.#cluster);
  }

  /**
   * Clustered: the instance that takes the name's lock orders; the others try again a poll
   * interval later, by when the sync loop has usually installed the certificate from the store.
   */
  async #attemptShared(entry: Entry, cluster: ClusterState): Promise<void> {
    const name = entry.domains.join(',');
    let lock: ClusterLock | undefined;
    try {
      lock = await cluster.tryLock(name);
    } catch (e) {
      this.#storeFailed(entry, e);
      return;
    }
    if (lock === undefined) {
      entry.dueAt = this.#wallNow() + cluster.pollIntervalMs;
      this.#log.debug('acme order held by another instance; waiting for its certificate', {
        domains: entry.domains,
      });
      return;
    }
    try {
      // Read again under the lock: the previous holder may have stored it a moment ago (and the
      // sync loop may have installed it while we waited for the lock).
      const stored = await cluster.readCertificate(entry.domains);
      if (stored !== undefined) this.#installShared(entry, stored);
      if (entry.cert !== undefined && entry.cert.renewAt > this.#wallNow()) {
        entry.dueAt = entry.cert.renewAt;
        return;
      }
      const failure = await cluster.readFailure(name);
      if (failure !== undefined && failure.retryAt > this.#wallNow()) {
        entry.failures = failure.failures;
        entry.lastError = failure.error;
        entry.dueAt = failure.retryAt;
        return;
      }
      if (!(await this.#sharedAccount(cluster))) return;
      const failuresBefore = entry.failures;
      const kc = await this.#attemptHere(entry);
      if (kc !== undefined && entry.cert !== undefined) {
        await cluster.saveCertificate(
          { domains: entry.domains, ...kc, store: 'default' },
          entry.cert.notAfter,
        );
        await cluster.clearFailure(name);
      } else if (entry.failures > failuresBefore) {
        await cluster.saveFailure(name, {
          failures: entry.failures,
          retryAt: entry.dueAt,
          error: entry.lastError ?? '',
        });
      }
    } catch (e) {
      this.#storeFailed(entry, e);
    } finally {
      await lock.release();
    }
  }

  /** The resolver's one account: adopted from the store, or registered under the account lock. */
  async #sharedAccount(cluster: ClusterState): Promise<boolean> {
    const session = this.#session;
    if (session === undefined) return false;
    if (session.registered) return true;
    const lock = await cluster.lock('account', cluster.lockTtlMs, this.#abort.signal);
    try {
      const stored = await cluster.readAccount();
      if (stored !== undefined) session.adopt(stored);
      if (session.registered) return true;
      await session.prepare(this.#abort.signal);
      const account = session.account;
      if (account !== undefined) await cluster.saveAccount(account);
      return true;
    } finally {
      await lock.release();
    }
  }

  /**
   * `entry` failed with `e`: one more failure, the next try after the backoff, or later when
   * the CA said so (an ACME problem's Retry-After). Returns the delay (ms).
   */
  #retryLater(entry: Entry, e: unknown): number {
    entry.failures++;
    const hinted = e instanceof AcmeProblemError ? (e.retryAfterMs ?? 0) : 0;
    const delay = Math.max(
      backoffDelay(entry.failures, this.#opts.retryInitialMs ?? 60_000, RETRY_CAP_MS),
      hinted,
    );
    entry.dueAt = this.#wallNow() + delay;
    entry.lastError = (e as Error).message;
    return delay;
  }

  /**
   * The store failed mid-way (no order without it: it holds the locks), or registering the
   * shared account did (the CA): retry with backoff.
   */
  #storeFailed(entry: Entry, e: unknown): void {
    if (this.#stopped) return;
    const delay = this.#retryLater(entry, e);
    const store = (e as Error).name === 'StoreError';
    this.#log.error(
      store
        ? 'acme shared storage failed; certificates held keep serving'
        : 'acme certificate request failed',
      {
        domains: entry.domains,
        ...(store ? { storage: this.#cluster?.store.description } : {}),
        error: (e as Error).message,
        failures: entry.failures,
        retryInMs: delay,
      },
    );
  }

  /** What the sync loop read: the account, and certificates newer than ours. */
  #onSharedRead(r: ClusterRead): void {
    if (r.account !== undefined && !(this.#session?.registered ?? false)) this.#session?.adopt(r.account);
    let changed = false;
    for (const c of r.certificates) {
      const entry = this.#entry(normalizeDomains(c.domains));
      if (this.#installShared(entry, c)) changed = true;
    }
    if (changed) this.#rebuildIndex();
    this.#kick();
  }

  /**
   * Installs a certificate from the store when it is newer than the one held; tells the
   * listeners. True when installed.
   */
  #installShared(entry: Entry, c: StoredCertificate): boolean {
    if (entry.cert?.certPem === c.certPem) return false;
    let notAfter: number;
    try {
      notAfter = certificateInfo(c.certPem).notAfter.getTime();
    } catch (e) {
      this.#log.warn('acme shared storage holds an unreadable certificate', { domains: c.domains, error: e });
      return false;
    }
    if (entry.cert !== undefined && entry.cert.notAfter >= notAfter) return false;
    const renewing = entry.cert !== undefined;
    this.#install(entry, c);
    entry.failures = 0;
    entry.lastError = undefined;
    this.#rebuildIndex();
    this.#log.info(
      renewing ? 'acme certificate renewed by another instance' : 'acme certificate from shared storage',
      {
        domains: entry.domains,
        notAfter: new Date(notAfter).toISOString(),
      },
    );
    this.#notify(entry.domains, c);
    return true;
  }

  #notify(domains: readonly string[], kc: KeyAndCert): void {
    for (const fn of this.#listeners) {
      try {
        fn(domains, kc);
      } catch (e) {
        this.#log.error('acme certificate listener failed', { error: e });
      }
    }
  }

  /** One order from this instance; the certificate on success, undefined after a failure (logged). */
  async #attemptHere(entry: Entry): Promise<KeyAndCert | undefined> {
    const renewing = entry.cert !== undefined;
    this.#log.info(renewing ? 'acme renewing certificate' : 'acme obtaining certificate', {
      domains: entry.domains,
    });
    let kc: KeyAndCert;
    try {
      kc = await this.#obtain(entry);
    } catch (e) {
      if (this.#stopped) return;
      const delay = this.#retryLater(entry, e);
      this.#log.error('acme certificate request failed', {
        domains: entry.domains,
        error: (e as Error).message,
        ...(e instanceof AcmeProblemError ? { acmeType: e.type, acmeDetail: e.detail } : {}),
        failures: entry.failures,
        retryInMs: delay,
        servingCurrent: renewing,
      });
      return undefined;
    }
    this.#install(entry, kc);
    entry.failures = 0;
    entry.lastError = undefined;
    const now = this.#wallNow();
    if (entry.dueAt <= now) {
      // A certificate already past its renewal point when issued (our clock far ahead of the CA's,
      // or a CA issuing very short lifetimes) would be renewed again at once, forever: back off.
      entry.dueOnArrival++;
      entry.dueAt = now + backoffDelay(entry.dueOnArrival, this.#opts.retryInitialMs ?? 60_000, RETRY_CAP_MS);
      this.#log.warn('acme certificate was due for renewal as soon as it was issued; check the clock', {
        domains: entry.domains,
        notAfter: new Date(entry.cert?.notAfter ?? 0).toISOString(),
      });
    } else {
      entry.dueOnArrival = 0;
    }
    this.#rebuildIndex();
    if (this.#cluster === undefined) this.#persist();
    this.#log.info(renewing ? 'acme certificate renewed' : 'acme certificate obtained', {
      domains: entry.domains,
      notAfter: new Date(entry.cert?.notAfter ?? 0).toISOString(),
      renewAt: new Date(entry.dueAt).toISOString(),
    });
    this.#notify(entry.domains, kc);
    return kc;
  }

  #obtain(entry: Entry): Promise<KeyAndCert> {
    const domains = entry.domains;
    // A renewal certifies the current key again, as Traefik's renewCertificates (v3.7: the
    // stored Key in the certificate.Resource given to lego's RenewWithOptions): a public key
    // pinned by clients stays valid, and a changed keyType applies to new certificates only.
    const keyPem = entry.cert?.keyPem;
    const signal = this.#abort.signal;
    const session = this.#session;
    if (session === undefined)
      return Promise.reject(new Error(this.#unusable ?? 'certificate manager not started'));
    return session.run(signal, (client) =>
      obtainCertificate(client, {
        domains,
        solver: this.#solvers,
        signal,
        logger: this.#log,
        ...(this.#opts.keyType === undefined ? {} : { keyType: this.#opts.keyType }),
        ...(keyPem === undefined ? {} : { keyPem }),
        ...(this.#opts.preferredChain === undefined ? {} : { preferredChain: this.#opts.preferredChain }),
        ...(this.#opts.profile === undefined ? {} : { profile: this.#opts.profile }),
        ...(this.#opts.emailAddresses === undefined ? {} : { emailAddresses: this.#opts.emailAddresses }),
        ...(this.#opts.disableCommonName === true ? { disableCommonName: true } : {}),
      }),
    );
  }

  #persist(account: StoredAccount | undefined = this.#session?.account): void {
    const cluster = this.#cluster;
    if (cluster !== undefined) {
      // A new account key is stored before it is registered (AccountSession's rule), here too.
      if (account !== undefined)
        cluster
          .saveAccount(account)
          .catch((e: unknown) =>
            this.#log.error('acme account could not be written to shared storage', { error: e }),
          );
      return;
    }
    const certificates = this.#entries.flatMap((e) =>
      e.cert === undefined
        ? []
        : [{ domains: e.domains, keyPem: e.cert.keyPem, certPem: e.cert.certPem, store: 'default' }],
    );
    try {
      this.#storage.save(this.#resolver, {
        ...(account === undefined ? {} : { account }),
        certificates,
      });
    } catch (e) {
      // The certificates stay in memory and keep serving; the next change tries to write again.
      this.#log.error('acme storage could not be written', { file: this.#storage.file, error: e });
    }
  }
}
