/**
 * Pieces of the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format).
 * Everything here runs at scrape time or when a series is created, never per request.
 */

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isValidMetricName(name: string): boolean {
  return METRIC_NAME.test(name);
}

/** Names starting with `__` are reserved for Prometheus itself. */
export function isValidLabelName(name: string): boolean {
  return LABEL_NAME.test(name) && !name.startsWith('__');
}

/** Label values escape backslash, double quote and line feed; nothing else may be escaped. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/[\\"\n]/g, escapeChar) : value;
}

/** HELP text escapes only backslash and line feed (a quote is literal there). */
export function escapeHelp(help: string): string {
  return /[\\\n]/.test(help) ? help.replace(/[\\\n]/g, escapeChar) : help;
}

function escapeChar(c: string): string {
  return c === '\n' ? '\\n' : `\\${c}`;
}

/** Go's ParseFloat reads what JS prints, except the infinities, which the format spells +Inf/-Inf. */
export function formatValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** A sample's value as the format writes it (formatValue's inverse); '' reads as NaN. */
export function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return text === '' ? Number.NaN : Number(text);
}

/** One series of a family: its labels as written (sorted by name) and their values in that order. */
export interface SeriesLabels {
  readonly text: string;
  readonly values: readonly string[];
}

/** `[name, raw value]` pairs as SeriesLabels: sorted by name, escaped (client_golang's). */
export function seriesLabels(pairs: Array<readonly [string, string]>): SeriesLabels {
  pairs.sort((a, b) => byCodePoint(a[0], b[0]));
  let text = '';
  const values: string[] = [];
  for (let i = 0; i < pairs.length; i++) {
    text += `${i === 0 ? '' : ','}${pairs[i]![0]}="${escapeLabelValue(pairs[i]![1])}"`;
    values.push(pairs[i]![1]);
  }
  return { text, values };
}

/**
 * client_golang's order of a family's series (internal metricSorter, applied by Gather): fewer
 * labels first, then by label values, in the labels' (sorted) order.
 */
export function bySeriesLabels(a: SeriesLabels, b: SeriesLabels): number {
  if (a.values.length !== b.values.length) return a.values.length - b.values.length;
  for (let i = 0; i < a.values.length; i++) {
    const c = byCodePoint(a.values[i]!, b.values[i]!);
    if (c !== 0) return c;
  }
  return 0;
}

/** Go's string order (bytes; the names here are ASCII). */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Wraps `a="1",b="2",` (trailing comma allowed) as `{a="1",b="2"}`, or '' when empty. */
export function braces(pairs: string): string {
  if (pairs === '') return '';
  return `{${pairs.endsWith(',') ? pairs.slice(0, -1) : pairs}}`;
}
