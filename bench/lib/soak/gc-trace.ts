/**
 * Full collections read from a process's `--trace-gc` output. The heap left after a mark-compact
 * is the live set (plus what the collector chose not to compact): unlike "heap used", which is a
 * sawtooth of garbage, its trend is the leak signal.
 */

export interface FullGc {
  /** Milliseconds since the isolate started (V8's own clock in the trace line). */
  readonly ms: number;
  /** Heap size after the collection, bytes. */
  readonly bytes: number;
  /**
   * Memory V8 holds for its heap after the collection, bytes (every space's pages, the young
   * generation's included): `bytes` plus the free pages V8 keeps.
   */
  readonly committed: number;
}

// `[pid:0x…]  12345 ms: Mark-Compact 45.2 (60.1) -> 30.1 (58.0) MB, …`; V8 writes
// `Mark-Compact (reduce)` for a memory-reducing collection. Scavenges are minor: left out.
const LINE = /\s(\d+(?:\.\d+)?) ms: Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\)/g;

/** Every mark-compact in `text`, in order. */
export function fullGcs(text: string): FullGc[] {
  const out: FullGc[] = [];
  for (const m of text.matchAll(LINE)) {
    out.push({ ms: Number(m[1]), bytes: Number(m[2]) * 2 ** 20, committed: Number(m[3]) * 2 ** 20 });
  }
  return out;
}

/**
 * Calls `onFullGc` for each mark-compact as its line arrives on `stream` (a `--trace-gc` process's
 * stdout, utf8). V8 writes each trace line whole and at once, so the call comes within the
 * reader's event-loop latency of the collection's end.
 */
export function watchFullGcs(stream: NodeJS.ReadableStream, onFullGc: (gc: FullGc) => void): void {
  let partial = '';
  stream.on('data', (d: string | Buffer) => {
    const text = partial + String(d);
    const end = text.lastIndexOf('\n') + 1;
    partial = text.slice(end);
    for (const gc of fullGcs(text.slice(0, end))) onFullGc(gc);
  });
}

/** The heap after the latest mark-compact in `text`, in bytes (0 before the first). */
export function lastFullGc(text: string): number {
  const all = fullGcs(text);
  return all[all.length - 1]?.bytes ?? 0;
}
