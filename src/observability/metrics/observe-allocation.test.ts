import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { GET, requestHead } from './test-request-head.ts';
import { TrafficMetrics } from './traffic-metrics.ts';
import type { RequestSeries } from './types.ts';

/**
 * Bytes allocated on the V8 heap while `fn` runs: the growth of the used heap plus whatever the
 * collections during the run freed (a heap-size delta alone would miss garbage already collected).
 */
function allocatedBy(fn: () => void): number {
  const profiler = new GCProfiler();
  const before = getHeapStatistics().used_heap_size;
  profiler.start();
  fn();
  const report = profiler.stop();
  const after = getHeapStatistics().used_heap_size;
  let freed = 0;
  for (const gc of report.statistics) {
    freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
  }
  return after - before + freed;
}

const POST_GRPC = requestHead('POST', [
  ['accept', 'text/html,application/xhtml+xml'],
  ['content-type', 'application/grpc+proto'],
]);

/** A request over TLS: its connection's labels are found by a lookup, never rebuilt. */
const TLS_GET = {
  ...requestHead('GET'),
  tls: {
    getPeerX509Certificate: () => undefined,
    getProtocol: () => 'TLSv1.3',
    getCipher: () => ({ name: '', standardName: 'TLS_AES_128_GCM_SHA256', version: '' }),
  },
};

// The literal doubles are constants: the loop itself must not box a number per call.
function hammer(series: RequestSeries, calls: number): void {
  for (let i = 0; i < calls; i++) {
    series.observe(200, 0.05, 120, 4096, GET, null);
    series.observe(503, 2.5, 0, 12, POST_GRPC, null);
    series.observe(200, 0.01, 10, 10, TLS_GET, null);
    series.retry();
  }
}

describe('request series cost', () => {
  it('allocates nothing per observe or retry once warm, whatever the method, protocol and TLS', () => {
    const metrics = new TrafficMetrics({
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      addEntryPointsLabels: true,
      addRoutersLabels: true,
      addServicesLabels: true,
      processMetrics: false,
    });
    const series = metrics.requestSeries('web', 'api@file', 'app@file');
    // Warm-up lets the optimizing compiler take over: interpreted float adds box their results.
    hammer(series, 300_000);
    const calls = 300_000;
    const bytes = allocatedBy(() => hammer(series, calls));
    // One boxed number per call would be 16 bytes; allow noise from the profiler and the JIT.
    assert.ok(bytes < calls, `allocated ${bytes} bytes over ${calls * 4} calls`);
    const text = metrics.render();
    assert.match(text, /traefik_service_retries_total\{service="app@file"\} 600000/);
    assert.match(
      text,
      /traefik_service_requests_tls_total\{service="app@file",tls_cipher="[^"]*",tls_version="1.3"\} 600000/,
    );
  });
});
