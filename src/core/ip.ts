/**
 * IP addresses and CIDR blocks for `ClientIP`, as Go's net.ParseIP / net.ParseCIDR read them:
 * IPv4 dotted quads without leading zeros, IPv6 with `::` and an optional trailing dotted quad.
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address, on both sides, as in Go.
 * Matching parses the client address without allocating (IPv6 groups go to a caller's buffer).
 */

/** Parses a dotted quad; returns the address as an unsigned 32-bit number, or -1. */
export function parseIPv4(s: string, from = 0, to = s.length): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = from; i <= to; i++) {
    const c = i === to ? 46 : s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) return -1;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
      continue;
    }
    if (c < 48 || c > 57) return -1;
    // Go rejects leading zeros (they would be octal to some parsers).
    if (digits === 1 && part === 0) return -1;
    part = part * 10 + (c - 48);
    if (++digits > 3) return -1;
  }
  return parts === 4 ? value : -1;
}

/** Parses an IPv6 address into 8 groups. Returns false when it is not one. */
export function parseIPv6(s: string, out: Uint16Array): boolean {
  const n = s.length;
  if (n < 2) return false;
  let g = 0;
  let ellipsis = -1;
  let i = 0;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    ellipsis = 0;
    i = 2;
    if (i === n) {
      out.fill(0);
      return true;
    }
  }
  while (i < n) {
    let v = 0;
    let d = 0;
    const start = i;
    for (; i < n && d < 5; i++) {
      const c = s.charCodeAt(i);
      let h: number;
      if (c >= 48 && c <= 57) h = c - 48;
      else if (c >= 97 && c <= 102) h = c - 87;
      else if (c >= 65 && c <= 70) h = c - 55;
      else break;
      v = v * 16 + h;
      d++;
    }
    if (d === 0 || d > 4) return false;
    if (i < n && s.charCodeAt(i) === 46) {
      // Trailing dotted quad: only where two groups are left.
      if (ellipsis < 0 && g !== 6) return false;
      if (g > 6) return false;
      const v4 = parseIPv4(s, start, n);
      if (v4 < 0) return false;
      out[g++] = v4 >>> 16;
      out[g++] = v4 & 0xffff;
      i = n;
      break;
    }
    out[g++] = v;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58 || g === 8) return false;
    i++;
    if (s.charCodeAt(i) === 58) {
      if (ellipsis >= 0) return false;
      ellipsis = g;
      i++;
      if (i === n) break;
    } else if (i === n) {
      return false;
    }
  }
  if (ellipsis < 0) return g === 8;
  if (g === 8) return false;
  const tail = g - ellipsis;
  for (let k = 0; k < tail; k++) out[7 - k] = out[g - 1 - k]!;
  for (let k = ellipsis; k < 8 - tail; k++) out[k] = 0;
  return true;
}

function isV4Mapped(g: Uint16Array): boolean {
  return g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff;
}

export type IpBlock =
  | { readonly v: 4; readonly net: number; readonly mask: number }
  | { readonly v: 6; readonly groups: Uint16Array; readonly bits: number };

function v4Mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * `s` without its IPv6 zone (`fe80::1%eth0` → `fe80::1`), as Traefik's ip checker compares
 * addresses (pkg/ip/checker.go canonicalAddr: netip's `WithZone("")`, so an address matches with
 * any zone or none); undefined for an empty zone or a zone on what is no IPv6 text, which Go's
 * netip.ParseAddr refuses. `s` itself when it has none (nothing allocated).
 */
export function withoutZone(s: string): string | undefined {
  const z = s.indexOf('%');
  if (z === -1) return s;
  if (z === s.length - 1) return undefined;
  const addr = s.slice(0, z);
  return addr.includes(':') ? addr : undefined;
}

/**
 * Parses `ip` or `ip/bits` as Traefik's ip.Checker does (netip.ParseAddr, else ParsePrefix): an
 * address may carry an IPv6 zone, dropped (canonicalAddr), a prefix may not (ParsePrefix: "IPv6
 * zones cannot be present in a prefix"). Returns undefined when invalid.
 */
export function parseIpBlock(text: string): IpBlock | undefined {
  const slash = text.indexOf('/');
  const addr = slash === -1 ? withoutZone(text) : text.slice(0, slash);
  if (addr === undefined) return undefined;
  let bits = -1;
  if (slash !== -1) {
    const b = text.slice(slash + 1);
    if (!/^(0|[1-9]\d{0,2})$/.test(b)) return undefined;
    bits = Number(b);
  }
  if (!addr.includes(':')) {
    const v4 = parseIPv4(addr);
    if (v4 < 0 || bits > 32) return undefined;
    const mask = v4Mask(bits === -1 ? 32 : bits);
    return { v: 4, net: (v4 & mask) >>> 0, mask };
  }
  const groups = new Uint16Array(8);
  if (!parseIPv6(addr, groups) || bits > 128) return undefined;
  if (bits === -1) bits = 128;
  if (isV4Mapped(groups)) {
    // Go's IPNet.Contains compares a v4-mapped network as IPv4, keeping only the last 32 mask bits.
    const v4 = ((groups[6]! << 16) | groups[7]!) >>> 0;
    const mask = v4Mask(Math.max(0, bits - 96));
    return { v: 4, net: (v4 & mask) >>> 0, mask };
  }
  for (let k = 0; k < 8; k++) {
    const keep = Math.min(16, Math.max(0, bits - k * 16));
    groups[k] = groups[k]! & (keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff);
  }
  return { v: 6, groups, bits };
}

/**
 * A compiled ClientIP test. `scratch` is per matcher: matching is synchronous, so one buffer per
 * matcher is enough and nothing is allocated per request.
 */
export function ipBlockContains(block: IpBlock, ip: string, scratch: Uint16Array): boolean {
  if (!ip.includes(':')) {
    if (block.v !== 4) return false;
    const v4 = parseIPv4(ip);
    return v4 >= 0 && (v4 & block.mask) >>> 0 === block.net;
  }
  // A link-local peer's address carries its zone (node writes `fe80::1%eth0`), ignored as
  // Traefik's checker ignores it (canonicalAddr); only such an address is copied.
  const a = withoutZone(ip);
  if (a === undefined || !parseIPv6(a, scratch)) return false;
  if (isV4Mapped(scratch)) {
    if (block.v !== 4) return false;
    const v4 = ((scratch[6]! << 16) | scratch[7]!) >>> 0;
    return (v4 & block.mask) >>> 0 === block.net;
  }
  if (block.v !== 6) return false;
  const bits = block.bits;
  for (let k = 0; k < 8; k++) {
    const keep = bits - k * 16;
    if (keep <= 0) return true;
    const mask = keep >= 16 ? 0xffff : (0xffff << (16 - keep)) & 0xffff;
    if ((scratch[k]! & mask) !== block.groups[k]) return false;
  }
  return true;
}

/** IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d; rules and logs want a.b.c.d. */
export function unwrapIp(addr: string | undefined): string {
  if (addr === undefined) return '';
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}
