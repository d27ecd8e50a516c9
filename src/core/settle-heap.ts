import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * One full, memory-reducing garbage collection, for the moment start-up is over.
 *
 * Loading the code and the first configuration allocates a lot of short-lived objects, and V8
 * grows its young generation for them (to 16 MB here) and then keeps it committed: a sixth of an
 * idle proxy's resident memory. A "last resort" collection, the one V8 runs under memory
 * pressure, shrinks it back (about 11 MB less RSS idle, for one pause of a few tens of ms, once).
 * Under load the young generation grows again as the traffic needs.
 *
 * `gc` is taken from a fresh context after turning on `--expose-gc`, so the process's own global
 * object never gets a `gc` function. Returns the young generation's committed bytes before and
 * after, or null when the collection could not be run.
 */
export function settleHeap(): { readonly before: number; readonly after: number } | null {
  const before = newSpaceSize();
  const gc = exposedGc();
  if (gc === null) return null;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return { before, after: newSpaceSize() };
}

function newSpaceSize(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

let gcFn: ((opts?: object) => void) | null | undefined;

function exposedGc(): ((opts?: object) => void) | null {
  if (gcFn === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as (opts?: object) => void;
    } catch {
      gcFn = null;
    }
  }
  return gcFn;
}

/**
 * A young-generation collection now, before a burst of short-lived allocation (reading and
 * building a whole configuration: tens of MB for a thousand routes). The objects in the young
 * generation at that moment are mostly dead, so it costs about a millisecond, and the burst
 * then starts in an empty young generation: its intermediate objects die there instead of being
 * copied by a collection in the middle of it, promoted to the old generation, and making V8
 * grow both generations (the peak RSS while routes change). Returns false when it cannot run.
 */
export function collectYoung(): boolean {
  const gc = exposedGc();
  if (gc === null) return false;
  gc({ type: 'minor', execution: 'sync' });
  return true;
}

/**
 * Paces old-generation collections while configurations keep changing. Each rebuild replaces
 * the whole state (every provider's configuration, the snapshot, the compiled routers: a few MB
 * for a thousand routes) and the replaced one dies in the old generation; V8 lets that grow to
 * about four times the live heap before it collects (a 25 MB live heap: 100 MB). Called after
 * each applied configuration: once the old generation holds more than `slackBytes` beyond what
 * was live after the last collection here, one full collection (a pause of tens of ms, at most
 * once per `slackBytes` of replaced state; never while only requests run). Returns whether it
 * collected.
 */
export class OldGenerationPacer {
  readonly #slack: number;
  #live = usedHeap();

  constructor(slackBytes = 16 * 1024 * 1024) {
    this.#slack = slackBytes;
  }

  afterRebuild(): boolean {
    const used = usedHeap();
    // A natural collection since: what is used is the new reference.
    if (used < this.#live) this.#live = used;
    if (used < this.#live + this.#slack) return false;
    const gc = exposedGc();
    if (gc === null) return false;
    gc({ type: 'major', execution: 'sync' });
    this.#live = usedHeap();
    return true;
  }
}

/**
 * When to give pages back after configurations stop changing, measured from where the last
 * settling left the heap:
 * - the heap outside the young generation (old, code, large-object spaces) committed more than
 *   `growthBytes` more: replaced states, which only a full collection returns. Always.
 * - or the whole heap did, young generation included (rebuilds grow it, as start-up does), and
 *   the event loop was nearly idle while the changes settled (`loopBusy`, its utilization over
 *   that second, below `IDLE_LOOP`): nothing is serving that would need it.
 * Why not the whole heap alone, as before: `settleHeap` shrinks the young generation, and traffic
 * grows it back to its cap within a minute (two 16 MB semi-spaces as deployed), so under load
 * the heap passed 32 MB again after every settling, and a proxy reloaded every 10 s ran a
 * memory-reducing collection (pauses of ~50 and ~25 ms) every 20–60 s for nothing (found by the
 * soak test, docs/operations.md "Soak"). An idle proxy after a burst of changes still gets the
 * young generation back (the providers benchmark: RSS 3 s after 100 changes to 1,000 routes).
 */
export class ReloadSettler {
  readonly #growth: number;
  #base = committed();

  constructor(growthBytes = 32 * 1024 * 1024) {
    this.#growth = growthBytes;
  }

  /** The settling at start-up happened (or another): the reference is the heap as it is now. */
  reset(): void {
    this.#base = committed();
  }

  /**
   * Settles when the heap grew past the reference as above; the young generation's bytes before
   * and after, or null (not needed, or the collection could not run).
   */
  afterChanges(loopBusy: number): { readonly before: number; readonly after: number } | null {
    const now = committed();
    const grewOutside = now.outsideYoung >= this.#base.outsideYoung + this.#growth;
    const grewYoung = now.total >= this.#base.total + this.#growth && loopBusy < IDLE_LOOP;
    if (!grewOutside && !grewYoung) return null;
    const r = settleHeap();
    this.reset();
    return r;
  }
}

/**
 * Event-loop utilization below which the proxy counts as idle for `ReloadSettler`: a request
 * costs tens of µs, so 5 % is a few hundred requests a second at most.
 */
const IDLE_LOOP = 0.05;

/** Bytes V8 committed for its heap: all of it, and all but the young generation's spaces. */
function committed(): { readonly total: number; readonly outsideYoung: number } {
  let total = 0;
  let young = 0;
  for (const s of getHeapSpaceStatistics()) {
    total += s.space_size;
    if (s.space_name === 'new_space' || s.space_name === 'new_large_object_space') young += s.space_size;
  }
  return { total, outsideYoung: total - young };
}

/** Bytes V8 committed for its heap, but for the young generation's spaces. */
export function committedOutsideYoung(): number {
  return committed().outsideYoung;
}

/** The old generation's bytes in use (the young generation's garbage is not what is paced). */
function usedHeap(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
}
