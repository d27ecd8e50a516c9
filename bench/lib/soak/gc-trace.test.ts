import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fullGcs, lastFullGc } from './gc-trace.ts';

// Lines as Node 24's V8 writes them with --trace-gc (taken from a real run).
const TRACE = `[28952:0x2a86f000]      120 ms: Scavenge (interleaved) 12.0 (16.6) -> 11.8 (27.4) MB, pooled: 0 MB, 4.71 / 0.00 ms  (average mu = 0.453, current mu = 0.324) allocation failure;
[28952:0x2a86f000]      137 ms: Mark-Compact 14.9 (27.4) -> 13.7 (30.9) MB, pooled: 0 MB, 42.90 / 0.00 ms  (+ 2.3 ms in 55 steps since start of marking) finalize incremental marking via stack guard; GC in old space requested
{"level":"info","msg":"configuration applied"}
[28952:0x2a86f000]      253 ms: Mark-Compact (reduce) 22.6 (32.0) -> 5.3 (7.0) MB, pooled: 0 MB, 77.47 / 0.00 ms  allocation failure
[28952:0x2a86f000]    10296 ms: Mark-Compact 20.0 (28.8) -> 17.5 (34.7) MB, pooled: 0 MB, 21.61 / 0.00 ms  allocation failure; scavenge might not succeed
`;

describe('gc-trace', () => {
  it('reads every mark-compact, memory-reducing ones included, and leaves scavenges out', () => {
    assert.deepEqual(fullGcs(TRACE), [
      { ms: 137, bytes: 13.7 * 2 ** 20 },
      { ms: 253, bytes: 5.3 * 2 ** 20 },
      { ms: 10296, bytes: 17.5 * 2 ** 20 },
    ]);
  });

  it('gives the heap after the latest full collection, or 0 before the first', () => {
    assert.equal(lastFullGc(TRACE), 17.5 * 2 ** 20);
    assert.equal(lastFullGc(TRACE.split('\n')[0]!), 0);
    assert.equal(lastFullGc(''), 0);
  });
});
