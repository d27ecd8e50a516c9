// The soak test: `npm run soak -- --minutes 30`. Mixed traffic through the built proxy with
// reloads and a flapping server; prints the slope of RSS, heap, descriptors and connections
// after warm-up (docs/operations.md#soak). A 2-minute variant runs in `npm test`
// (test/e2e/soak.test.ts).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatReport } from './lib/soak/report.ts';
import { runSoak, type SoakResult, seriesOf } from './lib/soak/run-soak.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    'warmup-minutes': { type: 'string' },
    'sample-seconds': { type: 'string', default: '10' },
    'reload-seconds': { type: 'string', default: '10' },
    'flap-seconds': { type: 'string', default: '30' },
    'idle-conn-timeout': { type: 'string', default: '90s' },
    'pause-ms': { type: 'string', default: '10' },
    json: { type: 'string' },
    sources: { type: 'boolean', default: false },
    'trace-gc': { type: 'boolean', default: false },
    'max-old-space-mb': { type: 'string' },
    'max-semi-space-mb': { type: 'string' },
    'from-json': { type: 'string' },
    'heap-snapshots': { type: 'string' },
    'snapshot-dir': { type: 'string', default: '.' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(`npm run soak -- [--minutes 30] [--warmup-minutes M] [--sample-seconds 10]
  [--reload-seconds 10] [--flap-seconds 30] [--idle-conn-timeout 90s] [--pause-ms 10]
  [--json FILE] [--sources] [--trace-gc] [--max-old-space-mb N] [--max-semi-space-mb N]
  [--from-json FILE] [--heap-snapshots MIN,MIN,… [--snapshot-dir DIR]]
Warm-up defaults to a sixth of the run (at least 1 minute). --sources runs src/main.ts instead of
the build. --pause-ms is each client loop's pause between requests (the load's pace). The proxy
inherits NODE_OPTIONS. --trace-gc adds the heap left after each full collection (the live set),
and RSS read at each less the free pages V8 holds for its heap (RSS's leak signal).
--max-old-space-mb gives the proxy a small old generation, so that V8 collects fully every few
seconds (a short run then measures the live set); --max-semi-space-mb caps its young generation
(deploy/ uses 16), which V8 otherwise grows for minutes under HTTP/2 load. --from-json re-reports
a saved run (--json) with another --warmup-minutes, without running. --heap-snapshots takes heap
snapshots of the proxy at those minutes into the traffic (into --snapshot-dir), to compare with
\`node bench/heap-diff.ts A B\`; each pauses the proxy for about a second and raises its RSS.
`);
  process.exit(0);
}

if (values['from-json'] !== undefined) {
  const saved = JSON.parse(readFileSync(values['from-json'], 'utf8')) as SoakResult;
  const warmupS =
    values['warmup-minutes'] !== undefined ? Number(values['warmup-minutes']) * 60 : saved.options.warmupS;
  const again: SoakResult = {
    ...saved,
    options: { ...saved.options, warmupS },
    series: seriesOf(saved.samples, warmupS, saved.fullGcs ?? []),
  };
  process.stdout.write(`${formatReport(again)}\n`);
  process.exit(0);
}

const minutes = Number(values.minutes);
const snapshotMinutes = values['heap-snapshots']?.split(',').map(Number) ?? [];
if (snapshotMinutes.some((m) => !(m >= 0 && m < minutes))) {
  process.stderr.write(`--heap-snapshots: minutes into the run (0 to ${minutes}), comma-separated\n`);
  process.exit(2);
}
const warmup =
  values['warmup-minutes'] !== undefined ? Number(values['warmup-minutes']) : Math.max(1, minutes / 6);
const main = values.sources ? join(ROOT, 'src/main.ts') : join(ROOT, 'dist/main.js');
if (!existsSync(main)) {
  process.stderr.write(`${main} is missing: run \`npm run build\` (npm run soak does) or pass --sources\n`);
  process.exit(1);
}
const result = await runSoak({
  durationS: minutes * 60,
  warmupS: warmup * 60,
  sampleEveryS: Number(values['sample-seconds']),
  reloadEveryS: Number(values['reload-seconds']),
  flapEveryS: Number(values['flap-seconds']),
  idleConnTimeout: values['idle-conn-timeout'],
  traceGc: values['trace-gc'],
  ...(values['max-old-space-mb'] !== undefined ? { maxOldSpaceMb: Number(values['max-old-space-mb']) } : {}),
  ...(values['max-semi-space-mb'] !== undefined
    ? { maxSemiSpaceMb: Number(values['max-semi-space-mb']) }
    : {}),
  traffic: { pauseMs: Number(values['pause-ms']) },
  ...(snapshotMinutes.length > 0
    ? {
        heapSnapshotsAtS: snapshotMinutes.map((m) => m * 60),
        snapshotDir: resolve(values['snapshot-dir']),
      }
    : {}),
  main,
  log: (l) => process.stderr.write(`${l}\n`),
});
if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${formatReport(result)}\n`);
