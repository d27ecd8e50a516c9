import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { type FullGc, fullGcs, lastFullGc, watchFullGcs } from './gc-trace.ts';

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
      { ms: 137, bytes: 13.7 * 2 ** 20, committed: 30.9 * 2 ** 20 },
      { ms: 253, bytes: 5.3 * 2 ** 20, committed: 7.0 * 2 ** 20 },
      { ms: 10296, bytes: 17.5 * 2 ** 20, committed: 34.7 * 2 ** 20 },
    ]);
  });

  it('gives the heap after the latest full collection, or 0 before the first', () => {
    assert.equal(lastFullGc(TRACE), 17.5 * 2 ** 20);
    assert.equal(lastFullGc(TRACE.split('\n')[0]!), 0);
    assert.equal(lastFullGc(''), 0);
  });

  it('reports each mark-compact as its line arrives, a line split across chunks included', () => {
    const stream = new PassThrough({ encoding: 'utf8' });
    const seen: FullGc[] = [];
    watchFullGcs(stream, (g) => seen.push(g));
    const lines = TRACE.split('\n');
    stream.write(`${lines[0]}\n${lines[1]!.slice(0, 40)}`);
    assert.equal(seen.length, 0, 'half a line is not a collection yet');
    stream.write(`${lines[1]!.slice(40)}\n${lines[2]}\n`);
    assert.deepEqual(
      seen.map((g) => g.ms),
      [137],
    );
    stream.write(`${lines.slice(3).join('\n')}`);
    assert.deepEqual(seen, fullGcs(TRACE));
  });
});
