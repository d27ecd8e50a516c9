import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, silentLogger } from '../core/logger.ts';
import {
  BUSY_LOOP,
  CALM_SAMPLES,
  LATE_SAMPLES,
  MIN_CPU_SHARE,
  OverloadManager,
  type OverloadSettings,
  type PressureSample,
  SHED_EVENT_LOOP,
  SHED_HEAP,
} from './overload-manager.ts';

const LIMITS: OverloadSettings = {
  maxEventLoopDelayMs: 200,
  maxHeapUsedRatio: 0.8,
  maxRequestBodyBytes: 1000,
  retryAfterSeconds: 1,
};

const GB = 1024 ** 3;
const calm: PressureSample = {
  eventLoopDelayMs: 5,
  eventLoopUtilization: 0.2,
  cpuShare: 0.2,
  heapUsedBytes: 0.1 * GB,
  heapLimitBytes: GB,
};
/** A busy loop that lags `ms`: our own overload. */
const lagging = (ms: number): PressureSample => ({
  ...calm,
  eventLoopDelayMs: ms,
  eventLoopUtilization: 0.95,
  cpuShare: 0.9,
});
const heapAt = (ratio: number): PressureSample => ({ ...calm, heapUsedBytes: ratio * GB });

describe('OverloadManager: pressure signals', () => {
  it('sheds once the loop was busy and late LATE_SAMPLES samples in a row, not at the limit itself', () => {
    const m = new OverloadManager(LIMITS, silentLogger);
    m.observe(lagging(200));
    m.observe(lagging(200));
    assert.equal(m.shedding, 0, 'at the limit');
    for (let i = 1; i < LATE_SAMPLES; i++) m.observe(lagging(201));
    assert.equal(m.shedding, 0, 'one long turn is not sustained overload');
    m.observe(lagging(201));
    assert.equal(m.shedding, SHED_EVENT_LOOP);
    assert.equal(m.lateSamples, LATE_SAMPLES);
  });

  it('needs the late samples in a row: a calm one in between starts the count again', () => {
    const m = new OverloadManager(LIMITS, silentLogger);
    for (let i = 0; i < 5; i++) {
      m.observe(lagging(900));
      m.observe(calm);
    }
    assert.equal(m.shedding, 0);
  });

  it('does not shed for a delay while the loop was idle: the host did not run the process', () => {
    const m = new OverloadManager(LIMITS, silentLogger);
    for (let i = 0; i < 10; i++) m.observe({ ...lagging(2000), eventLoopUtilization: 0.01 });
    assert.equal(m.shedding, 0, 'a stopped or starved process that had nothing to do');
    assert.equal(m.lateSamples, 10, 'counted all the same');
    for (let i = 0; i < LATE_SAMPLES; i++) m.observe({ ...lagging(2000), eventLoopUtilization: BUSY_LOOP });
    assert.equal(m.shedding, SHED_EVENT_LOOP, 'busy half the window or more: our own load');
  });

  it('does not shed for a "busy" loop whose thread hardly ran: stopped or starved in the middle of a turn', () => {
    const m = new OverloadManager(LIMITS, silentLogger);
    // Utilization counts a runnable thread as busy; its CPU time tells it did not run.
    const starved = { ...lagging(1000), eventLoopUtilization: 1, cpuShare: 0.05 };
    for (let i = 0; i < 10; i++) m.observe(starved);
    assert.equal(m.shedding, 0);
    assert.equal(m.lateSamples, 10, 'counted all the same');
    for (let i = 0; i < LATE_SAMPLES; i++) m.observe({ ...starved, cpuShare: MIN_CPU_SHARE });
    assert.equal(m.shedding, SHED_EVENT_LOOP, 'a thread that ran MIN_CPU_SHARE of the window or more');
  });

  it('stops shedding only after CALM_SAMPLES samples in a row under the limit', () => {
    const m = new OverloadManager(LIMITS, silentLogger);
    for (let i = 0; i < LATE_SAMPLES; i++) m.observe(lagging(900));
    for (let i = 1; i < CALM_SAMPLES; i++) {
      m.observe(calm);
      assert.equal(m.shedding, SHED_EVENT_LOOP, `still shedding after ${i} calm samples`);
    }
    // A late sample, even with an idle loop, starts the count again.
    m.observe({ ...lagging(300), eventLoopUtilization: 0 });
    for (let i = 1; i < CALM_SAMPLES; i++) m.observe(calm);
    assert.equal(m.shedding, SHED_EVENT_LOOP);
    m.observe(calm);
    assert.equal(m.shedding, 0);
  });

  it('sheds while the heap in use is above its share of the heap limit, each signal on its own bit', () => {
    const m = new OverloadManager(LIMITS, silentLogger);
    m.observe(heapAt(0.8));
    assert.equal(m.shedding, 0);
    m.observe(heapAt(0.81));
    assert.equal(m.shedding, SHED_HEAP, 'one sample is enough: the heap is a level, not a spike');
    for (let i = 0; i < LATE_SAMPLES; i++)
      m.observe({ ...heapAt(0.9), eventLoopDelayMs: 500, eventLoopUtilization: 1, cpuShare: 1 });
    assert.equal(m.shedding, SHED_HEAP | SHED_EVENT_LOOP);
    for (let i = 0; i < CALM_SAMPLES; i++) m.observe(heapAt(0.9));
    assert.equal(m.shedding, SHED_HEAP, 'the loop recovered, the heap did not');
  });

  it('ignores a signal whose limit is 0', () => {
    const m = new OverloadManager({ ...LIMITS, maxEventLoopDelayMs: 0, maxHeapUsedRatio: 0 }, silentLogger);
    for (let i = 0; i < 5; i++)
      m.observe({
        eventLoopDelayMs: 60_000,
        eventLoopUtilization: 1,
        cpuShare: 1,
        heapUsedBytes: GB,
        heapLimitBytes: GB,
      });
    assert.equal(m.shedding, 0);
  });

  it('copies the state into every gate that follows it, and counts each episode once', () => {
    const m = new OverloadManager(LIMITS, silentLogger);
    const a = { shedding: -1 };
    const b = { shedding: -1 };
    m.follow(a);
    assert.equal(a.shedding, 0, 'a gate starts with the current state');
    for (let i = 0; i < LATE_SAMPLES; i++) m.observe(lagging(500));
    m.follow(b);
    assert.deepEqual([a.shedding, b.shedding], [SHED_EVENT_LOOP, SHED_EVENT_LOOP]);
    m.observe(lagging(600));
    assert.equal(m.episodes.eventLoop, 1);
    for (let i = 0; i < CALM_SAMPLES; i++) m.observe(calm);
    assert.deepEqual([a.shedding, b.shedding], [0, 0]);
    for (let i = 0; i < LATE_SAMPLES; i++) m.observe(lagging(600));
    assert.equal(m.episodes.eventLoop, 2);
    assert.equal(m.episodes.heap, 0);
  });

  it('logs when shedding starts and when it stops, with the signals', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: 'info',
      format: 'json',
      write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
    });
    const m = new OverloadManager(LIMITS, logger);
    m.observe(lagging(450));
    m.observe(lagging(460));
    for (let i = 0; i < CALM_SAMPLES; i++) m.observe(calm);
    assert.deepEqual(
      lines.map((l) => [l['level'], l['msg'], l['signals']]),
      [
        ['warn', 'overload: shedding new requests', ['event_loop_delay']],
        ['info', 'overload: pressure is over, admitting every request', []],
      ],
    );
    assert.equal(lines[0]!['eventLoopDelayMs'], 460, 'the sample that started it');
  });
});

describe('OverloadManager: request-body budget', () => {
  it('takes bytes while they fit, refuses what does not, and takes them back', () => {
    const m = new OverloadManager(LIMITS, silentLogger);
    assert.equal(m.takeBody(600), true);
    assert.equal(m.takeBody(400), true);
    assert.equal(m.takeBody(1), false);
    assert.equal(m.bodyBytes, 1000, 'a refusal takes nothing');
    m.giveBody(400);
    assert.equal(m.takeBody(300), true);
    m.forceBody(500);
    assert.equal(m.bodyBytes, 1400, 'forced bytes count beyond the limit');
    assert.equal(m.takeBody(1), false);
  });

  it('counts without limit when maxRequestBodyBytes is 0', () => {
    const m = new OverloadManager({ ...LIMITS, maxRequestBodyBytes: 0 }, silentLogger);
    assert.equal(m.takeBody(10 * GB), true);
    assert.equal(m.bodyBytes, 10 * GB);
  });
});
