import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FamilySet } from './family-set.ts';
import { processCollector } from './process-collector.ts';
import { parseExposition, sampleValue } from './test-exposition-parser.ts';

function collect(wallNow: number) {
  const set = new FamilySet();
  processCollector({ wallNow: () => wallNow })(set.writer());
  return parseExposition(set.render());
}

describe('process collector', () => {
  it('writes the conventional process families with their types', () => {
    const families = collect(Date.now());
    for (const [name, type] of [
      ['process_cpu_seconds_total', 'counter'],
      ['process_resident_memory_bytes', 'gauge'],
      ['process_heap_bytes', 'gauge'],
      ['process_start_time_seconds', 'gauge'],
      ['nodejs_heap_size_used_bytes', 'gauge'],
    ] as const) {
      assert.equal(families.get(name)?.type, type, name);
      assert.ok(sampleValue(families, name)! > 0, `${name} is positive`);
    }
  });

  it("writes the V8 heap by space, under prom-client's names and labels", () => {
    const families = collect(Date.now());
    for (const name of [
      'nodejs_heap_space_size_total_bytes',
      'nodejs_heap_space_size_used_bytes',
      'nodejs_heap_space_size_available_bytes',
    ]) {
      assert.equal(families.get(name)?.type, 'gauge', name);
    }
    const used = families.get('nodejs_heap_space_size_used_bytes')!.samples;
    const bySpace = new Map(used.map((s) => [s.labels['space'], s.value]));
    // Node 24's V8: the old and code spaces always hold something; no label keeps `_space`.
    assert.ok(bySpace.get('old')! > 0, JSON.stringify([...bySpace]));
    assert.ok(bySpace.get('code')! > 0, JSON.stringify([...bySpace]));
    assert.ok(![...bySpace.keys()].some((k) => k?.endsWith('_space')));
    // The spaces add up to what V8 reports as the heap used, read a moment apart.
    const sum = [...bySpace.values()].reduce((a, b) => a + b, 0);
    const heapUsed = sampleValue(families, 'nodejs_heap_size_used_bytes')!;
    assert.ok(Math.abs(sum - heapUsed) < heapUsed * 0.1, `${sum} vs ${heapUsed}`);
  });

  it('derives the start time from the injected wall clock and the process uptime', () => {
    const before = process.uptime();
    const start = sampleValue(collect(1_700_000_000_000), 'process_start_time_seconds')!;
    const after = process.uptime();
    assert.ok(start <= 1_700_000_000 - before + 1e-6 && start >= 1_700_000_000 - after - 1e-6, String(start));
  });

  it('counts open file descriptors and their limit from /proc on Linux', {
    skip: !existsSync('/proc/self/fd'),
  }, () => {
    const families = collect(Date.now());
    const fds = sampleValue(families, 'process_open_fds')!;
    // stdin, stdout and stderr at least; the directory listing's own descriptor is not counted.
    assert.ok(fds >= 3, String(fds));
    assert.ok(sampleValue(families, 'process_max_fds')! >= fds);
    assert.ok(
      sampleValue(families, 'process_virtual_memory_bytes')! > sampleValue(families, 'process_heap_bytes')!,
    );
  });
});
