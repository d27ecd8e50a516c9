/** The soak report as Markdown: the slope table, the traffic and what the proxy logged. */

import type { SoakResult } from './run-soak.ts';
import type { SeriesSummary } from './slope.ts';

function amount(v: number, unit: string): string {
  if (unit === 'bytes') return `${(v / 2 ** 20).toFixed(2)} MiB`;
  return `${Number.isInteger(v) ? v : v.toFixed(2)}`;
}

function row(s: SeriesSummary): string {
  const per =
    s.unit === 'bytes'
      ? `${(s.slopePerMinute / 1024).toFixed(1)} KiB/min`
      : `${s.slopePerMinute.toFixed(3)}/min`;
  return `| ${s.name} | ${amount(s.mean, s.unit)} | ${amount(s.min, s.unit)} – ${amount(s.max, s.unit)} | ${per} | ${amount(s.trendOverWindow, s.unit)} | ${s.r2.toFixed(2)} |`;
}

/** How many points the series read at full collections have (with traceGc). */
function afterGc(r: SoakResult): string {
  const live = r.series.find((s) => s.name === 'heap after full GC');
  return live === undefined ? '' : `, ${live.samples} full collections`;
}

export function formatReport(r: SoakResult): string {
  const o = r.options;
  const lines: string[] = [];
  lines.push(
    `Soak: ${(o.durationS / 60).toFixed(1)} min of mixed traffic, samples every ${o.sampleEveryS} s, ` +
      `slopes from ${o.warmupS} s on (${r.series[0]?.samples ?? 0} samples${afterGc(r)}); reload every ${o.reloadEveryS} s ` +
      `(${r.reloads} written, ${r.reloadsApplied} applied), a server flapping every ${o.flapEveryS} s (${r.flaps} stops and starts).`,
  );
  lines.push('');
  lines.push('| series | mean | min – max | slope after warm-up | slope × window | r² |');
  lines.push('| --- | --- | --- | --- | --- | --- |');
  for (const s of r.series) lines.push(row(s));
  lines.push('');
  lines.push('| traffic | ok | other statuses | socket errors |');
  lines.push('| --- | --- | --- | --- |');
  for (const [kind, s] of Object.entries(r.traffic)) {
    const st = Object.entries(s.statuses)
      .map(([k, v]) => `${k}×${v}`)
      .join(', ');
    lines.push(
      `| ${kind} | ${s.ok} | ${st || '–'} | ${s.errors}${s.errorSamples.length > 0 ? ` (${s.errorSamples[0]})` : ''} |`,
    );
  }
  lines.push('');
  const failures = Object.entries(r.failuresLogged)
    .map(([k, v]) => `${k}×${v}`)
    .join(', ');
  lines.push(`Classified failures logged by the proxy (\`request failed\`): ${failures || 'none'}.`);
  lines.push(
    `The flapping server answered ${r.flappyServed} requests while up; the proxy's health check logged it ` +
      `down ${r.healthChanges?.down ?? '?'} and up ${r.healthChanges?.up ?? '?'} times.`,
  );
  lines.push(`Other error log lines: ${r.otherErrors.length === 0 ? 'none' : r.otherErrors.join('; ')}.`);
  lines.push(
    `Idle before the traffic: ${r.idle.before.fds} fds, ${r.idle.before.connections} client connections, ` +
      `RSS ${amount(r.idle.before.rss, 'bytes')}; after it (clients gone, pools drained): ${r.idle.after.fds} fds, ` +
      `${r.idle.after.connections} client connections, ${r.idle.after.tunnels} tunnels, RSS ${amount(r.idle.after.rss, 'bytes')}. ` +
      `Proxy exit code on SIGTERM: ${r.proxyExit}.`,
  );
  return lines.join('\n');
}
