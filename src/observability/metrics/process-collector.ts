import { readdirSync, readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import type { Collector, MetricWriter, WallClock } from './types.ts';

const NO_LABELS: Readonly<Record<string, string>> = {};
const SPACE_SUFFIX = /_space$/;

/**
 * The conventional unprefixed `process_*` families (the names the Go and Node clients use, so that
 * stock dashboards work), plus the V8 heap. Linux figures come from /proc, read synchronously:
 * a scrape reads a few hundred bytes from procfs, which never blocks on a disk.
 */
export function processCollector(clock: WallClock): Collector {
  const startSeconds = (clock.wallNow() - process.uptime() * 1000) / 1000;
  return (w: MetricWriter) => {
    const cpu = process.cpuUsage();
    w.counter(
      'process_cpu_seconds_total',
      'User and system CPU time spent, in seconds.',
      NO_LABELS,
      (cpu.user + cpu.system) / 1e6,
    );
    const memory = process.memoryUsage();
    w.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', NO_LABELS, memory.rss);
    const status = procStatus();
    w.gauge(
      'process_heap_bytes',
      'Process heap size in bytes (VmData; the V8 heap total where /proc is missing).',
      NO_LABELS,
      status?.get('VmData') ?? memory.heapTotal,
    );
    const virtual = status?.get('VmSize');
    if (virtual !== undefined) {
      w.gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', NO_LABELS, virtual);
    }
    w.gauge('nodejs_heap_size_total_bytes', 'V8 heap size in bytes.', NO_LABELS, memory.heapTotal);
    w.gauge('nodejs_heap_size_used_bytes', 'V8 heap used in bytes.', NO_LABELS, memory.heapUsed);
    w.gauge(
      'nodejs_external_memory_bytes',
      'Memory of C++ objects bound to JS, in bytes.',
      NO_LABELS,
      memory.external,
    );
    // By V8 space, under prom-client's names and labels (`space` without `_space`), so that Node
    // dashboards work. The code spaces (`code`, `trusted`: machine code, bytecode and their
    // metadata) tell the JIT's growth from the objects' in a long run (docs/operations.md, soak).
    for (const space of getHeapSpaceStatistics()) {
      const labels = { space: space.space_name.replace(SPACE_SUFFIX, '') };
      w.gauge(
        'nodejs_heap_space_size_total_bytes',
        'V8 heap space size in bytes, by space.',
        labels,
        space.space_size,
      );
      w.gauge(
        'nodejs_heap_space_size_used_bytes',
        'V8 heap space used in bytes, by space.',
        labels,
        space.space_used_size,
      );
      w.gauge(
        'nodejs_heap_space_size_available_bytes',
        'V8 heap space available in bytes, by space.',
        labels,
        space.space_available_size,
      );
    }
    const fds = openFds();
    if (fds !== undefined) w.gauge('process_open_fds', 'Number of open file descriptors.', NO_LABELS, fds);
    const maxFds = maxOpenFiles();
    if (maxFds !== undefined) {
      w.gauge('process_max_fds', 'Maximum number of open file descriptors.', NO_LABELS, maxFds);
    }
    w.gauge(
      'process_start_time_seconds',
      'Start time of the process since the Unix epoch, in seconds.',
      NO_LABELS,
      startSeconds,
    );
  };
}

/** `VmData:  428 kB` lines of /proc/self/status, in bytes; undefined off Linux. */
function procStatus(): Map<string, number> | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/status', 'latin1');
  } catch {
    return undefined;
  }
  const out = new Map<string, number>();
  for (const match of text.matchAll(/^(Vm\w+):\s+(\d+) kB$/gm)) {
    out.set(match[1]!, Number(match[2]) * 1024);
  }
  return out;
}

function openFds(): number | undefined {
  try {
    // The listing itself holds one descriptor open on the directory while it reads it.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return undefined;
  }
}

function maxOpenFiles(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}
