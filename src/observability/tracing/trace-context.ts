/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) parsing and formatting, written to run
 * once per request: no regular expression and no allocation for `traceparent` beyond the two id
 * slices.
 */

/** Where `parseTraceparent` writes its result (one scratch object per tracer, reused per request). */
export interface TraceparentFields {
  traceId: string;
  parentId: string;
  sampled: boolean;
}

const DASH = 0x2d;
const SPACE = 0x20;
const TAB = 0x09;

/** Value of a lowercase hex digit, or -1. §3.2.2: "HEXDIGLC", uppercase is invalid. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

function isLowerHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (hexValue(s.charCodeAt(i)) < 0) return false;
  return true;
}

function allZeros(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) !== 0x30) return false;
  return true;
}

function isOws(c: number): boolean {
  return c === SPACE || c === TAB;
}

/**
 * Parses `version-traceid-parentid-flags` into `out`. Returns false (and leaves `out` undefined in
 * meaning) for anything the spec says to ignore, in which case the caller starts a new trace.
 */
export function parseTraceparent(value: string | undefined, out: TraceparentFields): boolean {
  if (typeof value !== 'string') return false;
  let s = value;
  // Header values reach us with OWS already stripped by the codec; a joined or hand-built value may not.
  if (s.length > 0 && (isOws(s.charCodeAt(0)) || isOws(s.charCodeAt(s.length - 1)))) {
    s = s.replace(/^[ \t]+|[ \t]+$/g, '');
  }
  if (s.length < 55) return false;
  const v0 = hexValue(s.charCodeAt(0));
  const v1 = hexValue(s.charCodeAt(1));
  if (v0 < 0 || v1 < 0) return false;
  // §3.2.2.1: version ff is forbidden.
  if (v0 === 15 && v1 === 15) return false;
  if (s.charCodeAt(2) !== DASH || s.charCodeAt(35) !== DASH || s.charCodeAt(52) !== DASH) return false;
  if (v0 === 0 && v1 === 0) {
    // Version 00 has exactly four fields.
    if (s.length !== 55) return false;
  } else if (s.length > 55 && s.charCodeAt(55) !== DASH) {
    // §4.3: a higher version is parsed for its first four fields, which must be followed by a dash.
    return false;
  }
  if (!isLowerHex(s, 3, 35) || allZeros(s, 3, 35)) return false;
  if (!isLowerHex(s, 36, 52) || allZeros(s, 36, 52)) return false;
  const f0 = hexValue(s.charCodeAt(53));
  const f1 = hexValue(s.charCodeAt(54));
  if (f0 < 0 || f1 < 0) return false;
  // Go's TraceContext.extract (go.opentelemetry.io/otel/propagation/trace_context.go), which
  // Traefik's tracecontext propagator is: version 00 with flags above 02 is no context.
  if (v0 === 0 && v1 === 0 && (f0 !== 0 || f1 > 2)) return false;
  out.traceId = s.slice(3, 35);
  out.parentId = s.slice(36, 52);
  out.sampled = (f1 & 1) === 1;
  return true;
}

/** Always version 00: §4.3 says a vendor that parsed a higher version propagates the one it knows. */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

const MAX_TRACESTATE_LENGTH = 512;
const MAX_TRACESTATE_MEMBERS = 32;

// §3.3.1.3: simple-key, or multi-tenant `tenant@system`; the value has no trailing space, no ',' or '='.
const MEMBER =
  /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * The `tracestate` to pass on, or undefined when it is absent or invalid. §3.3.1.1: an invalid
 * tracestate is discarded whole; we never truncate it (dropping members would change other
 * vendors' state without telling them).
 */
export function validTracestate(value: string | undefined): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TRACESTATE_LENGTH)
    return undefined;
  const parts = value.split(',');
  let members = 0;
  let keys: Set<string> | undefined;
  for (let p of parts) {
    p = p.trim();
    // §3.3.1.2: empty and whitespace-only list members are allowed.
    if (p.length === 0) continue;
    if (!MEMBER.test(p)) return undefined;
    if (++members > MAX_TRACESTATE_MEMBERS) return undefined;
    if (parts.length > 1) {
      const key = p.slice(0, p.indexOf('='));
      keys ??= new Set();
      // §3.3.1.2: a key appears at most once.
      if (keys.has(key)) return undefined;
      keys.add(key);
    }
  }
  return members === 0 ? undefined : value;
}
