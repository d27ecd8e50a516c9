/**
 * Clustered ACME: one resolver's state in a store shared by several instances
 * (`acme.storage: etcd://…`, docs/acme.md). Keys, under `<prefix>/<resolver>/`:
 *
 *   account                         {"email","keyPem","registration":{"uri","body"}}
 *   certificates/<d1,d2,…>          {"domains","certificate","key","notAfter","obtainedBy","obtainedAt"}
 *   locks/<d1,d2,…> , locks/account {"owner","expiresAt"}        one order per name set
 *   failures/<d1,d2,…>              {"failures","retryAt","error"}   shared backoff
 *   challenges/http-01/<token>      the key authorization
 *   challenges/tls-alpn-01/<name>   the key authorization
 *   instances/<id>                  {"expiresAt","challenges":[…]}  who is alive, what it serves
 *
 * Every instance reads the resolver's keys every poll interval: it installs certificates another
 * instance obtained, serves the challenges another instance published, and writes its own
 * `instances/<id>` record (a heartbeat, every 10 s and whenever the challenges it serves change). The
 * instance that holds a name's lock orders the certificate; before it tells the CA to validate,
 * it waits until every live instance lists the challenge, so that the validator may reach any of
 * them. Locks are values with an expiry (renewed while the order runs) taken by compare-and-swap;
 * a crashed holder's lock expires. Expiries compare wall clocks: instances need synchronised
 * clocks (NTP), as with any lease in a store without server-side leases.
 */
import type { Logger } from '../../core/logger.ts';
import type { StoredAccount, StoredCertificate } from './acme-storage.ts';
import type { Scheduler } from './scheduler.ts';
import type { SharedStore } from './shared-store.ts';

export interface ClusterOptions {
  readonly store: SharedStore;
  readonly resolver: string;
  /** This instance's name in `instances/` and lock owners (`host-pid-random`). */
  readonly instanceId: string;
  readonly wallNow: () => number;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** How often the store is read (default 1 s). */
  readonly pollIntervalMs?: number;
  /** A lock not renewed for this long is free (default 60 s; renewed every third). */
  readonly lockTtlMs?: number;
  /** The longest wait for every instance to serve a challenge (default 10 s). */
  readonly challengeWaitMs?: number;
}

export interface ClusterRead {
  readonly account: StoredAccount | undefined;
  readonly certificates: readonly StoredCertificate[];
  /** `http-01/<token>` or `tls-alpn-01/<name>` → key authorization. */
  readonly challenges: ReadonlyMap<string, string>;
}

export interface SharedFailure {
  readonly failures: number;
  readonly retryAt: number;
  readonly error: string;
}

/** How often an instance rewrites its record when nothing changed. */
const HEARTBEAT_MS = 10_000;

type Obj = Record<string, unknown>;
const parse = (v: string | undefined): Obj | undefined => {
  if (v === undefined) return undefined;
  try {
    const o = JSON.parse(v) as unknown;
    return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Obj) : undefined;
  } catch {
    return undefined;
  }
};

/** A lock held by this instance: renewed in the background until released. */
export class ClusterLock {
  readonly #state: ClusterState;
  readonly #key: string;
  #value: string;
  #timer: unknown;
  #renewing: Promise<void> | undefined;
  #released = false;
  lost = false;

  constructor(state: ClusterState, key: string, value: string) {
    this.#state = state;
    this.#key = key;
    this.#value = value;
    this.#arm();
  }

  #arm(): void {
    const s = this.#state;
    this.#timer = s.scheduler.setTimeout(() => {
      const next = s.lockValue();
      this.#renewing = s.store
        .compareAndSwap(this.#key, this.#value, next)
        .then((ok) => {
          if (this.#released) return;
          if (ok) this.#value = next;
          else {
            this.lost = true;
            s.log.warn('acme lock taken over by another instance', { lock: this.#key });
            return;
          }
          this.#arm();
        })
        .catch((e: unknown) => {
          s.log.warn('acme lock could not be renewed', { lock: this.#key, error: (e as Error).message });
          if (!this.#released) this.#arm();
        });
    }, s.lockTtlMs / 3);
  }

  async release(): Promise<void> {
    this.#released = true;
    this.#state.scheduler.clearTimeout(this.#timer);
    // A renewal in flight changes the value: release the one it wrote, not the one it replaced.
    await this.#renewing;
    try {
      await this.#state.store.compareAndDelete(this.#key, this.#value);
    } catch (e) {
      // It expires by itself.
      this.#state.log.warn('acme lock could not be released', {
        lock: this.#key,
        error: (e as Error).message,
      });
    }
  }
}

export class ClusterState {
  readonly store: SharedStore;
  readonly scheduler: Scheduler;
  readonly log: Logger;
  readonly lockTtlMs: number;
  readonly pollIntervalMs: number;
  readonly #o: ClusterOptions;
  readonly #base: string;
  #lastBeat = Number.NEGATIVE_INFINITY;
  #lastListed = '';

  constructor(o: ClusterOptions) {
    this.#o = o;
    this.store = o.store;
    this.scheduler = o.scheduler;
    this.log = o.logger;
    this.lockTtlMs = o.lockTtlMs ?? 60_000;
    this.pollIntervalMs = o.pollIntervalMs ?? 1_000;
    this.#base = `${o.store.prefix === '' ? '' : `${o.store.prefix}/`}${o.resolver}/`;
  }

  get instanceId(): string {
    return this.#o.instanceId;
  }

  key(...parts: string[]): string {
    return this.#base + parts.join('/');
  }

  lockValue(): string {
    return JSON.stringify({ owner: this.#o.instanceId, expiresAt: this.#o.wallNow() + this.lockTtlMs });
  }

  /** Everything of the resolver in one read. */
  async read(): Promise<ClusterRead> {
    const all = await this.store.list(this.#base);
    const certificates: StoredCertificate[] = [];
    const challenges = new Map<string, string>();
    let account: StoredAccount | undefined;
    for (const [k, v] of all) {
      const rel = k.slice(this.#base.length);
      if (rel === 'account') account = decodeAccount(v);
      else if (rel.startsWith('certificates/')) {
        const c = decodeCertificate(v);
        if (c !== undefined) certificates.push(c);
      } else if (rel.startsWith('challenges/')) challenges.set(rel.slice('challenges/'.length), v);
    }
    return { account, certificates, challenges };
  }

  async readCertificate(domains: readonly string[]): Promise<StoredCertificate | undefined> {
    const v = await this.store.get(this.key('certificates', domains.join(',')));
    return v === undefined ? undefined : decodeCertificate(v);
  }

  async saveCertificate(c: StoredCertificate, notAfter: number): Promise<void> {
    await this.store.put(
      this.key('certificates', c.domains.join(',')),
      JSON.stringify(
        {
          domains: c.domains,
          certificate: c.certPem,
          key: c.keyPem,
          notAfter: new Date(notAfter).toISOString(),
          obtainedBy: this.#o.instanceId,
          obtainedAt: new Date(this.#o.wallNow()).toISOString(),
        },
        null,
        2,
      ),
    );
  }

  async readAccount(): Promise<StoredAccount | undefined> {
    const v = await this.store.get(this.key('account'));
    return v === undefined ? undefined : decodeAccount(v);
  }

  async saveAccount(a: StoredAccount): Promise<void> {
    await this.store.put(this.key('account'), JSON.stringify(a, null, 2));
  }

  async readFailure(name: string): Promise<SharedFailure | undefined> {
    const o = parse(await this.store.get(this.key('failures', name)));
    if (o === undefined || typeof o.retryAt !== 'number') return undefined;
    return {
      failures: typeof o.failures === 'number' ? o.failures : 1,
      retryAt: o.retryAt,
      error: typeof o.error === 'string' ? o.error : '',
    };
  }

  async saveFailure(name: string, f: SharedFailure): Promise<void> {
    await this.store.put(
      this.key('failures', name),
      JSON.stringify({ ...f, retryAtTime: new Date(f.retryAt).toISOString() }),
    );
  }

  async clearFailure(name: string): Promise<void> {
    await this.store.delete(this.key('failures', name));
  }

  /** The lock, or undefined while another instance holds it (an expired lock is taken over). */
  async tryLock(name: string): Promise<ClusterLock | undefined> {
    const key = this.key('locks', name);
    for (let i = 0; i < 2; i++) {
      const mine = this.lockValue();
      if (await this.store.compareAndSwap(key, undefined, mine)) return new ClusterLock(this, key, mine);
      const current = await this.store.get(key);
      if (current === undefined) continue; // released meanwhile: try again once
      const o = parse(current);
      const expiresAt = typeof o?.expiresAt === 'number' ? o.expiresAt : 0;
      if (expiresAt > this.#o.wallNow()) return undefined;
      this.log.warn('acme lock expired; taking it over', { lock: key, owner: o?.owner });
      if (await this.store.compareAndSwap(key, current, mine)) return new ClusterLock(this, key, mine);
      return undefined;
    }
    return undefined;
  }

  /** Waits for the lock (polling), at most `ms`. */
  async lock(name: string, ms: number, signal: AbortSignal): Promise<ClusterLock> {
    const until = this.#o.wallNow() + ms;
    for (;;) {
      const l = await this.tryLock(name);
      if (l !== undefined) return l;
      if (this.#o.wallNow() > until)
        throw new Error(`acme lock ${name} still held by another instance after ${ms} ms`);
      await this.#sleep(this.pollIntervalMs, signal);
    }
  }

  async publishChallenge(id: string, keyAuthorization: string): Promise<void> {
    await this.store.put(this.key('challenges', id), keyAuthorization);
  }

  async withdrawChallenge(id: string): Promise<void> {
    await this.store.delete(this.key('challenges', id));
  }

  /**
   * Writes this instance's record (alive for three heartbeat periods, serving `challenges`) when
   * the challenges changed or a period has passed. Not at every poll: each write is a new
   * revision in etcd's history, which only compaction reclaims.
   */
  async heartbeat(challenges: readonly string[]): Promise<void> {
    const now = this.#o.wallNow();
    const listed = challenges.join('\n');
    if (listed === this.#lastListed && now < this.#lastBeat + HEARTBEAT_MS) return;
    await this.store.put(
      this.key('instances', this.#o.instanceId),
      JSON.stringify({ expiresAt: now + 3 * HEARTBEAT_MS, challenges }),
    );
    this.#lastBeat = now;
    this.#lastListed = listed;
  }

  async leave(): Promise<void> {
    await this.store.delete(this.key('instances', this.#o.instanceId));
  }

  /**
   * Resolves once every other live instance serves challenge `id` (or after the longest wait,
   * with a warning: an instance that does not answer may still not be the one the CA reaches).
   * Returns how many other instances serve it.
   */
  async waitUntilServed(id: string, signal: AbortSignal | undefined): Promise<number> {
    const until = this.#o.wallNow() + (this.#o.challengeWaitMs ?? 10_000);
    for (;;) {
      const now = this.#o.wallNow();
      const records = await this.store.list(this.key('instances', ''));
      let live = 0;
      const missing: string[] = [];
      for (const [k, v] of records) {
        const id2 = k.slice(this.key('instances', '').length);
        if (id2 === this.#o.instanceId) continue;
        const o = parse(v);
        const expiresAt = typeof o?.expiresAt === 'number' ? o.expiresAt : 0;
        if (expiresAt <= now) {
          // Gone for long: tidy up its record.
          if (expiresAt < now - 3_600_000) await this.store.compareAndDelete(k, v).catch(() => false);
          continue;
        }
        live++;
        const serving = Array.isArray(o?.challenges) && o.challenges.includes(id);
        if (!serving) missing.push(id2);
      }
      if (missing.length === 0) return live;
      if (now > until) {
        this.log.warn('acme challenge not yet served by every instance; asking the CA anyway', {
          challenge: id,
          missing,
        });
        return live - missing.length;
      }
      await this.#sleep(Math.min(100, this.pollIntervalMs), signal);
    }
  }

  #sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const onAbort = (): void => {
        this.scheduler.clearTimeout(t);
        reject(signal?.reason as Error);
      };
      const t = this.scheduler.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function decodeCertificate(v: string): StoredCertificate | undefined {
  const o = parse(v);
  if (
    o === undefined ||
    !Array.isArray(o.domains) ||
    typeof o.certificate !== 'string' ||
    typeof o.key !== 'string'
  )
    return undefined;
  const domains = o.domains.filter((d): d is string => typeof d === 'string');
  if (domains.length === 0 || !o.certificate.includes('BEGIN CERTIFICATE') || !o.key.includes('PRIVATE KEY'))
    return undefined;
  return { domains, certPem: o.certificate, keyPem: o.key, store: 'default' };
}

function decodeAccount(v: string): StoredAccount | undefined {
  const o = parse(v);
  if (o === undefined || typeof o.keyPem !== 'string' || !o.keyPem.includes('PRIVATE KEY')) return undefined;
  const email = typeof o.email === 'string' ? o.email : '';
  const r = o.registration as Obj | undefined;
  if (typeof r === 'object' && r !== null && typeof r.uri === 'string') {
    const body = typeof r.body === 'object' && r.body !== null ? (r.body as Obj) : {};
    return { email, keyPem: o.keyPem, registration: { uri: r.uri, body } };
  }
  return { email, keyPem: o.keyPem };
}
