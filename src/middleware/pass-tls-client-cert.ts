import type { X509Certificate } from 'node:crypto';
import type { MiddlewareConfigOf } from '../config/dynamic/middlewares.ts';
import { TAG, tlv } from '../core/der.ts';
import { decodeOid } from '../core/der-reader.ts';
import type { Logger } from '../core/logger.ts';
import type { RequestHead } from '../core/request.ts';
import type { BuildContext, Middleware, MiddlewareFactory } from './middleware.ts';

type Config = MiddlewareConfigOf<'passTLSClientCert'>;
type InfoOptions = NonNullable<Config['info']>;
type DnOptions = NonNullable<InfoOptions['subject']> | NonNullable<InfoOptions['issuer']>;

/**
 * The TLS side of the connection a request arrived on, as the listener exposes it on
 * `RequestHead.tls` (undefined on cleartext). A `TLSSocket` satisfies it as it is. It is one object
 * per connection, so what is derived from the client certificate is computed once per connection
 * (renegotiation is disabled, so the certificate cannot change under it).
 */
export interface RequestTls {
  getPeerX509Certificate(): X509Certificate | undefined;
}

type TlsRequestHead = RequestHead & { readonly tls?: RequestTls | undefined };

const PEM_NAME = 'X-Forwarded-Tls-Client-Cert';
const INFO_NAME = 'X-Forwarded-Tls-Client-Cert-Info';
const INFO_LNAME = 'x-forwarded-tls-client-cert-info';

/** The header values for one connection; undefined = not set. */
interface CertHeaders {
  readonly pem: string | undefined;
  readonly info: string | undefined;
}

const NONE: CertHeaders = { pem: undefined, info: undefined };

/**
 * Traefik's passTLSClientCert: passes the client certificate of an mTLS connection to the backend,
 * replacing the fields of the same names. Without a client certificate (cleartext, or TLS without
 * one) the request's own fields are left as they are, as Traefik's ServeHTTP only sets them when
 * req.TLS has peer certificates: the entry point has already removed them from untrusted peers
 * (forwardedHeaders, core/forwarded-fields.ts, as Traefik's xHeaders), so only those of a trusted
 * proxy in front (one that terminated the client's TLS) reach the backend.
 *
 * Formats are Traefik v3's (`pkg/middlewares/passtlsclientcert`): the PEM field is the base64 DER
 * without the BEGIN/END lines and line breaks, not URL-escaped (v2.9.4+); the info field is
 * `Subject="…";Issuer="…";SerialNumber="…";NB="…";NA="…";SAN="…"` URL-escaped as Go's
 * url.QueryEscape does, with distinguished names as Go's pkix.Name holds them. Traefik joins every
 * certificate the client sent with ','; node exposes only the leaf as sent (its chain API completes
 * the chain from the trust store), so only the leaf is passed.
 */
class PassTlsClientCert implements Middleware {
  readonly #pem: boolean;
  readonly #info: InfoOptions | undefined;
  readonly #logger: Logger;
  readonly #name: string;
  readonly #byConnection = new WeakMap<RequestTls, CertHeaders>();

  constructor(config: Config, ctx: BuildContext) {
    this.#pem = config.pem;
    this.#info = config.info;
    this.#logger = ctx.logger;
    this.#name = ctx.name;
  }

  onRequest(req: RequestHead): undefined {
    const tls = (req as TlsRequestHead).tls;
    if (tls === undefined || (!this.#pem && this.#info === undefined)) return undefined;
    let v = this.#byConnection.get(tls);
    if (v === undefined) {
      const cert = tls.getPeerX509Certificate();
      v = cert === undefined ? NONE : this.#headersFor(cert);
      this.#byConnection.set(tls, v);
    }
    // No certificate: nothing set, the fields stay (Traefik's ServeHTTP only logs then).
    if (v === NONE) return undefined;
    const headers = req.headers;
    if (v.pem !== undefined) headers.set(PEM_NAME, v.pem);
    if (v.info !== undefined) headers.set(INFO_NAME, v.info);
    // A certificate our reader could not follow: Traefik would have set the field, so none of
    // the request's own goes on in its place.
    else if (this.#info !== undefined) headers.delete(INFO_LNAME);
    return undefined;
  }

  #headersFor(cert: X509Certificate): CertHeaders {
    const der = cert.raw;
    const pem = this.#pem ? der.toString('base64') : undefined;
    if (this.#info === undefined) return { pem, info: undefined };
    try {
      return { pem, info: queryEscape(certInfo(this.#info, cert, parseCertificate(der))) };
    } catch (err) {
      // OpenSSL accepted the certificate, so this is DER our small reader does not follow.
      this.#logger.warn('cannot read the client certificate', { middleware: this.#name, error: String(err) });
      return { pem, info: undefined };
    }
  }
}

export const passTLSClientCertFactory: MiddlewareFactory<Config> = {
  type: 'passTLSClientCert',
  create: (config, ctx) => new PassTlsClientCert(config, ctx),
};

// ---------------------------------------------------------------------------------------------
// The info field, as Traefik's getCertInfo builds it from Go's x509.Certificate.

/** Names as Go's pkix.Name.FillFromRDNSequence keeps them: lists in order, CN and SN the last one. */
interface Dn {
  readonly dc: string[];
  readonly c: string[];
  readonly st: string[];
  readonly l: string[];
  readonly o: string[];
  readonly ou: string[];
  sn: string;
  cn: string;
}

interface ParsedCertificate {
  readonly serial: string;
  readonly subject: Dn;
  readonly issuer: Dn;
  /** Go's getSANs order: DNS names, then e-mail addresses, then IPs, then URIs. */
  readonly sans: string[];
}

function certInfo(o: InfoOptions, cert: X509Certificate, p: ParsedCertificate): string {
  const fields: string[] = [];
  const subject = o.subject === undefined ? '' : dnText(p.subject, o.subject);
  if (subject !== '') fields.push(`Subject="${subject}"`);
  const issuer = o.issuer === undefined ? '' : dnText(p.issuer, o.issuer);
  if (issuer !== '') fields.push(`Issuer="${issuer}"`);
  if (o.serialNumber) fields.push(`SerialNumber="${p.serial}"`);
  if (o.notBefore) fields.push(`NB="${unixSeconds(cert.validFromDate)}"`);
  if (o.notAfter) fields.push(`NA="${unixSeconds(cert.validToDate)}"`);
  if (o.sans && p.sans.length > 0) fields.push(`SAN="${p.sans.join(',')}"`);
  return fields.join(';');
}

/** Go prints `uint64(t.Unix())`: a date before 1970 wraps around. */
function unixSeconds(d: Date): string {
  const s = Math.floor(d.getTime() / 1000);
  return s >= 0 ? String(s) : String(2n ** 64n + BigInt(s));
}

function dnText(dn: Dn, o: DnOptions): string {
  let s = '';
  // Traefik writes DC without the emptiness check the other parts get.
  if (o.domainComponent) for (const v of dn.dc) s += `DC=${v},`;
  if (o.country) s += parts('C', dn.c);
  if (o.province) s += parts('ST', dn.st);
  if (o.locality) s += parts('L', dn.l);
  if (o.organization) s += parts('O', dn.o);
  if ('organizationalUnit' in o && o.organizationalUnit) s += parts('OU', dn.ou);
  if (o.serialNumber && dn.sn !== '') s += `SN=${dn.sn},`;
  if (o.commonName && dn.cn !== '') s += `CN=${dn.cn},`;
  return s === '' ? s : s.slice(0, -1);
}

function parts(prefix: string, values: readonly string[]): string {
  let s = '';
  for (const v of values) if (v !== '') s += `${prefix}=${v},`;
  return s;
}

/**
 * Go's url.QueryEscape over a byte string (one char per byte, see `stringValue`): unreserved
 * characters kept, space as '+', every other byte %XX.
 */
export function queryEscape(bytes: string): string {
  return bytes
    .replace(/[^A-Za-z0-9._~ -]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
    .replaceAll(' ', '+');
}

// ---------------------------------------------------------------------------------------------
// Just enough DER (RFC 5280 §4.1) for the serial, the names and the subjectAltName extension.

interface Tlv {
  readonly tag: number;
  /** First content octet. */
  readonly start: number;
  readonly end: number;
  /** Offset of the identifier octet (the element, header included, is `head..end`). */
  readonly head: number;
}

function readTlv(der: Buffer, at: number, limit: number): Tlv {
  if (at + 2 > limit) throw new RangeError('DER: truncated element');
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw new RangeError('DER: unsupported length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[start + i]!;
    start += n;
  }
  if (start + length > limit) throw new RangeError('DER: element runs past its parent');
  return { tag, start, end: start + length, head: at };
}

function children(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const t = readTlv(der, at, parent.end);
    out.push(t);
    at = t.end;
  }
  return out;
}

// 0.9.2342.19200300.100.1.25 (domainComponent, RFC 4519) and 2.5.29.17 (subjectAltName).
const OID_DC = Buffer.from([0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19]);
const OID_SAN = Buffer.from([0x55, 0x1d, 0x11]);

function parseCertificate(der: Buffer): ParsedCertificate {
  const cert = readTlv(der, 0, der.length);
  const tbs = children(der, readTlv(der, cert.start, cert.end));
  let i = tbs[0]?.tag === 0xa0 ? 1 : 0; // [0] version
  const serial = tbs[i];
  const issuer = tbs[i + 2];
  const subject = tbs[i + 4];
  if (serial === undefined || issuer === undefined || subject === undefined || serial.tag !== 0x02)
    throw new RangeError('not an X.509 certificate');
  const sans: string[] = [];
  for (i += 6; i < tbs.length; i++) {
    const t = tbs[i]!;
    if (t.tag !== 0xa3) continue; // [3] extensions
    for (const ext of children(der, readTlv(der, t.start, t.end))) {
      const f = children(der, ext);
      const id = f[0];
      const value = f[f.length - 1];
      if (id === undefined || value === undefined || value.tag !== 0x04) continue;
      if (OID_SAN.compare(der, id.start, id.end) === 0)
        sanList(der, readTlv(der, value.start, value.end), sans);
    }
  }
  return {
    serial: integerText(der, serial),
    subject: parseName(der, subject),
    issuer: parseName(der, issuer),
    sans,
  };
}

function integerText(der: Buffer, t: Tlv): string {
  let v = 0n;
  for (let i = t.start; i < t.end; i++) v = (v << 8n) | BigInt(der[i]!);
  if (t.end > t.start && der[t.start]! & 0x80) v -= 1n << BigInt(8 * (t.end - t.start));
  return v.toString();
}

function parseName(der: Buffer, name: Tlv): Dn {
  const dn: Dn = { dc: [], c: [], st: [], l: [], o: [], ou: [], sn: '', cn: '' };
  for (const rdn of children(der, name)) {
    for (const atv of children(der, rdn)) {
      const [type, value] = children(der, atv);
      if (type === undefined || value === undefined) throw new RangeError('DER: bad attribute');
      const text = stringValue(der, value);
      if (text === undefined) continue;
      if (type.end - type.start === 3 && der[type.start] === 0x55 && der[type.start + 1] === 0x04) {
        const arc = der[type.start + 2];
        if (arc === 3) dn.cn = text;
        else if (arc === 5) dn.sn = text;
        else if (arc === 6) dn.c.push(text);
        else if (arc === 7) dn.l.push(text);
        else if (arc === 8) dn.st.push(text);
        else if (arc === 10) dn.o.push(text);
        else if (arc === 11) dn.ou.push(text);
      } else if (OID_DC.compare(der, type.start, type.end) === 0) dn.dc.push(text);
    }
  }
  return dn;
}

/**
 * A name's value as Go holds it: a byte string, here one char per byte, so that the escaping sees
 * Go's bytes. UTF8String, PrintableString, IA5String, NumericString and T61String are their bytes
 * as they are (Go does not transcode T61); a BMPString is UTF-16BE turned into UTF-8.
 */
function stringValue(der: Buffer, t: Tlv): string | undefined {
  switch (t.tag) {
    case 0x0c:
    case 0x12:
    case 0x13:
    case 0x14:
    case 0x16:
      return der.toString('latin1', t.start, t.end);
    case 0x1e: {
      // Go drops a trailing NUL terminator.
      let end = t.end;
      if (end - t.start >= 2 && der[end - 1] === 0 && der[end - 2] === 0) end -= 2;
      let s = '';
      for (let i = t.start; i + 1 < end; i += 2) s += String.fromCharCode((der[i]! << 8) | der[i + 1]!);
      return Buffer.from(s, 'utf8').toString('latin1');
    }
    default:
      return undefined;
  }
}

function sanList(der: Buffer, names: Tlv, out: string[]): void {
  const dns: string[] = [];
  const email: string[] = [];
  const ip: string[] = [];
  const uri: string[] = [];
  for (const n of children(der, names)) {
    if (n.tag === 0x82) dns.push(der.toString('latin1', n.start, n.end));
    else if (n.tag === 0x81) email.push(der.toString('latin1', n.start, n.end));
    else if (n.tag === 0x87) ip.push(formatIp(der.subarray(n.start, n.end)));
    else if (n.tag === 0x86) {
      // Go's url.URL.String() lowercases the scheme; the rest of a well-formed URI is kept.
      const u = der.toString('latin1', n.start, n.end);
      const m = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(u);
      uri.push(m === null ? u : m[0].toLowerCase() + u.slice(m[0].length));
    }
  }
  out.push(...dns, ...email, ...ip, ...uri);
}

/** Go's net.IP.String(): IPv4 (and IPv4-mapped IPv6) dotted, IPv6 per RFC 5952. */
export function formatIp(b: Uint8Array): string {
  const mapped =
    b.length === 16 && b[10] === 0xff && b[11] === 0xff && b.subarray(0, 10).every((x) => x === 0);
  if (b.length === 4 || mapped) return Array.from(b.subarray(b.length - 4)).join('.');
  if (b.length !== 16) return `?${Buffer.from(b).toString('hex')}`;
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i]! << 8) | b[i + 1]!);
  // The first longest run of two or more zero groups becomes '::'.
  let zs = -1;
  let ze = -1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i >= 2 && j - i > ze - zs) {
      zs = i;
      ze = j;
    }
  }
  if (zs === -1) return g.map((x) => x.toString(16)).join(':');
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  return `${hex(g.slice(0, zs))}::${hex(g.slice(ze))}`;
}

// ---------------------------------------------------------------------------------------------
// Go's pkix.Name.String() of a certificate's subject: the access log's TLSClientSubject.

/** 2.5.4.x arcs that Go's FillFromRDNSequence parses into named fields, with String()'s names. */
const NAMED_ARCS: ReadonlyMap<number, string> = new Map([
  [3, 'CN'],
  [5, 'SERIALNUMBER'],
  [6, 'C'],
  [7, 'L'],
  [8, 'ST'],
  [9, 'STREET'],
  [10, 'O'],
  [11, 'OU'],
  [17, 'POSTALCODE'],
]);

/** ToRDNSequence's order: C, ST, L, STREET, POSTALCODE, O, OU, then CN and SERIALNUMBER. */
const RDN_ORDER = [6, 8, 7, 9, 17, 10, 11, 3, 5] as const;

/**
 * The subject of a DER certificate as Go's `pkix.Name.String()` writes it (crypto/x509/pkix
 * pkix.go): the attributes it does not parse into fields first (`<oid>=#<hex of the value as
 * asn1.Marshal encodes it>`), then ToRDNSequence's C, ST, L, STREET, POSTALCODE, O, OU (each
 * type's values in one RDN, joined by `+`), CN and SERIALNUMBER (the last value of each); the
 * sequence written last RDN first, joined by `,`, values escaped as RDNSequence.String() does.
 * Traefik logs it as TLSClientSubject (pkg/middlewares/accesslog/logger.go ServeHTTP).
 */
export function goSubjectString(der: Buffer, issuer = false): string {
  const cert = readTlv(der, 0, der.length);
  const tbs = children(der, readTlv(der, cert.start, cert.end));
  // tbsCertificate: [version], serial, signature, issuer, validity, subject.
  const subject = tbs[(tbs[0]?.tag === 0xa0 ? 5 : 4) - (issuer ? 2 : 0)];
  if (subject === undefined || subject.tag !== 0x30) throw new RangeError('not an X.509 certificate');
  const rdns: string[][] = [];
  const named = new Map<number, string[]>();
  for (const rdn of children(der, subject)) {
    for (const atv of children(der, rdn)) {
      const [type, value] = children(der, atv);
      if (type === undefined || value === undefined) throw new RangeError('DER: bad attribute');
      const text = stringValue(der, value);
      const arc =
        type.end - type.start === 3 && der[type.start] === 0x55 && der[type.start + 1] === 0x04
          ? der[type.start + 2]!
          : -1;
      const name = NAMED_ARCS.get(arc);
      if (name !== undefined) {
        // A value Go does not read as a string is neither a field nor written (Names keeps it,
        // String() skips the parsed types).
        if (text === undefined) continue;
        const list = named.get(arc);
        if (list === undefined) named.set(arc, [text]);
        else list.push(text);
        continue;
      }
      // Go's ObjectIdentifier.String().
      const oid = decodeOid(der.subarray(type.start, type.end));
      rdns.push([`${oid}=#${marshalled(der, value, text).toString('hex')}`]);
    }
  }
  for (const arc of RDN_ORDER) {
    const values = named.get(arc);
    if (values === undefined) continue;
    const name = NAMED_ARCS.get(arc)!;
    // CommonName and SerialNumber keep the last value only.
    const kept = arc === 3 || arc === 5 ? [values[values.length - 1]!] : values;
    if (kept[0] === '' && kept.length === 1 && (arc === 3 || arc === 5)) continue;
    rdns.push(kept.map((v) => `${name}=${escapeRdnValue(v)}`));
  }
  const s = rdns
    .map((rdn) => rdn.join('+'))
    .reverse()
    .join(',');
  // Go's bytes (one char per byte here) back to the text they spell.
  return Buffer.from(s, 'latin1').toString('utf8');
}

/** RDNSequence.String()'s escaping: `,+"\<>;` always, a space first or last, a `#` first. */
function escapeRdnValue(v: string): string {
  let out = '';
  for (let k = 0; k < v.length; k++) {
    const c = v[k]!;
    const special =
      c === ',' ||
      c === '+' ||
      c === '"' ||
      c === '\\' ||
      c === '<' ||
      c === '>' ||
      c === ';' ||
      (c === ' ' && (k === 0 || k === v.length - 1)) ||
      (c === '#' && k === 0);
    out += special ? `\\${c}` : c;
  }
  return out;
}

/**
 * asn1.Marshal of the value Go parsed: a string is written as a PrintableString when every byte
 * is printable (letters, digits, space and `'()+,-./:=?`), else a UTF8String; any other value as
 * it was encoded.
 */
function marshalled(der: Buffer, value: Tlv, text: string | undefined): Buffer {
  if (text === undefined) return der.subarray(value.head, value.end);
  const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text);
  const body = Buffer.from(text, 'latin1');
  return tlv(printable ? TAG.PRINTABLE_STRING : TAG.UTF8_STRING, body);
}
