import type { HeaderList } from '../../core/headers.ts';

/**
 * OpenTelemetry baggage as Traefik's propagators carry it from a request to its calls, when
 * OTEL_PROPAGATORS names `baggage` beside another format, or `ottrace` (go.opentelemetry.io/otel
 * baggage/baggage.go, propagation/baggage.go; go.opentelemetry.io/contrib/propagators/ot):
 * members by key (the last of a key wins), values decoded, properties as parsed. Made only for a
 * request that carries some; W3C trace context alone (the default) never looks at it.
 */
export type Baggage = Map<string, BaggageItem>;

export interface BaggageItem {
  readonly value: string;
  /** [key, value] ([key] for a property without value), in order. */
  readonly props: ReadonlyArray<readonly [string, string?]>;
}

/** W3C limits as otel-go applies them. */
const MAX_MEMBERS = 180;
const MAX_MEMBER_BYTES = 4096;
const MAX_BAGGAGE_BYTES = 8192;
/** propagation.Baggage's limits when it reads several `baggage` fields. */
const MAX_MULTI_MEMBERS = 64;

const OT_PREFIX = 'ot-baggage-';

/** validateKeyChar: RFC 7230 token characters. */
function keyChar(c: number): boolean {
  return (
    c === 0x21 ||
    (c >= 0x23 && c <= 0x27) ||
    c === 0x2a ||
    c === 0x2b ||
    c === 0x2d ||
    c === 0x2e ||
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x5e && c <= 0x7a) ||
    c === 0x7c ||
    c === 0x7e
  );
}

/** validateValueChar: baggage-octet (and `%`): printable ASCII but space, `"`, `,`, `;`, `\`. */
function valueChar(c: number): boolean {
  return c >= 0x21 && c <= 0x7e && c !== 0x22 && c !== 0x2c && c !== 0x3b && c !== 0x5c;
}

function validKey(s: string): boolean {
  if (s === '') return false;
  for (let i = 0; i < s.length; i++) if (!keyChar(s.charCodeAt(i))) return false;
  return true;
}

function validValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!valueChar(s.charCodeAt(i))) return false;
  return true;
}

const HEX = /^[0-9a-fA-F]{2}$/;
const UTF8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Go's url.PathUnescape (`%` must start two hex digits; `+` stays), then invalid UTF-8
 * sequences replaced by U+FFFD (replaceInvalidUTF8Sequences). null when it fails.
 */
function percentDecode(raw: string): string | null {
  if (raw.indexOf('%') === -1) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 0x25) {
      bytes.push(c);
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!HEX.test(hex)) return null;
    bytes.push(Number.parseInt(hex, 16));
    i += 2;
  }
  return UTF8.decode(Uint8Array.from(bytes));
}

/** Go's TrimSpace on the ASCII whitespace a header can hold. */
function trim(s: string): string {
  return s.replace(/^[ \t\r\n\v\f]+|[ \t\r\n\v\f]+$/g, '');
}

/** parsePropertyInternal: `key`, or `key = value` (value decoded); null when invalid. */
function parseProperty(s: string): [string, string?] | null {
  const m = /^[ \t]*([^ \t=]+)[ \t]*(?:=[ \t]*([^ \t]*)[ \t]*)?$/.exec(s);
  if (m === null || !validKey(m[1]!)) return null;
  if (m[2] === undefined) return s.includes('=') ? null : [m[1]!];
  if (!validValue(m[2])) return null;
  const v = percentDecode(m[2]);
  return v === null ? null : [m[1]!, v];
}

/** baggage.Parse: the whole string or nothing (any invalid member fails it). */
function parseBaggage(s: string, into: Array<[string, BaggageItem]>): boolean {
  if (s === '') return true;
  if (s.length > MAX_BAGGAGE_BYTES) return false;
  const out: Array<[string, BaggageItem]> = [];
  for (const member of s.split(',')) {
    if (member.length > MAX_MEMBER_BYTES) return false;
    const semi = member.indexOf(';');
    const kv = semi === -1 ? member : member.slice(0, semi);
    const props: Array<[string, string?]> = [];
    if (semi !== -1) {
      for (const p of member.slice(semi + 1).split(';')) {
        // An empty property is skipped (it writes as nothing).
        if (p === '') continue;
        const prop = parseProperty(p);
        if (prop === null) return false;
        props.push(prop);
      }
    }
    const eq = kv.indexOf('=');
    if (eq === -1) return false;
    const key = trim(kv.slice(0, eq));
    const raw = trim(kv.slice(eq + 1));
    if (!validKey(key) || !validValue(raw)) return false;
    const value = percentDecode(raw);
    if (value === null) return false;
    out.push([key, { value, props }]);
  }
  for (const e of out) into.push(e);
  return true;
}

/** baggage.New: last of a key wins; too many members or too long a string is no baggage. */
function newBaggage(members: ReadonlyArray<[string, BaggageItem]>): Baggage | null {
  const b: Baggage = new Map();
  for (const [k, item] of members) b.set(k, item);
  if (b.size > MAX_MEMBERS) return null;
  if (b.size > 0 && serializeBaggage(b).length > MAX_BAGGAGE_BYTES) return null;
  return b;
}

/**
 * propagation.Baggage.Extract over every `baggage` field (extractMultiBaggage): each parsed
 * alone (an invalid one skipped), up to 8,192 bytes and 64 members; null when none is left
 * (the context's baggage stays as it was).
 */
export function extractW3cBaggage(headers: HeaderList): Baggage | null {
  const values = headers.getAll('baggage');
  if (values.length === 0) return null;
  const members: Array<[string, BaggageItem]> = [];
  let total = 0;
  for (const v of values) {
    total += v.length;
    if (total > MAX_BAGGAGE_BYTES) break;
    const one: Array<[string, BaggageItem]> = [];
    if (!parseBaggage(v, one)) continue;
    // Parse dedupes within one field.
    const dedup = new Map(one);
    for (const e of dedup) members.push(e);
    if (members.length >= MAX_MULTI_MEMBERS) break;
  }
  const b = newBaggage(members);
  return b === null || b.size === 0 ? null : b;
}

/**
 * The ot propagator's extractBags (called only once its span context is valid): every
 * `ot-baggage-<key>` field, the key lowercased, its (first) value a percent-encoded baggage
 * value. Any invalid one and the context's baggage is left as it was (null); otherwise it is
 * replaced, by an empty baggage when there is none.
 */
export function extractOtBaggage(headers: HeaderList): Baggage | null {
  const members: Array<[string, BaggageItem]> = [];
  const seen = new Set<string>();
  const { lnames, values } = headers;
  for (let i = 0; i < lnames.length; i++) {
    const lname = lnames[i]!;
    if (!lname.startsWith(OT_PREFIX) || seen.has(lname)) continue;
    // Go's carrier.Get: the field's first value.
    seen.add(lname);
    const key = lname.slice(OT_PREFIX.length);
    const raw = values[i]!;
    if (!validKey(key) || !validValue(raw)) return null;
    const value = percentDecode(raw);
    if (value === null) return null;
    members.push([key, { value, props: [] }]);
  }
  return newBaggage(members);
}

/** Member.String's value escaping (valueEscape): `%` and anything not a baggage-octet, as %XX. */
function escapeValue(v: string): string {
  let plain = true;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x25 || !valueChar(c)) {
      plain = false;
      break;
    }
  }
  if (plain) return v;
  let out = '';
  for (const byte of new TextEncoder().encode(v)) {
    out +=
      byte === 0x25 || !valueChar(byte)
        ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
        : String.fromCharCode(byte);
  }
  return out;
}

/** Baggage.String: `key=value[;prop[=value]]…` joined by commas. */
export function serializeBaggage(b: Baggage): string {
  const parts: string[] = [];
  for (const [k, item] of b) {
    let s = `${k}=${escapeValue(item.value)}`;
    for (const p of item.props) s += p.length === 1 ? `;${p[0]}` : `;${p[0]}=${escapeValue(p[1]!)}`;
    parts.push(s);
  }
  return parts.join(',');
}

/**
 * The ot propagator's Inject of the baggage: `ot-baggage-<key>: <value>` per member, the value
 * decoded as Go holds it. A value that decoded to a control character is not written (Go's
 * transport would refuse the whole request over it).
 */
export function injectOtBaggage(headers: HeaderList, b: Baggage): void {
  for (const [k, item] of b) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: header-breaking characters
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(item.value)) continue;
    headers.set(OT_PREFIX + k, item.value);
  }
}
