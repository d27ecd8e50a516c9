/**
 * Traefik's error for a middleware whose constructor refuses its configuration, word for word,
 * from our located issue and the middleware as written. Traefik records the constructor's error on
 * the middleware and on every router whose chain builds it (pkg/server/middleware/middlewares.go
 * BuildChain: `b.configs[name].AddError(err, true)`, then the router's buildEntryPointHandler
 * AddError): traefik-errors.ts propagates it to the router.
 *
 * - redirectRegex: Go's regexp.Compile error as is (pkg/middlewares/redirect/redirect.go
 *   newRedirect);
 * - replacePathRegex: `error compiling regular expression R: <Go's error>`, R as written, Go's on
 *   the trimmed text (replacepathregex/replace_path_regex.go New);
 * - stripPrefixRegex: Go's error for the trimmed text (stripprefixregex/strip_prefix_regex.go);
 * - forwardAuth's authResponseHeadersRegex: `error compiling regular expression R: <Go's error>`
 *   (forwardauth/forward_auth.go NewForward);
 * - headers' accessControlAllowOriginListRegex: `error occurred during origin parsing: <Go's
 *   error>` (headers/header.go NewHeader);
 * - ipAllowList / ipWhiteList (HTTP and TCP): `sourceRange is empty, IPAllowLister not created`,
 *   `cannot parse CIDRs [a b]: parsing CIDR trusted IPs …` (`cannot parse CIDR whitelist …` for
 *   ipWhiteList; ipallowlist/ip_allowlist.go, tcp/ipallowlist, ipwhitelist New; pkg/ip/checker.go);
 * - an ipStrategy's excludedIPs, read only without a depth or cloudflareDepth (dynamic.IPStrategy
 *   Get: the checker's error as is), under ipAllowList or a sourceCriterion;
 * - a sourceCriterion with two of ipStrategy, requestHeaderName, requestHost (middlewares
 *   GetSourceExtractor: `iPStrategy and RequestHeaderName are mutually exclusive`…), bare for
 *   rateLimit (ratelimiter/rate_limiter.go New), wrapped as `error creating requests limiter: …`
 *   for inFlightReq (inflightreq/inflight_req.go New);
 * - rateLimit's negative period: `negative value not valid for period: -1s` (Go's Duration
 *   String), after its source criterion;
 * - errors' status, then a statusRewrites key: strconv.Atoi's error for the first block it cannot
 *   read, a class `5xx` included (pkg/types/http_code_range.go NewHTTPCodeRanges, customerrors New);
 * - circuitBreaker's expression, buffering's retryExpression: vulcand/oxy's parseExpression
 *   error as is (Go's go/parser text, predicate's, reflect's, oxy's operators':
 *   traefik-oxy-errors.ts), as Traefik's circuitbreaker and buffering New return oxy's;
 * - retry: `retry middleware requires at least HTTP status codes or retry on TCP`, `incorrect (or
 *   empty) value for attempt (N)`, `creating HTTP code ranges: strconv.Atoi: …`, in that order
 *   (retry/retry.go New, v3.7).
 *
 * - a chain cycle: `could not instantiate middleware m@p: recursion detected in m@p->n@p->m@p`
 *   (middlewares.go checkRecursion), the cycle read from the chain the issue is about.
 *
 * Undefined where Traefik's constructor has no error for what we refuse (ours is then kept).
 * Computed when the API is asked, never per request.
 */

import { goHttpCodeRanges } from '../config/dynamic/status-range.ts';
import type { ConfigIssue } from '../config/issues.ts';
import { durationString, parseGoDuration } from '../core/go-duration.ts';
import { traefikIpCheckerError } from '../core/go-netip.ts';
import { providerOf } from '../core/qualified-name.ts';
import { goRegexpError, goRegexpErrorText } from '../core/re2/go-errors.ts';
import { traefikOxyExpressionError } from './traefik-oxy-errors.ts';

type Rec = Readonly<Record<string, unknown>>;

function rec(v: unknown): Rec | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : undefined;
}

/** The middleware type's configuration from the object as written or as parsed (`{ type, config }`). */
function typeConfig(written: unknown, type: string): Rec | undefined {
  const w = rec(written);
  if (w === undefined) return undefined;
  const own = rec(w[type]);
  if (own !== undefined) return own;
  return w['type'] === type ? rec(w['config']) : undefined;
}

/** The type of a middleware as written (its one key) or parsed (`{ type, config }`). */
function typeOf(written: unknown): string | undefined {
  const w = rec(written);
  if (w === undefined) return undefined;
  if (typeof w['type'] === 'string' && 'config' in w) return w['type'];
  const keys = Object.keys(w);
  return keys.length === 1 ? keys[0] : undefined;
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}

/** The regexp an issue is about: the value as written, else the one our message quotes. */
function regexOf(i: ConfigIssue, conf: Rec | undefined, key: string): string | undefined {
  const index = i.path.length === 3 ? undefined : i.path[5];
  const v = conf?.[key];
  if (typeof index === 'number') {
    const l = strings(v);
    if (l?.[index] !== undefined) return l[index];
  } else if (typeof v === 'string') return v;
  const q = /^(?:\w+: )?invalid regular expression ("(?:[^"\\]|\\.)*")/.exec(i.message);
  if (q === null) return undefined;
  try {
    return JSON.parse(q[1]!) as string;
  } catch {
    return undefined;
  }
}

/**
 * Whether a regexp before the one issue `i` is about (in the list `conf[key]`) fails Go's
 * compile: the constructor stops there, so this one's error is not Traefik's.
 */
function earlierFails(
  i: ConfigIssue,
  conf: Rec | undefined,
  key: string,
  prep: (s: string) => string,
): boolean {
  const index = i.path[5];
  const l = strings(conf?.[key]);
  if (typeof index !== 'number' || l === undefined) return false;
  return l.slice(0, index).some((x) => goCompileError(prep(x)) !== undefined);
}

/** Go's regexp.Compile error text for `re`, or undefined when Go compiles it. */
function goCompileError(re: string): string | undefined {
  const e = goRegexpError(re);
  return e === undefined ? undefined : goRegexpErrorText(e);
}

/** Go's strings.TrimSpace. */
function trimSpace(s: string): string {
  return s.replace(/^[\t\n\v\f\r \u0085\u00a0]+|[\t\n\v\f\r \u0085\u00a0]+$/g, '');
}

/** Go's `%s` of a []string: `[a b]`. */
function goList(l: readonly string[]): string {
  return `[${l.join(' ')}]`;
}

/** The first value of `l` Traefik's ip checker refuses, with its error. */
function firstCheckerError(l: readonly string[]): string | undefined {
  for (const v of l) {
    const e = traefikIpCheckerError(v);
    if (e !== undefined) return e;
  }
  return undefined;
}

/**
 * dynamic.IPStrategy's Get error: with a depth, its ipv6Subnet's check; else excludedIPs' checker
 * when there are any; else the ipv6Subnet's check (`invalid IPv6 subnet N value, should be
 * greater to 0 and lower or equal to 128`).
 */
function ipStrategyError(s: Rec | undefined): string | undefined {
  if (s === undefined) return undefined;
  const positive = (v: unknown): boolean => typeof v === 'number' && v > 0;
  const subnet = s['ipv6Subnet'];
  const subnetError =
    typeof subnet === 'number' && Number.isInteger(subnet) && (subnet <= 0 || subnet > 128)
      ? `invalid IPv6 subnet ${subnet} value, should be greater to 0 and lower or equal to 128`
      : undefined;
  if (positive(s['depth'])) return subnetError;
  if (positive(s['cloudflareDepth'])) return undefined;
  const l = strings(s['excludedIPs']) ?? [];
  return l.length > 0 ? firstCheckerError(l) : subnetError;
}

/** middlewares.GetSourceExtractor's error for a sourceCriterion. */
function sourceCriterionError(c: Rec | undefined): string | undefined {
  if (c === undefined) return undefined;
  const ip = c['ipStrategy'] !== undefined && c['ipStrategy'] !== null;
  const header = typeof c['requestHeaderName'] === 'string' && c['requestHeaderName'] !== '';
  const host = c['requestHost'] === true;
  if (ip && header) return 'iPStrategy and RequestHeaderName are mutually exclusive';
  if (ip && host) return 'iPStrategy and RequestHost are mutually exclusive';
  if (header && host) return 'requestHost and RequestHeaderName are mutually exclusive';
  return ip ? ipStrategyError(rec(c['ipStrategy'])) : undefined;
}

/**
 * Traefik's ptypes.Duration of a value as written, in nanoseconds (Set: an integer is seconds,
 * else time.ParseDuration); undefined when it does not read.
 */
function traefikDuration(v: unknown): bigint | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) * 1_000_000_000n : undefined;
  if (typeof v !== 'string') return undefined;
  if (/^[+-]?\d+$/.test(v)) return BigInt(v) * 1_000_000_000n;
  try {
    return parseGoDuration(v);
  } catch {
    return undefined;
  }
}

/** NewHTTPCodeRanges' error: the first block whose low or high code Atoi refuses. */
function statusRangesError(l: readonly string[]): string | undefined {
  const r = goHttpCodeRanges(l);
  return 'error' in r ? r.error : undefined;
}

/**
 * Traefik's constructor error for middleware issue `i` (path `[kind, 'middlewares', name, type,
 * …]`), `written` the middleware as written (or parsed); undefined when Traefik has none for it
 * (ours is kept); null when Traefik's constructor stops at an earlier error of the same
 * middleware, so that this one is not Traefik's (nor shown in its `error`).
 */
export function traefikMiddlewareError(i: ConfigIssue, written: unknown): string | null | undefined {
  if (i.path[1] !== 'middlewares' || i.severity !== 'error') return undefined;
  const cycle = /^chain cycle: (.+)$/.exec(i.message);
  if (cycle !== null && typeof i.path[2] === 'string') {
    // BuildChain's checkRecursion, the chain entered at this one: `could not instantiate
    // middleware m@p: recursion detected in m@p->n@p->m@p`.
    const p = providerOf(i.path[2]);
    const names = cycle[1]!.split(' → ').map((n) => (n.includes('@') || p === '' ? n : `${n}@${p}`));
    return `could not instantiate middleware ${names.at(-1)}: recursion detected in ${names.join('->')}`;
  }
  // An error of the build (the middleware's factory) is on the middleware itself, its field first
  // in the message (`authResponseHeadersRegex: …`): its type is the one the middleware has.
  const field = i.path.length === 3 ? /^(\w+): /.exec(i.message)?.[1] : undefined;
  const type = i.path.length === 3 ? (field === undefined ? undefined : typeOf(written)) : i.path[3];
  const key = i.path.length === 3 ? field : i.path[4];
  if (typeof type !== 'string') return undefined;
  const conf = typeConfig(written, type);
  switch (type) {
    case 'redirectRegex':
    case 'replacePathRegex':
    case 'stripPrefixRegex': {
      if (key !== 'regex') return undefined;
      if (type === 'stripPrefixRegex' && earlierFails(i, conf, key, (x) => trimSpace(x))) return null;
      const re = regexOf(i, conf, 'regex');
      if (re === undefined) return undefined;
      if (type === 'redirectRegex') return goCompileError(re);
      const e = goCompileError(trimSpace(re));
      if (e === undefined || type === 'stripPrefixRegex') return e;
      return `error compiling regular expression ${re}: ${e}`;
    }
    case 'forwardAuth': {
      if (key !== 'authResponseHeadersRegex') return undefined;
      const re = regexOf(i, conf, key);
      const e = re === undefined || re === '' ? undefined : goCompileError(re);
      return e === undefined ? undefined : `error compiling regular expression ${re}: ${e}`;
    }
    case 'circuitBreaker':
    case 'buffering': {
      const field = type === 'circuitBreaker' ? 'expression' : 'retryExpression';
      if (key !== field) return undefined;
      const x = conf?.[field];
      if (typeof x !== 'string' || x === '') return undefined;
      return traefikOxyExpressionError(x, type === 'circuitBreaker' ? 'cbreaker' : 'buffer');
    }
    case 'headers': {
      if (key !== 'accessControlAllowOriginListRegex') return undefined;
      if (earlierFails(i, conf, key, (x) => x)) return null;
      const re = regexOf(i, conf, key);
      const e = re === undefined ? undefined : goCompileError(re);
      return e === undefined ? undefined : `error occurred during origin parsing: ${e}`;
    }
    case 'ipAllowList':
    case 'ipWhiteList': {
      const lister = type === 'ipAllowList' ? 'IPAllowLister' : 'IPWhiteLister';
      const range = strings(conf?.['sourceRange']) ?? [];
      if (key === 'sourceRange' || key === undefined) {
        if (range.length === 0 && conf !== undefined)
          return key === 'sourceRange' || /sourceRange/.test(i.message)
            ? `sourceRange is empty, ${lister} not created`
            : undefined;
        const e = firstCheckerError(range);
        if (e === undefined) return undefined;
        return type === 'ipAllowList'
          ? `cannot parse CIDRs ${goList(range)}: ${e}`
          : `cannot parse CIDR whitelist ${goList(range)}: ${e}`;
      }
      if (key === 'ipStrategy') {
        // The source range is read first: its error, if any, is Traefik's.
        if (range.length === 0 || firstCheckerError(range) !== undefined) return null;
        return ipStrategyError(rec(conf?.['ipStrategy']));
      }
      return undefined;
    }
    case 'rateLimit':
    case 'inFlightReq': {
      if (type === 'rateLimit' && key === 'period') {
        // rate_limiter.go New: the source criterion first, then `period < 0`.
        if (sourceCriterionError(rec(conf?.['sourceCriterion'])) !== undefined) return null;
        const ns = traefikDuration(conf?.['period']);
        return ns !== undefined && ns < 0n
          ? `negative value not valid for period: ${durationString(ns)}`
          : undefined;
      }
      if (key !== 'sourceCriterion') return undefined;
      const e = sourceCriterionError(rec(conf?.['sourceCriterion']));
      if (e === undefined) return undefined;
      return type === 'inFlightReq' ? `error creating requests limiter: ${e}` : e;
    }
    case 'errors': {
      const l = strings(conf?.['status']);
      if (key === 'status') return l === undefined ? undefined : statusRangesError(l);
      // customerrors New reads `status` first, then each statusRewrites key with
      // NewHTTPCodeRanges (`5xx` too is Atoi's error).
      const k = i.path[5];
      if (key !== 'statusRewrites' || typeof k !== 'string') return undefined;
      if (l !== undefined && statusRangesError(l) !== undefined) return null;
      return statusRangesError([k]);
    }
    case 'retry': {
      // retry.New's order (v3.7): no status while network errors are not retried, the attempts,
      // then the status ranges.
      const status = strings(conf?.['status']) ?? [];
      const nothing = 'retry middleware requires at least HTTP status codes or retry on TCP';
      if (conf?.['disableRetryOnNetworkError'] === true && status.length === 0)
        return key === 'status' || key === 'disableRetryOnNetworkError' ? nothing : null;
      const n = conf?.['attempts'] ?? 0;
      const attempts =
        typeof n === 'number' && Number.isInteger(n) && n <= 0
          ? `incorrect (or empty) value for attempt (${n})`
          : undefined;
      if (key === 'attempts') return attempts;
      if (key !== 'status') return undefined;
      if (attempts !== undefined) return null;
      const e = statusRangesError(status);
      return e === undefined ? undefined : `creating HTTP code ranges: ${e}`;
    }
    default:
      return undefined;
  }
}
