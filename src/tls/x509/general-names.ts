/**
 * Subject alternative names: the strings users write (DNS names, wildcards, IP literals) to and
 * from RFC 5280 4.2.1.6 GeneralNames. Only dNSName [2] and iPAddress [7] are produced; other
 * kinds are skipped when reading.
 */

import { ia5Bytes, implicit, sequence } from '../../core/der.ts';
import { children, content, type Element, readElement } from '../../core/der-reader.ts';
import { parseIPv4, parseIPv6 } from '../../core/ip.ts';

export type SubjectName = { readonly kind: 'dns'; readonly value: string } | IpName;
interface IpName {
  readonly kind: 'ip';
  readonly value: string;
  readonly bytes: Uint8Array;
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

function parseIp(text: string): IpName | undefined {
  const v4 = parseIPv4(text);
  if (v4 >= 0) {
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(v4);
    return { kind: 'ip', value: formatIp(bytes), bytes };
  }
  if (!text.includes(':')) return undefined;
  const groups = new Uint16Array(8);
  if (!parseIPv6(text, groups)) return undefined;
  const bytes = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) bytes.writeUInt16BE(groups[i]!, i * 2);
  return { kind: 'ip', value: formatIp(bytes), bytes };
}

/**
 * Classifies and normalises one name: IP literals (IPv6 optionally in brackets) become iPAddress
 * entries, everything else must be an ASCII host name, optionally with a leading `*.` wildcard
 * label. Host names are lower-cased and lose one trailing dot. Throws TypeError for anything
 * else, because a certificate naming a host that cannot exist is a caller bug.
 */
export function parseSubjectName(raw: string): SubjectName {
  const unbracketed = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  const ip = parseIp(unbracketed);
  if (ip !== undefined) return ip;
  const name = (raw.endsWith('.') ? raw.slice(0, -1) : raw).toLowerCase();
  if (name.length === 0 || name.length > 253) throw new TypeError(`invalid DNS name ${JSON.stringify(raw)}`);
  const labels = name.split('.');
  const wildcard = labels[0] === '*';
  // RFC 6125 6.4.3: a wildcard is a whole left-most label, and never the only label.
  if (wildcard && labels.length < 2) throw new TypeError(`invalid wildcard name ${JSON.stringify(raw)}`);
  for (let i = wildcard ? 1 : 0; i < labels.length; i++) {
    if (!LABEL.test(labels[i]!)) throw new TypeError(`invalid DNS name ${JSON.stringify(raw)}`);
  }
  return { kind: 'dns', value: name };
}

/** Parses every name and drops duplicates (after normalisation), keeping the first order. */
export function parseSubjectNames(raw: readonly string[]): SubjectName[] {
  const seen = new Set<string>();
  const out: SubjectName[] = [];
  for (const text of raw) {
    const name = parseSubjectName(text);
    if (seen.has(name.value)) continue;
    seen.add(name.value);
    out.push(name);
  }
  return out;
}

/** GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName. */
export function encodeGeneralNames(names: readonly SubjectName[]): Buffer {
  if (names.length === 0) throw new RangeError('GeneralNames needs at least one name');
  return sequence(
    ...names.map((name) =>
      name.kind === 'dns' ? implicit(2, ia5Bytes(name.value)) : implicit(7, name.bytes),
    ),
  );
}

/** The dNSName and iPAddress entries of an encoded GeneralNames, in order. */
export function decodeGeneralNames(der: Uint8Array): SubjectName[] {
  const root: Element = readElement(der);
  const out: SubjectName[] = [];
  for (const element of children(der, root)) {
    const value = content(der, element);
    if (element.tag === 0x82) {
      out.push({ kind: 'dns', value: Buffer.from(value).toString('latin1') });
    } else if (element.tag === 0x87 && (value.length === 4 || value.length === 16)) {
      out.push({ kind: 'ip', value: formatIp(value), bytes: value });
    }
  }
  return out;
}

/** Dotted quad, or the RFC 5952 text form of an IPv6 address (lower case, longest zero run as ::). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 1; // RFC 5952 4.2.2: a single zero group is not shortened.
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
