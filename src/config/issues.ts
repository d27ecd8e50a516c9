/**
 * Configuration problems are values, never exceptions: every loader returns the issues it found,
 * each with the path of the offending key and, when it came from a file, `file:line:col`.
 */

export type ConfigPath = readonly (string | number)[];

export interface ConfigIssue {
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly path: ConfigPath;
  readonly file?: string;
  /** 1-based. */
  readonly line?: number;
  /** 1-based, in UTF-16 code units (as editors count them for BMP text). */
  readonly col?: number;
  readonly expected?: string;
  /**
   * A warning (the configuration still applies) that is logged at ERROR, as Traefik logs the same
   * situation (`log.Error()`): an object its build leaves out, a resolver it skips, a log level
   * it cannot read. `traffic validate` and the API still show it as a warning.
   */
  readonly logAs?: 'error';
  /**
   * Traefik's own words for the same error, where the build knows them (a TCP or UDP router left
   * out for a service or middleware that does not exist: `the service "s@p" does not exist`), for
   * the log line's `error`, as Traefik's managers log it (`logger.Error().Err(err)`).
   */
  readonly traefik?: string;
}

/** Where an issue points: a file position, or nothing when the value came from a flag or env. */
export interface Place {
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
}

const PLAIN_SEGMENT = /^[A-Za-z0-9_@-]+$/;

/** `http.routers.api.rule`, `servers[0].url`, `middlewares["a.b"]`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (PLAIN_SEGMENT.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** `conf/dyn.yaml:12:7: http.routers.api.rule: <message> (expected …)` */
export function formatIssue(i: ConfigIssue): string {
  let where = '';
  if (i.file !== undefined) {
    where = i.file;
    if (i.line !== undefined) where += `:${i.line}${i.col !== undefined ? `:${i.col}` : ''}`;
    where += ': ';
  }
  const severity = i.severity === 'warning' ? 'warning: ' : '';
  const path = i.path.length > 0 ? `${formatPath(i.path)}: ` : '';
  const expected = i.expected !== undefined ? ` (expected ${i.expected})` : '';
  return `${where}${severity}${path}${i.message}${expected}`;
}

/**
 * An issue as log fields beside its formatted message: `file`, `line`, `col` (when it came from
 * a file) and `key`, its path as formatPath writes it.
 */
export function issueLogFields(i: ConfigIssue): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  if (i.file !== undefined) out['file'] = i.file;
  if (i.line !== undefined) out['line'] = i.line;
  if (i.col !== undefined) out['col'] = i.col;
  if (i.path.length > 0) out['key'] = formatPath(i.path);
  return out;
}

/** `i`, logged at ERROR (ConfigIssue.logAs). */
export function loggedAsError(i: ConfigIssue): ConfigIssue {
  return { ...i, logAs: 'error' };
}

/**
 * How a configuration issue is logged: its level (ERROR for an error or a warning Traefik logs
 * as one, else WARN) and its text, formatIssue's without `warning: ` at ERROR.
 */
export function issueLogLine(i: ConfigIssue): { level: 'warn' | 'error'; text: string } {
  if (i.severity === 'warning' && i.logAs === undefined) return { level: 'warn', text: formatIssue(i) };
  return { level: 'error', text: formatIssue(i.severity === 'error' ? i : { ...i, severity: 'error' }) };
}

export function hasErrors(issues: readonly ConfigIssue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}

export function issue(
  severity: ConfigIssue['severity'],
  message: string,
  path: ConfigPath,
  place: Place = {},
  expected?: string,
): ConfigIssue {
  const out: { -readonly [K in keyof ConfigIssue]: ConfigIssue[K] } = { severity, message, path };
  if (place.file !== undefined) out.file = place.file;
  if (place.line !== undefined) out.line = place.line;
  if (place.col !== undefined) out.col = place.col;
  if (expected !== undefined) out.expected = expected;
  return out;
}

/** Orders issues by file, then position; issues without a file (flags, env) come first. */
export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return issues
    .map((i, n) => ({ i, n }))
    .sort((a, b) => {
      const fa = a.i.file ?? '';
      const fb = b.i.file ?? '';
      if (fa !== fb) return fa < fb ? -1 : 1;
      const la = a.i.line ?? 0;
      const lb = b.i.line ?? 0;
      if (la !== lb) return la - lb;
      const ca = a.i.col ?? 0;
      const cb = b.i.col ?? 0;
      return ca !== cb ? ca - cb : a.n - b.n;
    })
    .map((x) => x.i);
}
