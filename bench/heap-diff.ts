// `node bench/heap-diff.ts EARLIER.heapsnapshot LATER.heapsnapshot [--top 30] [--paths KIND]`:
// what grew between two heap snapshots of one process, by kind of node, and which nodes are new
// in the later one (bench/lib/heap-diff.ts). `--paths 'object|Exchange'` prints a holder chain
// for a few of that kind's new nodes. The soak takes such snapshots with --heap-snapshots.
import { parseArgs } from 'node:util';
import { diffByKind, formatRows, isNewIn, newByKind, readSnapshot, retainerPath } from './lib/heap-diff.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' }, paths: { type: 'string' }, help: { type: 'boolean' } },
});
if (values.help === true || positionals.length !== 2) {
  process.stdout.write(
    'node bench/heap-diff.ts EARLIER.heapsnapshot LATER.heapsnapshot [--top 30] [--paths TYPE|NAME]\n',
  );
  process.exit(values.help === true ? 0 : 2);
}
const top = Number(values.top);
const earlier = readSnapshot(positionals[0]!);
const later = readSnapshot(positionals[1]!);
const byKind = diffByKind(earlier, later);
const total = byKind.reduce((sum, r) => sum + r.sizeDelta, 0);
process.stdout.write(
  `Self size, later less earlier: ${total} bytes (${earlier.count} → ${later.count} nodes)\n\n`,
);
process.stdout.write(`By kind:\n\n${formatRows(byKind, top)}\n\n`);
process.stdout.write(
  `New in the later snapshot (by node id), by kind:\n\n${formatRows(newByKind(earlier, later), top)}\n`,
);
if (values.paths !== undefined) {
  const isNew = isNewIn(earlier, later);
  const nodes: number[] = [];
  for (let i = 0; i < later.count; i++) if (later.kinds[i] === values.paths && isNew(i)) nodes.push(i);
  process.stdout.write(`\n${nodes.length} new ${values.paths}; holders of a few:\n`);
  for (let k = 0; k < Math.min(5, nodes.length); k++) {
    const node = nodes[Math.floor(((k + 0.5) * nodes.length) / Math.min(5, nodes.length))]!;
    process.stdout.write(`\n${retainerPath(later, node).join('\n  ')}\n`);
  }
}
