import type { HeaderList } from '../../core/headers.ts';
import {
  type Baggage,
  extractOtBaggage,
  extractW3cBaggage,
  injectOtBaggage,
  serializeBaggage,
} from './baggage.ts';
import { parseTraceparent, type TraceparentFields, validTracestate } from './trace-context.ts';

/**
 * The propagators of OTEL_PROPAGATORS, as Traefik sets them up: NewTracing
 * (pkg/observability/tracing/tracing.go) installs autoprop.NewTextMapPropagator(), whose registry
 * (go.opentelemetry.io/contrib/propagators/autoprop/registry.go) maps each name to a Go
 * propagator; several names make a composite, which extracts with each in turn (the last one
 * that finds a valid context wins) and injects with each.
 *
 * The default (`tracecontext,baggage`) is W3C trace context alone here (`baggage` is the
 * request's field passed on as it came): that path reads `traceparent`/`tracestate` and writes
 * `traceparent` as it always did. The others (`b3`, `b3multi`, `jaeger`, `xray`, `ottrace`) are
 * read and written by the functions below, written to do what the Go contrib propagators do.
 */

const TRACECONTEXT = 1;
const B3 = 2;
const B3_MULTI = 3;
const JAEGER = 4;
const XRAY = 5;
const OTTRACE = 6;
/** Names autoprop knows that carry no trace context of ours (W3C baggage goes on as it came). */
const PASSIVE = 0;

const KINDS: ReadonlyMap<string, number> = new Map([
  ['tracecontext', TRACECONTEXT],
  ['baggage', PASSIVE],
  ['b3', B3],
  ['b3multi', B3_MULTI],
  ['jaeger', JAEGER],
  ['xray', XRAY],
  ['ottrace', OTTRACE],
]);

/**
 * What extraction leaves in the request's context besides the span context, read again on
 * injection: the B3 propagator's debug and deferred marks (go.opentelemetry.io/contrib/
 * propagators/b3 context.go, shared by `b3` and `b3multi`) and the Jaeger propagator's debug mark.
 */
export const B3_DEBUG = 1;
export const B3_DEFERRED = 2;
export const JAEGER_DEBUG = 4;

/** The remote parent a request carries, as the propagators found it (one scratch per tracer). */
export interface RemoteContext extends TraceparentFields {
  tracestate: string | undefined;
  /** B3_DEBUG | B3_DEFERRED | JAEGER_DEBUG. */
  flags: number;
  /**
   * The baggage the `baggage` and `ottrace` propagators found (null: none), which the calls'
   * injection writes again: W3C `baggage` re-serialised, `ot-baggage-*` per member.
   */
  baggage: Baggage | null;
}

/** A context with nothing found yet, for `extract` to fill (and to reset between requests). */
export function emptyRemoteContext(): RemoteContext {
  return { traceId: '', parentId: '', sampled: false, tracestate: undefined, flags: 0, baggage: null };
}

/** The propagators in force: one object per process, made from OTEL_PROPAGATORS. */
export class Propagation {
  /** W3C trace context is read and written. */
  readonly w3c: boolean;
  /** Some propagator other than W3C trace context is on: `extract`/`inject` must be used. */
  readonly others: boolean;
  readonly #kinds: readonly number[];
  readonly #tp: TraceparentFields = { traceId: '', parentId: '', sampled: false };
  readonly #ids: Ids = { traceId: '', spanId: '', sampled: false, flags: 0 };

  constructor(kinds: readonly number[]) {
    this.#kinds = kinds;
    this.w3c = kinds.includes(TRACECONTEXT);
    this.others = kinds.some((k) => k !== TRACECONTEXT && k !== PASSIVE);
  }

  /**
   * The composite's Extract (otel propagation.compositeTextMapPropagator): each propagator in
   * the order named, a valid context replacing the one before. Returns whether one was found;
   * `out.flags` is set whatever the result (B3 marks stay even when no context is found, as in Go).
   */
  extract(headers: HeaderList, out: RemoteContext): boolean {
    let found = false;
    let flags = 0;
    let baggage: Baggage | null = null;
    const ids = this.#ids;
    for (const kind of this.#kinds) {
      switch (kind) {
        case PASSIVE: {
          // propagation.Baggage.Extract: a valid, non-empty baggage replaces the context's.
          const b = extractW3cBaggage(headers);
          if (b !== null) baggage = b;
          continue;
        }
        case TRACECONTEXT: {
          const tp = this.#tp;
          if (!parseTraceparent(headers.get('traceparent'), tp)) break;
          out.traceId = tp.traceId;
          out.parentId = tp.parentId;
          out.sampled = tp.sampled;
          out.tracestate = validTracestate(headers.get('tracestate'));
          found = true;
          continue;
        }
        case B3:
        case B3_MULTI:
          ids.flags = flags;
          extractB3(headers, ids);
          flags = ids.flags;
          if (ids.traceId === '') break;
          setFrom(out, ids);
          found = true;
          continue;
        case JAEGER:
          if (!extractJaeger(headers.get('uber-trace-id'), ids)) break;
          // Go's Jaeger Extract sets its debug mark only with a valid context, and never clears it.
          flags |= ids.flags;
          setFrom(out, ids);
          found = true;
          continue;
        case XRAY:
          if (!extractXray(headers.get('x-amzn-trace-id'), ids)) break;
          setFrom(out, ids);
          found = true;
          continue;
        case OTTRACE: {
          if (!extractOt(headers, ids)) break;
          setFrom(out, ids);
          found = true;
          // ot.OT.Extract: with a valid context, the ot-baggage-* fields become the context's
          // baggage (all valid, else it is left as it was).
          const b = extractOtBaggage(headers);
          if (b !== null) baggage = b;
          continue;
        }
      }
    }
    out.flags = flags;
    out.baggage = baggage !== null && baggage.size > 0 ? baggage : null;
    return found;
  }

  /**
   * The composite's Inject for one call: `traceparent` is the call's context (always
   * `00-<trace id>-<span id>-<flags>`), `flags` what extraction left in the request's context.
   * Fields are only ever set, never removed (Go's HeaderCarrier.Set): a `tracestate` we have no
   * value for, or a client's `x-b3-parentspanid`, goes on as it came. `baggage` is what
   * extraction found (only with propagators beside W3C trace context: the default passes the
   * `baggage` field on as it came).
   */
  inject(
    headers: HeaderList,
    traceparent: string,
    tracestate: string | undefined,
    flags: number,
    baggage: Baggage | null = null,
  ): void {
    if (this.w3c) {
      headers.set('traceparent', traceparent);
      if (tracestate !== undefined) headers.set('tracestate', tracestate);
    }
    if (!this.others) return;
    const traceId = traceparent.slice(3, 35);
    const spanId = traceparent.slice(36, 52);
    const sampled = traceparent.charCodeAt(54) === 0x31;
    for (const kind of this.#kinds) {
      switch (kind) {
        case PASSIVE:
          // propagation.Baggage.Inject: the context's baggage, when it has some.
          if (baggage !== null) headers.set('baggage', serializeBaggage(baggage));
          break;
        case B3:
          // b3.propagator.Inject, single header: {trace}-{span}[-{1|0|d}].
          headers.set(
            'b3',
            (flags & B3_DEBUG) !== 0
              ? `${traceId}-${spanId}-d`
              : (flags & B3_DEFERRED) !== 0
                ? `${traceId}-${spanId}`
                : `${traceId}-${spanId}-${sampled ? '1' : '0'}`,
          );
          break;
        case B3_MULTI:
          headers.set('x-b3-traceid', traceId);
          headers.set('x-b3-spanid', spanId);
          // Debug implies sampled: Go then sends X-B3-Flags and no X-B3-Sampled.
          if ((flags & B3_DEBUG) !== 0) headers.set('x-b3-flags', '1');
          else if ((flags & B3_DEFERRED) === 0) headers.set('x-b3-sampled', sampled ? '1' : '0');
          break;
        case JAEGER:
          // jaeger.Jaeger.Inject: {trace}:{span}:0:{flags in hex}, the parent field deprecated.
          headers.set(
            'uber-trace-id',
            `${traceId}:${spanId}:0:${(flags & JAEGER_DEBUG) !== 0 ? '3' : sampled ? '1' : '0'}`,
          );
          break;
        case XRAY:
          headers.set(
            'x-amzn-trace-id',
            `Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)};Parent=${spanId};Sampled=${sampled ? '1' : '0'}`,
          );
          break;
        case OTTRACE:
          // ot.OT.Inject: 64-bit trace ids, the low half.
          headers.set('ot-tracer-traceid', traceId.slice(16));
          headers.set('ot-tracer-spanid', spanId);
          headers.set('ot-tracer-sampled', sampled ? 'true' : 'false');
          if (baggage !== null) injectOtBaggage(headers, baggage);
          break;
      }
    }
  }
}

/** W3C trace context alone: Traefik's default (`tracecontext,baggage`). */
export const DEFAULT_PROPAGATION = new Propagation([TRACECONTEXT, PASSIVE]);
/** `none`: nothing read nor written. */
const NO_PROPAGATION = new Propagation([]);

/**
 * OTEL_PROPAGATORS as autoprop.NewTextMapPropagator reads it (parseEnv): unset or empty, the
 * default (tracecontext,baggage); names split at commas, not trimmed; `none` anywhere turns every
 * propagator off; unknown names are reported and skipped, and when none is left the default
 * applies.
 */
export function parsePropagators(value: string | undefined, warn: (msg: string) => void): Propagation {
  if (value === undefined || value === '') return DEFAULT_PROPAGATION;
  const names = value.split(',');
  if (names.includes('none')) return NO_PROPAGATION;
  const kinds: number[] = [];
  const unknown: string[] = [];
  for (const n of names) {
    const k = KINDS.get(n);
    if (k === undefined) unknown.push(n);
    else kinds.push(k);
  }
  if (unknown.length > 0) warn(`OTEL_PROPAGATORS: unknown propagator(s) ${unknown.join(',')}; skipped`);
  if (kinds.length === 0) return DEFAULT_PROPAGATION;
  return new Propagation(kinds);
}

/** One propagator's result: ids ('' when none was found), sampled, and the context marks. */
interface Ids {
  traceId: string;
  spanId: string;
  sampled: boolean;
  flags: number;
}

function setFrom(out: RemoteContext, ids: Ids): void {
  out.traceId = ids.traceId;
  out.parentId = ids.spanId;
  out.sampled = ids.sampled;
  // A context of another format has no tracestate (Go's SpanContext from B3, Jaeger…).
  out.tracestate = undefined;
}

const PAD = '0000000000000000';

/** Lowercase hex only, as otel's TraceIDFromHex / SpanIDFromHex. */
function isLowerHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

function nonZero(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== 0x30) return true;
  return false;
}

/** trace.TraceIDFromHex after the 64-bit padding: 32 lowercase hex digits, not all zero. */
function traceIdFrom(s: string): string | null {
  const id = s.length === 16 ? PAD + s : s;
  return id.length === 32 && isLowerHex(id, 0, 32) && nonZero(id) ? id : null;
}

/** trace.SpanIDFromHex: 16 lowercase hex digits, not all zero. */
function spanIdOk(s: string): boolean {
  return s.length === 16 && isLowerHex(s, 0, 16) && nonZero(s);
}

/**
 * b3.propagator.Extract (go.opentelemetry.io/contrib/propagators/b3/b3_propagator.go): the
 * single `b3` header first, the `x-b3-*` headers when it is absent or gives no valid context.
 * Leaves `ids.traceId` '' when neither gives one; updates the debug/deferred marks in
 * `ids.flags` as Go's context does, failures included.
 */
function extractB3(headers: HeaderList, ids: Ids): void {
  const single = headers.get('b3');
  if (single !== undefined && single !== '' && extractB3Single(single, ids) && ids.traceId !== '') return;
  if (
    !extractB3Multi(
      headers.get('x-b3-traceid') ?? '',
      headers.get('x-b3-spanid') ?? '',
      headers.get('x-b3-parentspanid') ?? '',
      headers.get('x-b3-sampled') ?? '',
      headers.get('x-b3-flags') ?? '',
      ids,
    ) ||
    ids.traceId === ''
  ) {
    // Go clears the deferred mark when it has no valid context.
    ids.traceId = '';
    ids.flags &= ~B3_DEFERRED;
  }
}

/** b3 extractSingle: {trace}-{span}[-{sampling}[-{parent}]] or {sampling} alone. */
function extractB3Single(h: string, ids: Ids): boolean {
  const len = h.length;
  let sampling = '';
  let traceId = '';
  let spanId = '';
  if (len === 1) sampling = h;
  else if (len === 16 || len === 32)
    return false; // a trace id by itself
  else if (len >= 33) {
    let pos: number;
    if (h.charCodeAt(16) === 0x2d) {
      pos = 16;
      traceId = PAD + h.slice(0, 16);
    } else if (h.charCodeAt(32) === 0x2d) {
      pos = 32;
      traceId = h.slice(0, 32);
    } else return false;
    if (!isLowerHex(traceId, 0, 32) || !nonZero(traceId)) return false;
    pos += 1;
    if (len < pos + 16) return false;
    spanId = h.slice(pos, pos + 16);
    if (!spanIdOk(spanId)) return false;
    pos += 16;
    if (len > pos) {
      if (len === pos + 1) return false; // {trace}-{span}-
      pos += 1;
      if (len === pos + 1) sampling = h[pos]!;
      else if (len === pos + 1 + 1 + 16) {
        sampling = h[pos]!;
        // The parent span id is checked, not used.
        if (!spanIdOk(h.slice(pos + 2))) return false;
      } else return false;
    }
  } else return false;
  let flags = ids.flags;
  let sampled = false;
  switch (sampling) {
    case '':
      flags |= B3_DEFERRED;
      break;
    case 'd':
      flags |= B3_DEBUG;
      sampled = true;
      break;
    case '1':
      sampled = true;
      break;
    case '0':
      break;
    default:
      return false;
  }
  if (len > 1) {
    if (sampling !== 'd') flags &= ~B3_DEBUG;
    if (sampling !== '') flags &= ~B3_DEFERRED;
  }
  ids.flags = flags;
  ids.traceId = traceId;
  ids.spanId = spanId;
  ids.sampled = sampled;
  return true;
}

/** b3 extractMultiple: the x-b3-* headers. Marks set before a failure stay, as in Go. */
function extractB3Multi(
  traceIdH: string,
  spanIdH: string,
  parentH: string,
  sampledH: string,
  flagsH: string,
  ids: Ids,
): boolean {
  ids.traceId = '';
  let sampled: boolean;
  switch (sampledH.toLowerCase()) {
    case '0':
    case 'false':
      sampled = false;
      break;
    case '1':
    case 'true':
      sampled = true;
      break;
    case '':
      sampled = false;
      ids.flags |= B3_DEFERRED;
      break;
    default:
      return false;
  }
  // Only "1" is a valid X-B3-Flags: debug, which implies sampled and overrides X-B3-Sampled.
  if (flagsH === '1') {
    ids.flags = (ids.flags & ~B3_DEFERRED) | B3_DEBUG;
    sampled = true;
  }
  let count = 0;
  let traceId = '';
  if (traceIdH !== '') {
    count++;
    const id = traceIdFrom(traceIdH);
    if (id === null) return false;
    traceId = id;
  }
  if (spanIdH !== '') {
    count++;
    if (!spanIdOk(spanIdH)) return false;
  }
  if (count === 1) return false;
  if (parentH !== '' && (count === 0 || !spanIdOk(parentH))) return false;
  if (count === 2) {
    if (flagsH !== '1') ids.flags &= ~B3_DEBUG;
    if (sampledH !== '') ids.flags &= ~B3_DEFERRED;
  }
  ids.traceId = traceId;
  ids.spanId = spanIdH;
  ids.sampled = sampled;
  return true;
}

/**
 * jaeger.Jaeger.Extract (go.opentelemetry.io/contrib/propagators/jaeger/jaeger_propagator.go):
 * `{trace}:{span}:{parent}:{flags}`, the trace id 16 or 32 hex digits (padded), flags in hex
 * (bit 1 sampled, bit 2 debug with it). True with a valid context only; `ids.flags` is then
 * JAEGER_DEBUG or 0.
 */
function extractJaeger(h: string | undefined, ids: Ids): boolean {
  if (h === undefined || h === '') return false;
  const parts = h.split(':');
  if (parts.length !== 4) return false;
  const [t, s, , f] = parts as [string, string, string, string];
  if (t === '' || s === '') return false; // an invalid context: Go drops it
  if (t.length !== 16 && t.length !== 32) return false;
  const traceId = traceIdFrom(t);
  if (traceId === null || !spanIdOk(s)) return false;
  let sampled = false;
  let flags = 0;
  if (f !== '') {
    const bits = hexLowBits(f);
    if (bits < 0) return false;
    if ((bits & 1) !== 0) {
      sampled = true;
      if ((bits & 2) !== 0) flags = JAEGER_DEBUG;
    }
  }
  ids.traceId = traceId;
  ids.spanId = s;
  ids.sampled = sampled;
  ids.flags = flags;
  return true;
}

/**
 * The low two bits of strconv.ParseInt(s, 16, 64), or -1 where it fails: an optional sign, hex
 * digits of either case, within int64.
 */
function hexLowBits(s: string): number {
  let i = 0;
  const neg = s[0] === '-';
  if (neg || s[0] === '+') i = 1;
  if (i === s.length) return -1;
  let first = -1;
  let last = 0;
  for (let k = i; k < s.length; k++) {
    const c = s.charCodeAt(k);
    let v: number;
    if (c >= 0x30 && c <= 0x39) v = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) v = c - 0x61 + 10;
    else if (c >= 0x41 && c <= 0x46) v = c - 0x41 + 10;
    else return -1;
    if (first < 0 && v !== 0) first = k;
    last = v;
  }
  if (first >= 0) {
    const digits = s.length - first;
    if (digits > 16) return -1;
    if (digits === 16) {
      const top = Number.parseInt(s[first]!, 16);
      const min = neg && top === 8 && /^0*$/.test(s.slice(first + 1));
      if (top > 7 && !min) return -1;
    }
  }
  const low = last & 3;
  return neg ? -low & 3 : low;
}

/**
 * xray.Propagator.Extract (go.opentelemetry.io/contrib/propagators/aws/xray/propagator.go):
 * `Root=1-{8 hex}-{24 hex};Parent={16 hex};Sampled={0|1}`, other keys ignored; without
 * `Sampled`, or with one character other than 1, not sampled; any other value sampled.
 */
function extractXray(h: string | undefined, ids: Ids): boolean {
  if (h === undefined || h === '') return false;
  let traceId = '';
  let spanId = '';
  let sampled = false;
  let pos = 0;
  while (pos < h.length) {
    const d = h.indexOf(';', pos);
    let part: string;
    if (d >= 0) {
      part = h.slice(pos, d);
      pos = d + 1;
    } else {
      part = h.slice(pos).trim();
      pos = h.length;
    }
    const eq = part.indexOf('=');
    if (eq < 0) return false;
    const value = part.slice(eq + 1);
    if (part.startsWith('Root')) {
      if (value.length !== 35 || value[0] !== '1' || value[1] !== '-' || value[10] !== '-') return false;
      const id = value.slice(2, 10) + value.slice(11);
      if (!isLowerHex(id, 0, 32) || !nonZero(id)) return false;
      traceId = id;
    } else if (part.startsWith('Parent')) {
      if (!spanIdOk(value)) return false;
      spanId = value;
    } else if (part.startsWith('Sampled')) {
      sampled = !(value.length === 1 && value !== '1');
    }
  }
  if (traceId === '' || spanId === '') return false;
  ids.traceId = traceId;
  ids.spanId = spanId;
  ids.sampled = sampled;
  return true;
}

/**
 * ot.OT.Extract (go.opentelemetry.io/contrib/propagators/ot/ot_propagator.go): the
 * `ot-tracer-traceid` (16 hex digits padded, or 32), `ot-tracer-spanid` and `ot-tracer-sampled`
 * (0, 1, true, false, any case, or absent: not sampled) headers.
 */
function extractOt(headers: HeaderList, ids: Ids): boolean {
  const t = headers.get('ot-tracer-traceid') ?? '';
  const s = headers.get('ot-tracer-spanid') ?? '';
  let sampled: boolean;
  switch ((headers.get('ot-tracer-sampled') ?? '').toLowerCase()) {
    case '1':
    case 'true':
      sampled = true;
      break;
    case '0':
    case 'false':
    case '':
      sampled = false;
      break;
    default:
      return false;
  }
  if (t === '' || s === '') return false;
  const traceId = traceIdFrom(t);
  if (traceId === null || !spanIdOk(s)) return false;
  ids.traceId = traceId;
  ids.spanId = s;
  ids.sampled = sampled;
  return true;
}
