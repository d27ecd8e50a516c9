/**
 * Go's net/netip error texts for an address or prefix that does not parse, as Traefik's ip
 * checker (pkg/ip/checker.go NewChecker: ParseAddr, else ParsePrefix) wraps them: `parsing CIDR
 * trusted IPs 10.0.0.0/33: netip.ParsePrefix("10.0.0.0/33"): prefix length out of range`. A port
 * of src/net/netip/netip.go's ParseAddr (parseIPv4, parseIPv6) and ParsePrefix checks and words
 * (Go 1.22+: no sign or leading zero in the bits). Only for messages: never per request.
 */
import { goQuote } from './go-string.ts';

class Unquotable extends Error {}

/** Go's strconv.Quote; Unquotable where goQuote does not know Go's escape. */
function quote(s: string): string {
  const q = goQuote(s);
  if (q === undefined) throw new Unquotable();
  return q;
}

/**
 * Traefik's ip.NewChecker error for one trusted IP or CIDR value (`parsing CIDR trusted IPs …`),
 * or undefined when Go parses it (or when it holds a character whose Go escape is unknown here).
 */
export function traefikIpCheckerError(v: string): string | undefined {
  try {
    return traefikIpCheckerErrorOrThrow(v);
  } catch (e) {
    if (e instanceof Unquotable) return undefined;
    throw e;
  }
}

/** Traefik's ip checker's words for a value, after ours (` (Traefik: …)`), or '' when it has none. */
export function ipCheckerSuffix(value: string): string {
  const t = traefikIpCheckerError(value);
  return t === undefined ? '' : ` (Traefik: ${t})`;
}

/** Go's netip.ParseAddr error text for `s`, or undefined when it parses. */
function parseAddrError(s: string): string | undefined {
  const err = (msg: string, at?: string): string =>
    `ParseAddr(${quote(s)}): ${msg}${at === undefined || at === '' ? '' : ` (at ${quote(at)})`}`;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '.') {
      const m = ipv4Error(s);
      return m === undefined ? undefined : err(m.msg, m.at);
    }
    if (s[i] === ':') return ipv6Error(s, err);
    if (s[i] === '%') return err('missing IPv6 address');
  }
  return err('unable to parse IP');
}

/** netip parseIPv4's error. */
function ipv4Error(s: string): { msg: string; at?: string } | undefined {
  let val = 0;
  let pos = 0;
  let digLen = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c >= '0' && c <= '9') {
      if (digLen === 1 && val === 0) return { msg: 'IPv4 field has octet with leading zero' };
      val = val * 10 + Number(c);
      digLen++;
      if (val > 255) return { msg: 'IPv4 field has value >255' };
    } else if (c === '.') {
      if (i === 0 || i === s.length - 1 || s[i - 1] === '.') {
        return { msg: 'IPv4 field must have at least one digit', at: s.slice(i) };
      }
      if (pos === 3) return { msg: 'IPv4 address too long' };
      pos++;
      val = 0;
      digLen = 0;
    } else {
      return { msg: 'unexpected character', at: s.slice(i) };
    }
  }
  if (pos < 3) return { msg: 'IPv4 address too short' };
  return undefined;
}

/** netip parseIPv6's error. */
function ipv6Error(input: string, err: (msg: string, at?: string) => string): string | undefined {
  let s = input;
  const z = s.indexOf('%');
  let zoned = false;
  if (z !== -1) {
    if (z === s.length - 1) return err('zone must be a non-empty string');
    s = s.slice(0, z);
    zoned = true;
  }
  let ellipsis = -1;
  if (s.startsWith('::')) {
    ellipsis = 0;
    s = s.slice(2);
    if (s === '') return zoned ? ZONED : undefined;
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    for (; off < s.length; off++) {
      const d = Number.parseInt(s[off]!, 16);
      if (!/[0-9a-fA-F]/.test(s[off]!)) break;
      acc = acc * 16 + d;
      if (acc > 0xffff) return err('IPv6 field has value >=2^16', s);
    }
    if (off === 0) return err('each colon-separated field must have at least one digit', s);
    if (off < s.length && s[off] === '.') {
      if (ellipsis < 0 && i !== 12)
        return err('embedded IPv4 address must replace the final 2 fields of the address', s);
      if (i + 4 > 16) return err('too many hex fields to fit an embedded IPv4 at the end of the address', s);
      const v4 = ipv4Error(s);
      if (v4 !== undefined) {
        const inner = `ParseAddr(${quote(s)}): ${v4.msg}${v4.at === undefined ? '' : ` (at ${quote(v4.at)})`}`;
        return err(inner, s);
      }
      s = '';
      i += 4;
      break;
    }
    i += 2;
    s = s.slice(off);
    if (s === '') break;
    if (s[0] !== ':') return err('unexpected character, want colon', s);
    if (s.length === 1) return err('colon must be followed by more characters', s);
    s = s.slice(1);
    if (s[0] === ':') {
      if (ellipsis >= 0) return err('multiple :: in address', s);
      ellipsis = i;
      s = s.slice(1);
      if (s === '') break;
    }
  }
  if (s !== '') return err('trailing garbage after address', s);
  if (i < 16) {
    if (ellipsis < 0) return err('address string too short');
  } else if (ellipsis >= 0) {
    return err('the :: must expand to at least one field of zeros');
  }
  return zoned ? ZONED : undefined;
}

/** An IPv6 address that parsed with a zone: valid to ParseAddr, refused in a prefix. */
const ZONED = '\0zoned';

/** Traefik's ip.NewChecker error for one value: ParseAddr, else ParsePrefix (pkg/ip/checker.go). */
function traefikIpCheckerErrorOrThrow(v: string): string | undefined {
  const addr = parseAddrError(v);
  if (addr === undefined || addr === ZONED) return undefined;
  const p = (msg: string): string => `parsing CIDR trusted IPs ${v}: netip.ParsePrefix(${quote(v)}): ${msg}`;
  const slash = v.lastIndexOf('/');
  if (slash < 0) return p("no '/'");
  const ip = v.slice(0, slash);
  const e = parseAddrError(ip);
  if (e === ZONED) return p('IPv6 zones cannot be present in a prefix');
  if (e !== undefined) return p(e);
  const bits = v.slice(slash + 1);
  // Go 1.22+: no sign or leading zero (strconv.Atoi would take them).
  if (!/^(0|[1-9][0-9]*)$/.test(bits) || bits.length > 18) return p(`bad bits after slash: ${quote(bits)}`);
  const max = ip.includes(':') ? 128 : 32;
  if (Number(bits) > max) return p('prefix length out of range');
  return undefined;
}
