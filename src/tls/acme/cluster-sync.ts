/**
 * The instance's side of clustered ACME (cluster-state.ts has the key layout): a loop that reads
 * the resolver's keys every poll interval, puts the challenges other instances published into
 * this process's challenge stores (and takes them out when withdrawn), writes the heartbeat that
 * says which challenges it serves, and hands what it read to the certificate manager. And the
 * solver wrapper that publishes this instance's own challenges and waits until all serve them.
 */
import { tlsAlpnChallengeCertificate } from '../x509/index.ts';
import type { ChallengeStores } from './acme-manager.ts';
import type { ClusterRead, ClusterState } from './cluster-state.ts';
import type { ChallengeSolver } from './obtain-certificate.ts';

export class ClusterSync {
  readonly #state: ClusterState;
  readonly #stores: ChallengeStores;
  readonly #onRead: (r: ClusterRead) => void;
  /** Challenges put into the local stores from the shared one: id → key authorization. */
  readonly #synced = new Map<string, string>();
  /** Challenges this instance published itself (served locally by the solver). */
  readonly #own = new Set<string>();
  #timer: unknown;
  #stopped = false;
  #failing = false;
  ready = false;

  constructor(state: ClusterState, stores: ChallengeStores, onRead: (r: ClusterRead) => void) {
    this.#state = state;
    this.#stores = stores;
    this.#onRead = onRead;
  }

  start(): void {
    this.#tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#state.scheduler.clearTimeout(this.#timer);
    await this.#state.leave().catch(() => {});
  }

  /** A solver that also publishes its answers in the store and waits until every instance serves them. */
  wrap(inner: ChallengeSolver): ChallengeSolver {
    if (inner.type === 'dns-01') return inner; // the DNS is already shared
    const idOf = (name: string, token: string): string =>
      inner.type === 'http-01' ? `http-01/${token}` : `tls-alpn-01/${name.toLowerCase()}`;
    return {
      type: inner.type,
      present: async (a, c, keyAuth, signal) => {
        await inner.present(a, c, keyAuth, signal);
        const id = idOf(a.identifier.value, c.token);
        this.#own.add(id);
        await this.#state.publishChallenge(id, keyAuth);
        const n = await this.#state.waitUntilServed(id, signal);
        this.#state.log.debug('acme challenge served by every instance', { challenge: id, others: n });
      },
      cleanup: async (a, c, keyAuth) => {
        const id = idOf(a.identifier.value, c.token);
        this.#own.delete(id);
        await inner.cleanup(a, c, keyAuth);
        await this.#state.withdrawChallenge(id);
      },
    };
  }

  #tick(): void {
    if (this.#stopped) return;
    this.#poll()
      .catch((e: unknown) => {
        if (!this.#failing)
          this.#state.log.error('acme shared storage unreachable; serving the certificates held', {
            storage: this.#state.store.description,
            error: (e as Error).message,
          });
        this.#failing = true;
      })
      .finally(() => {
        if (this.#stopped) return;
        this.#timer = this.#state.scheduler.setTimeout(() => this.#tick(), this.#state.pollIntervalMs);
      });
  }

  async #poll(): Promise<void> {
    const r = await this.#state.read();
    this.#apply(r.challenges);
    await this.#state.heartbeat([...new Set([...this.#synced.keys(), ...this.#own])]);
    if (this.#failing) {
      this.#state.log.info('acme shared storage reachable again', { storage: this.#state.store.description });
      this.#failing = false;
    }
    this.ready = true;
    this.#onRead(r);
  }

  #apply(challenges: ReadonlyMap<string, string>): void {
    for (const [id, keyAuth] of challenges) {
      if (this.#own.has(id) || this.#synced.get(id) === keyAuth) continue;
      const slash = id.indexOf('/');
      const kind = id.slice(0, slash);
      const what = id.slice(slash + 1);
      if (kind === 'http-01') this.#stores.http01.set(what, keyAuth);
      else if (kind === 'tls-alpn-01') {
        try {
          this.#stores.tlsAlpn01.set(what, tlsAlpnChallengeCertificate(what, keyAuth));
        } catch (e) {
          // A name no certificate can carry (written by hand?): skip it, keep the loop going.
          this.#state.log.warn('acme shared challenge ignored', {
            challenge: id,
            error: (e as Error).message,
          });
          continue;
        }
      } else continue;
      this.#synced.set(id, keyAuth);
    }
    for (const id of [...this.#synced.keys()]) {
      if (challenges.has(id)) continue;
      this.#synced.delete(id);
      if (this.#own.has(id)) continue;
      const slash = id.indexOf('/');
      const what = id.slice(slash + 1);
      if (id.startsWith('http-01/')) this.#stores.http01.delete(what);
      else this.#stores.tlsAlpn01.delete(what);
    }
  }
}
