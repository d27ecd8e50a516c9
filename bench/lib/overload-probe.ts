// The well-behaved client of `--mode overload`, run as its own process pinned to the client CPU:
// `node bench/lib/overload-probe.ts <url> <seconds> <rate> <connections>`. It sends GETs at a fixed
// total rate over keep-alive connections and times each from when it was due to be sent (not
// when it could be: a late send counts as latency, as wrk2 does), so that a stalled proxy cannot
// hide its stall. Prints one JSON line (ProbeReport) at the end.
import { Agent, request } from 'node:http';
import type { ProbeReport } from './overload-report.ts';

const [url = 'http://127.0.0.1:8080/', secondsText = '10', rateText = '400', connText = '4'] =
  process.argv.slice(2);
const durationMs = Number(secondsText) * 1000;
const connections = Number(connText);
/** Each connection sends one request every `interval` ms. */
const interval = (1000 * connections) / Number(rateText);
const agent = new Agent({ keepAlive: true, maxSockets: connections });
const latencies: number[] = [];
const failures: Record<string, number> = {};
let ok = 0;

function once(): Promise<void> {
  return new Promise((resolve) => {
    const fail = (why: string) => {
      failures[why] = (failures[why] ?? 0) + 1;
      resolve();
    };
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) ok++;
        else fail(`status ${res.statusCode}`);
        resolve();
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
    req.end();
  });
}

async function connection(offset: number): Promise<void> {
  const start = performance.now();
  for (let i = 0; ; i++) {
    const due = start + offset + i * interval;
    if (due - start > durationMs) return;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // Timers have 1 ms granularity and may fire a fraction early: a request sent before it was
    // due is timed from its send (else its latency reads short, even negative).
    const sent = performance.now();
    await once();
    latencies.push(performance.now() - Math.min(due, sent));
  }
}

const t0 = performance.now();
await Promise.all(Array.from({ length: connections }, (_, i) => connection((i * interval) / connections)));
agent.destroy();
const sorted = latencies.sort((a, b) => a - b);
const at = (p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const report: ProbeReport = {
  sent: latencies.length,
  ok,
  failures,
  durationS: (performance.now() - t0) / 1000,
  p50Ms: at(50),
  p99Ms: at(99),
  maxMs: sorted.at(-1) ?? 0,
};
process.stdout.write(`${JSON.stringify(report)}\n`);
