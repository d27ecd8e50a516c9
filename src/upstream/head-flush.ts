/**
 * Request heads without a body are written to their upstream sockets at the end of the event
 * loop's I/O turn (`setImmediate`: the check phase right after the poll phase), all together,
 * instead of one by one as each client request is parsed.
 *
 * Why: a `write(2)` to an upstream that runs on the same host wakes it, and a woken server on
 * the proxy's core often preempts the proxy at once, serves that one request and sleeps again:
 * two context switches per request. Written together, the heads of one turn wake it once and it
 * serves them in one go. Measured under `npm run bench` (proxy and backend on one core, wrk
 * -c50): context switches 111k → 62–68k per 6 s, CPU per request −2.3 µs (docs/performance.md,
 * "Upstream heads written at the end of the turn"). The cost is latency for the first heads of
 * a turn: they wait for the rest of the turn's reads (tens of µs at full load, ~0 when a turn
 * carries one request). Netty's FlushConsolidationHandler makes the same trade.
 */

/** What a queued connection does when its turn's heads go out. */
export interface HeadWriter {
  /** Writes its pending head now, if it still has one (it may have been destroyed since). */
  flushHead(): void;
}

const queued: HeadWriter[] = [];
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  // A flush cannot queue another head (a head is queued by a request parsed, never by a
  // write), but a write error handler might: take this turn's list as it is.
  const n = queued.length;
  for (let i = 0; i < n; i++) queued[i]!.flushHead();
  // Emptied in place as a rule; splice (which returns a new array of what it removed) only when
  // a handler queued more.
  if (queued.length === n) queued.length = 0;
  else queued.splice(0, n);
}

/** Queues `w` to write its head at the end of this turn. */
export function queueHead(w: HeadWriter): void {
  queued.push(w);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}
