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
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (opts?: object) => void;
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  } catch {
    return null;
  }
  return { before, after: newSpaceSize() };
}

function newSpaceSize(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

let minor: ((opts?: object) => void) | null | undefined;

/**
 * A young-generation collection now, before a burst of short-lived allocation (reading and
 * building a whole configuration: tens of MB for a thousand routes). The objects in the young
 * generation at that moment are mostly dead, so it costs about a millisecond, and the burst
 * then starts in an empty young generation: its intermediate objects die there instead of being
 * copied by a collection in the middle of it, promoted to the old generation, and making V8
 * grow both generations (the peak RSS while routes change). Returns false when it cannot run.
 */
export function collectYoung(): boolean {
  if (minor === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      minor = runInNewContext('gc') as (opts?: object) => void;
    } catch {
      minor = null;
    }
  }
  if (minor === null) return false;
  minor({ type: 'minor', execution: 'sync' });
  return true;
}
