/**
 * The PROXY protocol (HAProxy's doc/proxy-protocol.txt), versions 1 (text) and 2 (binary): a
 * header a load balancer writes first on a connection to say whose connection it is. Parsed
 * strictly on the way in (nothing is guessed: a header is one of the two exact forms or it is
 * refused), and written on the way out. Pure functions on bytes.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { parseIPv6 } from './ip.ts';

/** The v2 signature: `\r\n\r\n\0\r\nQUIT\n`. */
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The longest v1 line, CRLF included. */
const V1_MAX = 107;
/** A v2 header longer than this is refused (addresses and TLVs need far less). */
const V2_MAX = 16 + 4096;

/** Whose connection it is: the source the header declares (the client), and its destination. */
export interface ProxiedAddresses {
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
}

export type ProxyHeaderParse =
  /** Not enough bytes to tell yet. */
  | { readonly kind: 'incomplete' }
  /** The bytes are not a PROXY header (the header is optional). */
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid'; readonly reason: string }
  /**
   * A header of `length` bytes. `addresses` null: LOCAL (v2) or UNKNOWN (v1), the connection's
   * own addresses stand (a health check from the balancer itself).
   */
  | {
      readonly kind: 'header';
      readonly version: 1 | 2;
      readonly length: number;
      readonly addresses: ProxiedAddresses | null;
    };

const INCOMPLETE: ProxyHeaderParse = { kind: 'incomplete' };
const NONE: ProxyHeaderParse = { kind: 'none' };

function invalid(reason: string): ProxyHeaderParse {
  return { kind: 'invalid', reason };
}

/** Whether `buf` starts like `prefix` as far as it goes (all of it, or all of `buf`). */
function startsLike(buf: Uint8Array, prefix: Uint8Array): boolean {
  const n = Math.min(buf.length, prefix.length);
  for (let i = 0; i < n; i++) if (buf[i] !== prefix[i]) return false;
  return true;
}

/** Reads a PROXY header at the start of `buf`, if there is one. */
export function parseProxyHeader(buf: Buffer): ProxyHeaderParse {
  if (buf.length === 0) return INCOMPLETE;
  if (startsLike(buf, V2_SIGNATURE)) return buf.length < 16 ? INCOMPLETE : parseV2(buf);
  if (startsLike(buf, V1_PREFIX)) return buf.length < V1_PREFIX.length ? INCOMPLETE : parseV1(buf);
  return NONE;
}

/** Decimal port, 0–65535, without a leading zero (HAProxy's rule). */
function port(text: string): number {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return -1;
  const n = Number(text);
  return n <= 65_535 ? n : -1;
}

/**
 * An IPv6 address as inet_pton reads it (HAProxy's reader): node's isIPv6 also takes a zone
 * (`fe80::1%eth0`), which names an interface of the sender's host, not an address, and would
 * reach X-Forwarded-For and the access log. Found by test/fuzz/proxy-protocol.test.ts.
 */
function isIPv6Address(a: string): boolean {
  return !a.includes('%') && isIPv6(a);
}

function parseV1(buf: Buffer): ProxyHeaderParse {
  const end = buf.indexOf('\r\n', 0, 'latin1');
  if (end === -1) return buf.length >= V1_MAX ? invalid('v1 header longer than 107 bytes') : INCOMPLETE;
  if (end + 2 > V1_MAX) return invalid('v1 header longer than 107 bytes');
  const line = buf.toString('latin1', 0, end);
  if (line.includes('\r') || line.includes('\n')) return invalid('v1 header with a bare CR or LF');
  const parts = line.split(' ');
  if (parts[1] === 'UNKNOWN') return { kind: 'header', version: 1, length: end + 2, addresses: null };
  if (parts.length !== 6) return invalid('v1 header: expected PROXY TCP4|TCP6 src dst sport dport');
  const [, family, src, dst, sp, dp] = parts as [string, string, string, string, string, string];
  const check = family === 'TCP4' ? isIPv4 : family === 'TCP6' ? isIPv6Address : null;
  if (check === null) return invalid(`v1 header: unknown protocol ${JSON.stringify(family)}`);
  if (!check(src) || !check(dst))
    return invalid(`v1 header: an address is not ${family === 'TCP4' ? 'IPv4' : 'IPv6'}`);
  const sport = port(sp);
  const dport = port(dp);
  if (sport < 0 || dport < 0) return invalid('v1 header: bad port');
  return {
    kind: 'header',
    version: 1,
    length: end + 2,
    addresses: { sourceAddress: src, sourcePort: sport, destinationAddress: dst, destinationPort: dport },
  };
}

function ipv6(b: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(b.readUInt16BE(at + i * 2).toString(16));
  return canonical6(groups.join(':'));
}

function parseV2(buf: Buffer): ProxyHeaderParse {
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) return invalid('v2 header: version is not 2');
  const command = verCmd & 0x0f;
  if (command !== 0 && command !== 1) return invalid('v2 header: unknown command');
  const family = buf[13]! >> 4;
  // Families 0-3 and transports 0-2 (UNSPEC, STREAM, DGRAM); other values "must be rejected as
  // invalid by receivers" (proxy-protocol.txt, 2.2), whatever the command: decided at byte 14,
  // before waiting for the rest. Found by test/fuzz/proxy-protocol.test.ts.
  if (family > 3) return invalid('v2 header: unknown address family');
  if ((buf[13]! & 0x0f) > 2) return invalid('v2 header: unknown transport protocol');
  const length = 16 + buf.readUInt16BE(14);
  if (length > V2_MAX) return invalid('v2 header too long');
  if (buf.length < length) return INCOMPLETE;
  // LOCAL: the balancer's own connection; the addresses (if any) are skipped.
  if (command === 0) return { kind: 'header', version: 2, length, addresses: null };
  switch (family) {
    case 0:
      return { kind: 'header', version: 2, length, addresses: null };
    case 1: {
      if (length < 16 + 12) return invalid('v2 header: IPv4 addresses truncated');
      return {
        kind: 'header',
        version: 2,
        length,
        addresses: {
          sourceAddress: `${buf[16]}.${buf[17]}.${buf[18]}.${buf[19]}`,
          destinationAddress: `${buf[20]}.${buf[21]}.${buf[22]}.${buf[23]}`,
          sourcePort: buf.readUInt16BE(24),
          destinationPort: buf.readUInt16BE(26),
        },
      };
    }
    case 2: {
      if (length < 16 + 36) return invalid('v2 header: IPv6 addresses truncated');
      return {
        kind: 'header',
        version: 2,
        length,
        addresses: {
          sourceAddress: ipv6(buf, 16),
          destinationAddress: ipv6(buf, 32),
          sourcePort: buf.readUInt16BE(48),
          destinationPort: buf.readUInt16BE(50),
        },
      };
    }
    default:
      // 3, AF_UNIX: no IP to declare; the connection's own address stands.
      return { kind: 'header', version: 2, length, addresses: null };
  }
}

/** The socket addresses a header is written from (a net.Socket has them). */
export interface SocketAddresses {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
}

function unwrap(a: string): string {
  return a.startsWith('::ffff:') && isIPv4(a.slice(7)) ? a.slice(7) : a;
}

/** IPv4 as IPv4-mapped IPv6, for a header whose other address is IPv6. */
function asV6(a: string): string {
  return isIPv4(a) ? `::ffff:${a}` : a;
}

function v6Bytes(a: string): Buffer {
  const groups = new Uint16Array(8);
  parseIPv6(a, groups);
  const out = Buffer.alloc(16);
  for (let k = 0; k < 8; k++) out.writeUInt16BE(groups[k]!, k * 2);
  return out;
}

/** RFC 5952 text of an IPv6 address (node's URL formatter). */
function canonical6(a: string): string {
  return new URL(`http://[${a}]/`).hostname.slice(1, -1);
}

/**
 * The header for a connection from `client` (its remote side is the source, its local side the
 * destination), as HAProxy's `send-proxy` / `send-proxy-v2` writes it. Without usable addresses:
 * `PROXY UNKNOWN` (v1) or a LOCAL command (v2). IPv4-mapped addresses count as IPv4; a mix of
 * families is written as IPv6.
 */
export function encodeProxyHeader(version: 1 | 2, client: SocketAddresses | undefined): Buffer {
  const src = client?.remoteAddress === undefined ? undefined : unwrap(client.remoteAddress);
  const dst = client?.localAddress === undefined ? undefined : unwrap(client.localAddress);
  const sport = client?.remotePort;
  const dport = client?.localPort;
  const known = src !== undefined && dst !== undefined && sport !== undefined && dport !== undefined;
  const four = known && isIPv4(src) && isIPv4(dst);
  if (version === 1) {
    if (!known) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
    return Buffer.from(
      four
        ? `PROXY TCP4 ${src} ${dst} ${sport} ${dport}\r\n`
        : `PROXY TCP6 ${canonical6(asV6(src))} ${canonical6(asV6(dst))} ${sport} ${dport}\r\n`,
      'latin1',
    );
  }
  if (!known) {
    const h = Buffer.alloc(16);
    V2_SIGNATURE.copy(h, 0);
    h[12] = 0x20; // version 2, LOCAL
    h[13] = 0x00; // UNSPEC
    return h;
  }
  const addrLen = four ? 12 : 36;
  const h = Buffer.alloc(16 + addrLen);
  V2_SIGNATURE.copy(h, 0);
  h[12] = 0x21; // version 2, PROXY
  h[13] = four ? 0x11 : 0x21; // TCP over IPv4 / IPv6
  h.writeUInt16BE(addrLen, 14);
  if (four) {
    src.split('.').forEach((o, i) => {
      h[16 + i] = Number(o);
    });
    dst.split('.').forEach((o, i) => {
      h[20 + i] = Number(o);
    });
    h.writeUInt16BE(sport, 24);
    h.writeUInt16BE(dport, 26);
  } else {
    v6Bytes(asV6(src)).copy(h, 16);
    v6Bytes(asV6(dst)).copy(h, 32);
    h.writeUInt16BE(sport, 48);
    h.writeUInt16BE(dport, 50);
  }
  return h;
}
