/**
 * Domain names in DNS wire format (RFC 1035 §3.1, §4.1.4), for the two DNS clients of the proxy:
 * ACME's DNS UPDATE (tls/acme/dns-update.ts) and CNAME flattening (proxy/cname-flattening.ts).
 */

/** A name in wire format, uncompressed; `lower` for the canonical form TSIG signs. */
export function encodeName(name: string, lower = false): Buffer {
  const bare = name.replace(/\.$/, '');
  const parts: Buffer[] = [];
  if (bare !== '') {
    for (const label of bare.split('.')) {
      const b = Buffer.from(lower ? label.toLowerCase() : label, 'latin1');
      if (b.length === 0 || b.length > 63) throw new Error(`bad DNS name ${JSON.stringify(name)}`);
      parts.push(Buffer.from([b.length]), b);
    }
  }
  parts.push(Buffer.from([0]));
  const wire = Buffer.concat(parts);
  if (wire.length > 255) throw new Error(`DNS name too long: ${name}`);
  return wire;
}

/**
 * The (possibly compressed) name at `start` in `msg`: its labels joined with dots (no final dot;
 * '' for the root), and the offset after it in place.
 */
export function readName(msg: Buffer, start: number): { name: string; end: number } {
  const labels: string[] = [];
  let off = start;
  let end = -1;
  for (let hops = 0; hops < 128; hops++) {
    const len = msg[off];
    if (len === undefined) throw new Error('truncated name');
    if ((len & 0xc0) === 0xc0) {
      const b2 = msg[off + 1];
      if (b2 === undefined) throw new Error('truncated name');
      if (end < 0) end = off + 2;
      off = ((len & 0x3f) << 8) | b2;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new Error('bad label');
    if (len === 0) return { name: labels.join('.'), end: end < 0 ? off + 1 : end };
    if (off + 1 + len > msg.length) throw new Error('truncated name');
    labels.push(msg.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  throw new Error('name compression loop');
}
