/**
 * What the observability ports (access-log, log-rotation, prometheus, tracing) share beyond
 * ./fixture.ts: Go template conditionals of Traefik's fixtures, a fixture started with some entry
 * points on ports chosen beforehand (a redirect must name its target's port), and Traefik's own
 * reading of a Common Log Format line (pkg/middlewares/accesslog/parser.go ParseAccessLog) with the
 * checks its integration tests make of it (integration/access_log_test.go CheckAccessLogFormat,
 * checkAccessLogExactValues).
 */
import assert from 'node:assert/strict';
import { type ProxyProcess, type StartOptions, startProxy } from '../../helpers/proxy-process.ts';
import { adaptFixture, CONFIG_NAME } from './fixture.ts';

/** Go's text/template `{{if .X}}…{{else}}…{{end}}` (not nested), resolved by `flags[X]`. */
export function resolveIfs(text: string, flags: Readonly<Record<string, boolean>>): string {
  return text.replace(
    /\{\{ *if +\.(\w+) *\}\}([\s\S]*?)(?:\{\{ *else *\}\}([\s\S]*?))?\{\{ *end *\}\}/g,
    (_, name: string, yes: string, no: string | undefined) => {
      const v = flags[name];
      if (v === undefined) throw new Error(`fixture condition ${name} not given`);
      return v ? yes : (no ?? '');
    },
  );
}

/**
 * `startFixture` with the entry points named in `fixed` listening on the given ports instead of
 * port 0 (pick them with helpers/free-port.ts).
 */
export function startFixtureOnPorts(
  text: string,
  vars: Readonly<Record<string, string>>,
  fixed: Readonly<Record<string, number>>,
  opts: Partial<StartOptions> = {},
): Promise<ProxyProcess> {
  let current = '';
  const config = adaptFixture(text, vars)
    .split('\n')
    .map((line) => {
      const table = /^\s*\[entryPoints\.([^\]]+)\]\s*$/i.exec(line);
      if (table) current = table[1]!.trim();
      const port = fixed[current];
      return port === undefined
        ? line
        : line.replace(/^(\s*address\s*=\s*)"127\.0\.0\.1:0"/, `$1"127.0.0.1:${port}"`);
    })
    .join('\n');
  return startProxy({
    config,
    configName: CONFIG_NAME,
    entryPoints: (config.match(/^\s*address\s*=\s*"127\.0\.0\.1:\d+"/gm) ?? []).length,
    ...opts,
  });
}

/** Traefik's fields of a CLF line, by its accesslog field names (parser.go ParseAccessLog). */
export interface ClfFields {
  readonly ClientHost: string;
  readonly ClientUsername: string;
  readonly StartUTC: string;
  readonly RequestMethod: string;
  readonly RequestPath: string;
  readonly RequestProtocol: string;
  /** The 7th field: parser.go names it OriginStatus; the formatter writes DownstreamStatus there. */
  readonly OriginStatus: string;
  readonly OriginContentSize: string;
  readonly Referer: string;
  readonly UserAgent: string;
  readonly RequestCount: string;
  readonly RouterName: string;
  readonly ServiceURL: string;
  readonly Duration: string;
}

// parser.go's expression, group for group (Go's RE2 and JavaScript agree on each of them).
const CLF = new RegExp(
  [
    String.raw`(\S+)`, // 1 ClientHost
    String.raw`\s-\s`,
    String.raw`(\S+)\s`, // 2 ClientUsername
    String.raw`\[([^\]]+)\]\s`, // 3 StartUTC
    String.raw`"(\S*)\s?`, // 4 RequestMethod
    String.raw`((?:[^"]*(?:\\")?)*)\s`, // 5 RequestPath
    String.raw`([^"]*)"\s`, // 6 RequestProtocol
    String.raw`(\S+)\s`, // 7 OriginStatus
    String.raw`(\S+)\s`, // 8 OriginContentSize
    String.raw`("?\S+"?)\s`, // 9 Referrer
    String.raw`("\S+")\s`, // 10 User-Agent
    String.raw`(\S+)\s`, // 11 RequestCount
    String.raw`("[^"]*"|-)\s`, // 12 RouterName
    String.raw`("[^"]*"|-)\s`, // 13 ServiceURL
    String.raw`(\S+)`, // 14 Duration
  ].join(''),
);

/** parser.go ParseAccessLog: the 14 fields, or undefined when the line is not Traefik's CLF. */
export function parseAccessLog(line: string): ClfFields | undefined {
  const m = CLF.exec(line);
  if (m === null) return undefined;
  const g = (i: number): string => m[i] ?? '';
  return {
    ClientHost: g(1),
    ClientUsername: g(2),
    StartUTC: g(3),
    RequestMethod: g(4),
    RequestPath: g(5),
    RequestProtocol: g(6),
    OriginStatus: g(7),
    OriginContentSize: g(8),
    Referer: g(9),
    UserAgent: g(10),
    RequestCount: g(11),
    RouterName: g(12),
    ServiceURL: g(13),
    Duration: g(14),
  };
}

/**
 * CheckAccessLogFormat (integration/access_log_test.go), for line `i` (0-based). `provider` is the
 * provider suffix the routers' names carry (`docker` there; our fixtures use the file provider).
 */
export function checkAccessLogFormat(line: string, i: number, provider = 'file'): ClfFields {
  const r = parseAccessLog(line);
  assert.ok(r, `not Traefik's CLF: ${line}`);
  assert.match(r.OriginStatus, /^(-|\d{3})$/, line);
  assert.ok(Number(r.RequestCount) >= i + 1, `RequestCount ${r.RequestCount} < ${i + 1}: ${line}`);
  assert.match(r.RouterName, new RegExp(`"(rt-.+@${provider}|api@internal)"`), line);
  assert.ok(r.ServiceURL.startsWith('"http://'), line);
  assert.match(r.Duration, /^\d+ms$/, line);
  return r;
}

export interface AccessLogValue {
  readonly formatOnly?: boolean;
  readonly code?: string;
  readonly user?: string;
  readonly routerName?: string;
  readonly serviceURL?: string;
}

/** checkAccessLogExactValues (integration/access_log_test.go), for line `i` (0-based). */
export function checkAccessLogExactValues(
  line: string,
  i: number,
  v: AccessLogValue,
  provider = 'file',
): void {
  const r = parseAccessLog(line);
  assert.ok(r, `not Traefik's CLF: ${line}`);
  if (v.user !== undefined && v.user.length > 0) assert.equal(r.ClientUsername, v.user, line);
  assert.equal(r.OriginStatus, v.code, line);
  assert.ok(Number(r.RequestCount) >= i + 1, `RequestCount ${r.RequestCount} < ${i + 1}: ${line}`);
  assert.match(r.RouterName, new RegExp(`^"?${v.routerName}.*(@${provider})?$`), line);
  assert.match(r.ServiceURL, new RegExp(`^"?${escapeRe(v.serviceURL ?? '')}.*$`), line);
  assert.match(r.Duration, /^\d+ms$/, line);
}

/** checkAccessLogExactValuesOutput: each non-empty line against its expectation; the count. */
export function checkAccessLogExactValuesOutput(
  lines: readonly string[],
  values: readonly AccessLogValue[],
): number {
  let count = 0;
  lines.forEach((line, i) => {
    if (line.length === 0) return;
    count++;
    const v = values[i];
    assert.ok(v, `more lines than expected: ${lines.join('\n')}`);
    if (v.formatOnly) checkAccessLogFormat(line, i);
    else checkAccessLogExactValues(line, i, v);
  });
  return count;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
