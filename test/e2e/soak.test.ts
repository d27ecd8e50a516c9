/**
 * The soak's 2-minute variant (bench/soak.ts runs the long one: `npm run soak -- --minutes 30`):
 * the real proxy under mixed traffic (keep-alive, a new connection per request, HTTP/2 streams,
 * WebSockets), its configuration rewritten every 10 s, a server of one route stopped and started
 * every 30 s. What it asserts is memory and descriptors, never time:
 *
 * - the heap left after each full garbage collection (the live set) grows by no more than
 *   LIVE_HEAP_GROWTH_MAX between the end of the warm-up and the end (the least-squares trend over
 *   every full collection, times the window). The proxy runs with a 64 MB old generation so that
 *   V8 collects fully every few seconds; with its default heap it collects lazily and RSS climbs
 *   for minutes before it levels off (docs/operations.md#soak), which says nothing about leaks.
 *   A leak of 100 bytes per request at this load (~1,000 requests/s here) would add ~8 MB;
 * - RSS grows by no more than RSS_GROWTH_MAX over the same window, read at each full collection
 *   less the free pages V8 keeps for its heap ("RSS less free V8 heap", bench/lib/soak/run-soak.ts
 *   seriesOf): RSS itself swung by ~25 MiB as the proxy shrank V8's young generation after
 *   reloads and V8 grew it back, which made its trend over 80 s anything from -6 to +26 MiB
 *   (until the settling after reloads stopped counting the young generation under traffic:
 *   ReloadSettler).
 *   What the process holds outside V8's heap, plus the live set, does not swing with that, and
 *   grows with a leak off the heap (buffers, native memory) as RSS does; a leak of 512 bytes per
 *   request in buffers added ~60 MiB;
 * - descriptors and client connections stay level, and come back to their idle counts once the
 *   traffic is gone; WebSocket tunnels stay at the number of WebSocket clients, then at 0;
 * - no request is lost: the only failures are the flapping server's, each a classified 502/503/504
 *   with its log line; every reload is applied; nothing else is logged as an error.
 *
 * Bounds are on growth (bytes, counts), never on time: a slower machine sends fewer requests,
 * which can only make the growth smaller.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReport } from '../../bench/lib/soak/report.ts';
import { IDLE_FD_SLACK, runSoak, type SoakResult } from '../../bench/lib/soak/run-soak.ts';

const MIB = 2 ** 20;
/** Measured here: 0.3–0.6 MiB after the warm-up (JIT code and caches still settling). */
const LIVE_HEAP_GROWTH_MAX = 4 * MIB;
/** Measured here: RSS less free V8 heap, -2.4 to +4.8 MiB (RSS at the samples: -6 to +25). */
const RSS_GROWTH_MAX = 24 * MIB;
/** Spread of descriptors and client connections at the samples (clients between two requests). */
const LEVEL_SPREAD_MAX = 8;

describe('soak: 2 minutes of mixed traffic, reloads and a flapping server', () => {
  let result: SoakResult;

  it('runs', { timeout: 6 * 60_000 }, async (t) => {
    result = await runSoak({
      durationS: 120,
      warmupS: 40,
      sampleEveryS: 10,
      reloadEveryS: 10,
      flapEveryS: 30,
      idleConnTimeout: '2s',
      traceGc: true,
      maxOldSpaceMb: 64,
      maxSemiSpaceMb: 16,
    });
    t.diagnostic(formatReport(result));
  });

  const series = (name: string) => {
    const s = result.series.find((x) => x.name === name);
    assert.ok(s !== undefined, name);
    return s;
  };

  it('keeps the live heap and RSS level after warm-up', () => {
    const live = series('heap after full GC');
    assert.ok(live.samples >= 5 && live.min > 0, `${live.samples} full collections after warm-up`);
    assert.ok(
      live.trendOverWindow <= LIVE_HEAP_GROWTH_MAX,
      `live heap grew ${(live.trendOverWindow / MIB).toFixed(2)} MiB after warm-up (at most ${LIVE_HEAP_GROWTH_MAX / MIB})`,
    );
    // The same less V8's code spaces (the proxy's nodejs_heap_space_size_used_bytes): what is
    // left is objects, which the JIT's slow compiling of cold paths does not touch.
    const code = series('V8 code and bytecode');
    assert.ok(
      code.min > 0 && code.max < live.max,
      `code ${code.min}–${code.max}, live set up to ${live.max}`,
    );
    const objects = series('heap after full GC less code');
    assert.ok(objects.samples >= 5 && objects.min > 0, `${objects.samples} samples after warm-up`);
    assert.ok(
      objects.trendOverWindow <= LIVE_HEAP_GROWTH_MAX,
      `live heap less code grew ${(objects.trendOverWindow / MIB).toFixed(2)} MiB after warm-up (at most ${LIVE_HEAP_GROWTH_MAX / MIB})`,
    );
    const rss = series('RSS less free V8 heap');
    assert.ok(rss.samples >= 5, `${rss.samples} full collections after warm-up`);
    assert.ok(
      rss.trendOverWindow <= RSS_GROWTH_MAX,
      `RSS less free V8 heap grew ${(rss.trendOverWindow / MIB).toFixed(2)} MiB after warm-up (at most ${RSS_GROWTH_MAX / MIB})`,
    );
  });

  it('keeps descriptors, connections and tunnels level, and goes back to idle', () => {
    const fds = series('file descriptors');
    assert.ok(fds.max - fds.min <= LEVEL_SPREAD_MAX, `descriptors ranged ${fds.min}–${fds.max}`);
    const conns = series('client connections');
    assert.ok(conns.min > 0, 'the proxy counted the clients');
    assert.ok(
      conns.max - conns.min <= LEVEL_SPREAD_MAX,
      `client connections ranged ${conns.min}–${conns.max}`,
    );
    const tunnels = series('WebSocket tunnels');
    assert.deepEqual([tunnels.min, tunnels.max], [4, 4]);
    const { before, after } = result.idle;
    assert.ok(
      after.fds <= before.fds + IDLE_FD_SLACK,
      `idle descriptors ${before.fds} before, ${after.fds} after`,
    );
    assert.equal(after.connections, before.connections, 'client connections once idle');
    assert.equal(after.tunnels, 0, 'tunnels once idle');
  });

  it('loses no request: only the flapping server fails, each failure classified and logged', () => {
    for (const kind of ['keepAlive', 'newConnection', 'h2', 'webSocket'] as const) {
      const s = result.traffic[kind];
      assert.ok(s.ok > 0, kind);
      assert.deepEqual(
        { statuses: s.statuses, errors: s.errors },
        { statuses: {}, errors: 0 },
        `${kind}: ${s.errorSamples.join('; ')}`,
      );
    }
    const flap = result.traffic.flap;
    assert.equal(flap.errors, 0, flap.errorSamples.join('; '));
    let failed = 0;
    for (const [status, n] of Object.entries(flap.statuses)) {
      assert.ok(['502', '503', '504'].includes(status), `flap route answered ${status}`);
      failed += n;
    }
    // The flapping was real: the server took traffic, and the proxy saw it go down and come back.
    assert.ok(result.flaps >= 3, `${result.flaps} stops and starts`);
    assert.ok(result.flappyServed > 0, 'the flapping server took traffic');
    assert.ok(
      result.healthChanges.down >= 1 && result.healthChanges.up >= 1,
      JSON.stringify(result.healthChanges),
    );
    const logged = Object.values(result.failuresLogged).reduce((a, b) => a + b, 0);
    assert.ok(logged >= failed, `${failed} failed requests, ${logged} "request failed" lines`);
    assert.deepEqual(result.otherErrors, []);
  });

  it('applies every reload and exits cleanly', () => {
    assert.ok(result.reloads >= 10);
    assert.equal(result.reloadsApplied, result.reloads);
    assert.equal(result.proxyExit, 0);
  });
});
