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

/**
 * `name="value",` pairs without braces, sorted by name as client_golang writes a series' labels
 * (prometheus/client_golang MakeLabelPairs sorts them; expfmt writes them in that order), so that
 * callers can append more pairs (`le`, which expfmt writes last) without re-escaping. Returns ''
 * for no labels.
 */
export function labelPairs(labels: Readonly<Record<string, string>>): string {
  let out = '';
  for (const name of Object.keys(labels).sort(byCodePoint)) {
    out += `${name}="${escapeLabelValue(String(labels[name]))}",`;
  }
  return out;
}

/** A series' `[name, escaped value]` pairs as `a="1",b="2"`, sorted by name (client_golang's order). */
export function sortedPairs(pairs: Array<readonly [string, string]>): string {
  pairs.sort((a, b) => byCodePoint(a[0], b[0]));
  let out = '';
  for (let i = 0; i < pairs.length; i++) out += `${i === 0 ? '' : ','}${pairs[i]![0]}="${pairs[i]![1]}"`;
  return out;
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
