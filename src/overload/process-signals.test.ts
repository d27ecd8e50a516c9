import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProcessSignals, SAMPLE_INTERVAL_MS } from './process-signals.ts';

/** Keeps the event loop busy for `ms` (the stimulus: a turn that takes long). */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('ProcessSignals', () => {
  it("reports a loop turn that kept the sampler from running, and the process's heap", async (t) => {
    // The loop must be running: node reports no utilization before its first turn.
    await new Promise((r) => setImmediate(r));
    const s = new ProcessSignals();
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
    const s = new ProcessSignals();
    t.after(() => s.stop());
    s.start(() => {});
    s.read();
    block(SAMPLE_INTERVAL_MS + 200);
    s.forgive();
    assert.equal(s.read().eventLoopDelayMs, 0);
  });
});
