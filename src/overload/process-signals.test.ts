import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loopDelayResolution, ProcessSignals, SAMPLE_INTERVAL_MS } from './process-signals.ts';

/** Keeps the event loop busy for `ms` (the stimulus: a turn that takes long). */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('ProcessSignals', () => {
  it("reports a loop turn that kept the sampler from running, and the process's heap", async (t) => {
    // The loop must be running: node reports no utilization before its first turn.
    await new Promise((r) => setImmediate(r));
    const s = new ProcessSignals(500);
    t.after(() => s.stop());
    s.start(() => {});
    s.read();
    block(SAMPLE_INTERVAL_MS + 200);
    const r = s.read();
    assert.ok(r.eventLoopDelayMs >= 200, `delay ${r.eventLoopDelayMs} ms`);
    assert.ok(r.eventLoopUtilization > 0.5, `the loop was busy: ${r.eventLoopUtilization}`);
    // Not more: how much CPU a busy loop gets is the host's to say (a loaded machine gives less).
    assert.ok(r.cpuShare > 0 && r.cpuShare <= 1.1, `the thread ran: ${r.cpuShare}`);
    assert.ok(r.heapUsedBytes > 0 && r.heapLimitBytes > r.heapUsedBytes);
  });

  it('forgets a delay it is told is our own', (t) => {
    const s = new ProcessSignals(500);
    t.after(() => s.stop());
    s.start(() => {});
    s.read();
    block(SAMPLE_INTERVAL_MS + 200);
    s.forgive();
    assert.equal(s.read().eventLoopDelayMs, 0);
  });

  it('times the loop at a tenth of the limit, between 20 and 100 ms, and not at all without one', () => {
    assert.equal(loopDelayResolution(500), 50);
    assert.equal(loopDelayResolution(100), 20);
    assert.equal(loopDelayResolution(5_000), 100);
    assert.equal(loopDelayResolution(0), null);
  });

  it('sees a long turn with the coarser timer', async (t) => {
    await new Promise((r) => setImmediate(r));
    const s = new ProcessSignals(1_000);
    t.after(() => s.stop());
    let seen = 0;
    s.start((x) => {
      seen = Math.max(seen, x.eventLoopDelayMs);
    });
    // Let the 100 ms loop-delay timer fire once, so the block below delays a due firing.
    await new Promise((r) => setTimeout(r, 120));
    s.read();
    block(300);
    // The loop-delay timer records the delay when it fires, right after the blocked turn (the
    // sampler's own timer may read it first: both count).
    await new Promise((r) => setTimeout(r, 5));
    seen = Math.max(seen, s.read().eventLoopDelayMs);
    // The sampler's own lateness alone would say ~55 ms (a 305 ms window against 250).
    assert.ok(seen >= 190, `delay ${seen} ms`);
  });

  it('measures only the heap without a delay limit', (t) => {
    const s = new ProcessSignals(0);
    t.after(() => s.stop());
    s.start(() => {});
    s.read();
    block(100);
    const r = s.read();
    assert.equal(r.eventLoopDelayMs, 0);
    assert.ok(r.heapUsedBytes > 0);
  });
});
