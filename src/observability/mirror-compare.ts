/**
 * Compare mode for mirroring (Traefik's `mirroring` only discards mirror responses): each mirror's
 * response is compared with the primary's on status, selected headers and body digest, so that a
 * new version of a service can be checked against live traffic before it takes any.
 */
import type { Logger } from '../core/logger.ts';

/** What one side of a mirrored exchange answered (the primary or a mirror). */
export interface MirrorResult {
  readonly ok: boolean;
  /** 0 on error. */
  readonly status: number;
  /** Only the selected (lowercase) names; several fields of one name are joined with ", ". */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** sha256 hex of the decoded body (chunk framing removed) when a digest was requested. */
  readonly digest: string | null;
  readonly error: string | null;
  /** Body bytes received (decoded). */
  readonly bytes: number;
}

export interface CompareOptions {
  /** Lowercase names of the response headers compared. */
  readonly headers: readonly string[];
  /** Compare sha256 digests of the bodies. */
  readonly body: boolean;
  /** Mismatch examples logged per mirror (DEFAULT_MAX_EXAMPLES by default); after that only counters. */
  readonly maxExamples: number;
}

export const DEFAULT_MAX_EXAMPLES = 10;

/** A summary line with the counters every this many comparisons per mirror. */
export const SUMMARY_EVERY = 1000;

/**
 * Counters per mirror. A comparison with several differences counts once in `compared` and once
 * in each mismatch kind it shows; `matched` counts comparisons without any difference. A mirror
 * error counts in `errors` only (whatever the primary did); a failed primary or a skipped mirror
 * counts nowhere.
 */
export interface MirrorStats {
  compared: number;
  matched: number;
  mismatchedStatus: number;
  mismatchedHeaders: number;
  mismatchedBody: number;
  errors: number;
}

interface MirrorState {
  readonly name: string;
  /** Shared by mirrors of the same name, so that their counters add up. */
  readonly stats: MirrorStats;
  examples: number;
}

/** Built once per mirroring service (per snapshot); begin() per mirrored request. */
export class MirrorComparator {
  readonly service: string;
  readonly options: CompareOptions;
  readonly logger: Logger;
  /** Per mirror index. */
  readonly mirrors: readonly MirrorState[];
  readonly #byName = new Map<string, MirrorStats>();

  constructor(service: string, mirrors: readonly string[], opts: CompareOptions, logger: Logger) {
    this.service = service;
    this.options = opts;
    this.logger = logger;
    const states: MirrorState[] = [];
    for (const name of mirrors) {
      let stats = this.#byName.get(name);
      if (stats === undefined) {
        stats = {
          compared: 0,
          matched: 0,
          mismatchedStatus: 0,
          mismatchedHeaders: 0,
          mismatchedBody: 0,
          errors: 0,
        };
        this.#byName.set(name, stats);
      }
      states.push({ name, stats, examples: 0 });
    }
    this.mirrors = states;
  }

  begin(method: string, path: string): Comparison {
    return new Comparison(this, method, path);
  }

  /** A copy of the counters, keyed by mirror name. */
  stats(): Readonly<Record<string, MirrorStats>> {
    const out: Record<string, MirrorStats> = {};
    for (const [name, s] of this.#byName) out[name] = { ...s };
    return out;
  }

  /** Compares one pair; the primary is known to be ok. */
  compare(index: number, method: string, path: string, p: MirrorResult, m: MirrorResult): void {
    const state = this.mirrors[index]!;
    const stats = state.stats;
    stats.compared++;
    const opts = this.options;
    const statusDiffers = p.status !== m.status;
    let headerDiffs: Record<string, [string | undefined, string | undefined]> | null = null;
    const names = opts.headers;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const pv = p.headers[name];
      const mv = m.headers[name];
      if (pv !== mv) {
        if (headerDiffs === null) headerDiffs = {};
        headerDiffs[name] = [pv, mv];
      }
    }
    const bodyDiffers = opts.body && p.digest !== m.digest;
    if (stats.compared % SUMMARY_EVERY === 0) {
      // Counters reach the log even after the examples stop: one line per SUMMARY_EVERY pairs.
      this.logger.info('mirror comparison', { service: this.service, mirror: state.name, ...stats });
    }
    if (!statusDiffers && headerDiffs === null && !bodyDiffers) {
      stats.matched++;
      return;
    }
    if (statusDiffers) stats.mismatchedStatus++;
    if (headerDiffs !== null) stats.mismatchedHeaders++;
    if (bodyDiffers) stats.mismatchedBody++;
    if (state.examples >= opts.maxExamples) return;
    state.examples++;
    const fields: Record<string, unknown> = {
      service: this.service,
      mirror: state.name,
      method,
      path,
      status: [p.status, m.status],
      headers: headerDiffs ?? {},
    };
    if (opts.body) fields['body'] = [p.digest, m.digest];
    fields['counts'] = { ...stats };
    this.logger.warn('mirror mismatch', fields);
  }

  /** A mirror failed: counted, not compared. */
  error(index: number, method: string, path: string, m: MirrorResult): void {
    const state = this.mirrors[index]!;
    state.stats.errors++;
    if (this.logger.enabled('debug')) {
      this.logger.debug('mirror error', {
        service: this.service,
        mirror: state.name,
        method,
        path,
        error: m.error,
      });
    }
  }
}

const PENDING = 0;
const SETTLED = 1;

/**
 * The primary and mirror results of one request, arriving in any order. Each pair is compared as
 * soon as both sides are in; then the mirror's result is dropped. Calls that repeat, come after a
 * skip, or name an index out of range are ignored: a mirror must never make the request fail.
 */
export class Comparison {
  readonly #cmp: MirrorComparator;
  readonly #method: string;
  readonly #path: string;
  #primary: MirrorResult | null = null;
  /** Per mirror: a result waiting for the primary, or PENDING / SETTLED. */
  readonly #slots: (MirrorResult | number)[];

  constructor(cmp: MirrorComparator, method: string, path: string) {
    this.#cmp = cmp;
    this.#method = method;
    this.#path = path;
    this.#slots = new Array<MirrorResult | number>(cmp.mirrors.length).fill(PENDING);
  }

  primary(r: MirrorResult): void {
    if (this.#primary !== null) return;
    this.#primary = r;
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i++) {
      const m = slots[i];
      if (typeof m !== 'object') continue;
      slots[i] = SETTLED;
      if (r.ok) this.#cmp.compare(i, this.#method, this.#path, r, m);
    }
  }

  mirror(index: number, r: MirrorResult): void {
    if (this.#slots[index] !== PENDING) return;
    if (!r.ok) {
      // A mirror error is about the mirror alone: count it without waiting for the primary.
      this.#slots[index] = SETTLED;
      this.#cmp.error(index, this.#method, this.#path, r);
      return;
    }
    const p = this.#primary;
    if (p === null) {
      this.#slots[index] = r;
      return;
    }
    this.#slots[index] = SETTLED;
    if (p.ok) this.#cmp.compare(index, this.#method, this.#path, p, r);
  }

  /** The mirror was not sent (percent sampling, body too large). */
  skip(index: number): void {
    if (this.#slots[index] === PENDING) this.#slots[index] = SETTLED;
  }

  /** True once the primary is in and every mirror was compared, counted or skipped. */
  get settled(): boolean {
    if (this.#primary === null) return false;
    for (const s of this.#slots) if (s !== SETTLED) return false;
    return true;
  }
}
