import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  scryptSync,
  sign,
  X509Certificate,
} from 'node:crypto';
import { isIP } from 'node:net';
import { GoValue } from './exec.ts';

/*
 * sprig v3's crypto.go functions that need more than a hash: derivePassword (the Master Password
 * algorithm, scrypt then HMAC-SHA256), genPrivateKey (PEM as Go's x509 marshals each kind), and
 * the certificate generators (genCA, genSelfSignedCert, genSignedCert, their WithKey forms,
 * buildCustomCert): X.509 v3 as Go's x509.CreateCertificate writes sprig's template (a random
 * 128-bit serial, the CommonName, key usages, server and client auth, basic constraints, a CA's
 * subject key id, the signer's as authority key id, DNS and IP alternative names).
 */

const SEED = 'com.lyndir.masterpassword';
const TEMPLATES: Record<string, readonly string[]> = {
  maximum: ['anoxxxxxxxxxxxxxxxxx', 'axxxxxxxxxxxxxxxxxno'],
  long: [
    'CvcvnoCvcvCvcv',
    'CvcvCvcvnoCvcv',
    'CvcvCvcvCvcvno',
    'CvccnoCvcvCvcv',
    'CvccCvcvnoCvcv',
    'CvccCvcvCvcvno',
    'CvcvnoCvccCvcv',
    'CvcvCvccnoCvcv',
    'CvcvCvccCvcvno',
    'CvcvnoCvcvCvcc',
    'CvcvCvcvnoCvcc',
    'CvcvCvcvCvccno',
    'CvccnoCvccCvcv',
    'CvccCvccnoCvcv',
    'CvccCvccCvcvno',
    'CvcvnoCvccCvcc',
    'CvcvCvccnoCvcc',
    'CvcvCvccCvccno',
    'CvccnoCvcvCvcc',
    'CvccCvcvnoCvcc',
    'CvccCvcvCvccno',
  ],
  medium: ['CvcnoCvc', 'CvcCvcno'],
  short: ['Cvcn'],
  basic: ['aaanaaan', 'aannaaan', 'aaannaaa'],
  pin: ['nnnn'],
};
const CHARS: Record<string, string> = {
  V: 'AEIOU',
  C: 'BCDFGHJKLMNPQRSTVWXYZ',
  v: 'aeiou',
  c: 'bcdfghjklmnpqrstvwxyz',
  A: 'AEIOUBCDFGHJKLMNPQRSTVWXYZ',
  a: 'AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz',
  n: '0123456789',
  o: "@&%?,=[]_:-+*$#!'^~;()/.",
  x: 'AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()',
};

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

/** sprig's derivePassword(counter, passwordType, password, user, site). */
export function derivePassword(
  counter: number,
  type: string,
  password: string,
  user: string,
  site: string,
): string {
  const templates = TEMPLATES[type];
  if (templates === undefined) return `cannot find password template ${type}`;
  const userBytes = Buffer.from(user);
  const salt = Buffer.concat([Buffer.from(SEED), u32(userBytes.length), userBytes]);
  const key = scryptSync(Buffer.from(password), salt, 64, {
    N: 32768,
    r: 8,
    p: 2,
    maxmem: 128 * 32768 * 8 * 3,
  });
  const siteBytes = Buffer.from(site);
  const seed = createHmac('sha256', key)
    .update(Buffer.concat([Buffer.from(SEED), u32(siteBytes.length), siteBytes, u32(counter)]))
    .digest();
  const template = templates[seed[0]! % templates.length]!;
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const chars = CHARS[template[i]!]!;
    out += chars[seed[i + 1]! % chars.length];
  }
  return out;
}

/** DER of a SEQUENCE of non-negative INTEGERs (Go's asn1.Marshal of sprig's DSAKeyFormat). */
function derIntegers(values: readonly bigint[]): Buffer {
  const len = (n: number): Buffer =>
    n < 128 ? Buffer.from([n]) : n < 256 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 255]);
  const ints = values.map((v) => {
    let hex = v.toString(16);
    if (hex.length % 2 === 1) hex = `0${hex}`;
    let body = Buffer.from(hex, 'hex');
    if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
    return Buffer.concat([Buffer.from([0x02]), len(body.length), body]);
  });
  const content = Buffer.concat(ints);
  return Buffer.concat([Buffer.from([0x30]), len(content.length), content]);
}

const pem = (type: string, der: Buffer): string =>
  `-----BEGIN ${type}-----\n${der
    .toString('base64')
    .replace(/.{64}/g, '$&\n')
    .replace(/\n$/, '')}\n-----END ${type}-----\n`;

/**
 * sprig's genPrivateKey: RSA 4096 (PKCS #1), DSA L2048N256 (sprig's DSAKeyFormat), ECDSA P-256
 * (SEC 1), Ed25519 (PKCS #8), as pemBlockForKey writes them; another type is its text.
 */
export function genPrivateKey(type: string): string {
  switch (type) {
    case '':
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: 4096 })
        .privateKey.export({ type: 'pkcs1', format: 'pem' })
        .toString();
    case 'ecdsa':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' })
        .privateKey.export({ type: 'sec1', format: 'pem' })
        .toString();
    case 'ed25519':
      return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    case 'dsa': {
      const { privateKey } = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
      const der = privateKey.export({ type: 'pkcs8', format: 'der' });
      // PrivateKeyInfo: the parameters (p, q, g) and x; y = g^x mod p.
      const ints = readDerIntegers(der);
      const [p, q, g, x] = ints.slice(-4) as [bigint, bigint, bigint, bigint];
      return pem('DSA PRIVATE KEY', derIntegers([0n, p, q, g, modPow(g, x, p), x]));
    }
    default:
      return `Unknown type ${type}`;
  }
}

/** Every INTEGER of a DER structure, in order (nested SEQUENCEs and OCTET STRINGs opened). */
function readDerIntegers(der: Buffer): bigint[] {
  const out: bigint[] = [];
  const walk = (b: Buffer): void => {
    let i = 0;
    while (i < b.length) {
      const tag = b[i++]!;
      let n = b[i++]!;
      if (n & 0x80) {
        const k = n & 0x7f;
        n = 0;
        for (let j = 0; j < k; j++) n = (n << 8) | b[i++]!;
      }
      const body = b.subarray(i, i + n);
      i += n;
      if (tag === 0x02) out.push(BigInt(`0x${body.toString('hex') || '0'}`));
      else if (tag === 0x30 || tag === 0x04) walk(body);
    }
  };
  walk(der);
  return out;
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let r = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return r;
}

/** sprig's certificate: `.Cert` and `.Key`, PEM; printed as Go prints the struct. */
export class Certificate extends GoValue {
  readonly goType = 'sprig.certificate';
  readonly cert: string;
  readonly key: string;
  constructor(cert: string, key: string) {
    super();
    this.cert = cert;
    this.key = key;
  }
  goString(): string {
    return `{${this.cert} ${this.key}}`;
  }
  goMethod(name: string): ((...args: unknown[]) => unknown) | undefined {
    if (name === 'Cert') return () => this.cert;
    if (name === 'Key') return () => this.key;
    return undefined;
  }
}

// DER, as much of it as a certificate needs.
const derLen = (n: number): Buffer => {
  if (n < 128) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 255);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
};
const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLen(body.length), body]);
};
const seq = (...c: Buffer[]): Buffer => tlv(0x30, ...c);
const derInt = (v: bigint): Buffer => {
  let hex = v.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let body = Buffer.from(hex, 'hex');
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(0x02, body);
};
const oid = (dotted: string): Buffer => {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [a * 40 + b];
  for (const n of rest) {
    const enc: number[] = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) enc.unshift(0x80 | (v & 0x7f));
    bytes.push(...enc);
  }
  return tlv(0x06, Buffer.from(bytes));
};
const bitString = (b: Buffer, unused = 0): Buffer => tlv(0x03, Buffer.from([unused]), b);
const octets = (b: Buffer): Buffer => tlv(0x04, b);

/** Go's asn1 time: UTCTime from 1950 to 2049, GeneralizedTime otherwise. */
function derTime(d: Date): Buffer {
  const y = d.getUTCFullYear();
  const p = (n: number) => String(n).padStart(2, '0');
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(`${p(y % 100)}${rest}`));
  return tlv(0x18, Buffer.from(`${String(y).padStart(4, '0')}${rest}`));
}

/** A Name with a CommonName only (pkix.Name{CommonName: cn}); PrintableString when it can be. */
function commonName(cn: string): Buffer {
  const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(cn);
  return seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(printable ? 0x13 : 0x0c, Buffer.from(cn)))));
}

/** The DER elements of a SEQUENCE, each whole (tag and length included). */
function derElements(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    const start = i++;
    let n = b[i++]!;
    if (n & 0x80) {
      const k = n & 0x7f;
      n = 0;
      for (let j = 0; j < k; j++) n = n * 256 + b[i++]!;
    }
    i += n;
    out.push(b.subarray(start, i));
  }
  return out;
}
const contents = (el: Buffer): Buffer => {
  let i = 1;
  const n = el[i++]!;
  if (n & 0x80) i += n & 0x7f;
  return el.subarray(i);
};

function pemBlocks(text: string): { type: string; der: Buffer }[] {
  return [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----\r?\n([^-]*)-----END \1-----/g)].map((m) => ({
    type: m[1]!,
    der: Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64'),
  }));
}

/** sprig's parsePrivateKeyPEM: RSA (PKCS #1), EC (SEC 1) or PKCS #8. */
function parsePrivateKeyPEM(text: string): KeyObject {
  const block = pemBlocks(text)[0];
  if (block === undefined) throw new Error('no PEM data in input');
  const types: Record<string, 'pkcs1' | 'sec1' | 'pkcs8'> = {
    'RSA PRIVATE KEY': 'pkcs1',
    'EC PRIVATE KEY': 'sec1',
    'PRIVATE KEY': 'pkcs8',
  };
  const type = types[block.type];
  if (type === undefined) throw new Error(`no known key type in PEM block ${JSON.stringify(block.type)}`);
  return createPrivateKey({ key: block.der, format: 'der', type });
}

/** The signer's certificate: its subject (as written) and subject key id. */
function parseSigner(certPem: string): { subject: Buffer; keyId?: Buffer } {
  const block = pemBlocks(certPem).find((b) => b.type === 'CERTIFICATE');
  if (block === undefined) throw new Error('unable to decode certificate');
  try {
    new X509Certificate(block.der);
  } catch (e) {
    throw new Error(`error parsing certificate: decodedSignerCert.Bytes: ${(e as Error).message}`);
  }
  const tbs = derElements(contents(derElements(block.der)[0]!))[0]!;
  const fields = derElements(contents(tbs));
  const at = fields[0]![0] === 0xa0 ? 1 : 0; // [0] version
  const subject = fields[at + 4]!;
  let keyId: Buffer | undefined;
  const ext = fields.find((f) => f[0] === 0xa3);
  if (ext !== undefined) {
    for (const e of derElements(contents(derElements(contents(ext))[0]!))) {
      const [id, ...rest] = derElements(contents(e));
      if (id?.equals(oid('2.5.29.14'))) keyId = contents(derElements(contents(rest.at(-1)!))[0]!);
    }
  }
  return keyId === undefined ? { subject } : { subject, keyId };
}

interface CertOptions {
  readonly cn: string;
  readonly ips: readonly unknown[];
  readonly dns: readonly unknown[];
  readonly days: number;
  readonly ca: boolean;
}

/** Go's x509.CreateCertificate for sprig's template (getBaseCertTemplate), PEM. */
function createCertificate(
  opts: CertOptions,
  pub: KeyObject,
  signer: { key: KeyObject; subject?: Buffer; keyId?: Buffer },
): string {
  const ipBytes = opts.ips.map((ip) => {
    const s = typeof ip === 'string' ? ip : String(ip);
    const v = isIP(s);
    if (v === 0) throw new Error(`error parsing ip: ${s}`);
    if (v === 4) return Buffer.from(s.split('.').map(Number));
    return ipv6Bytes(s);
  });
  const dnsNames = opts.dns.map((d) => {
    if (typeof d !== 'string') throw new Error(`error processing alternate dns name: ${String(d)}`);
    return d;
  });
  const serial = BigInt(`0x${randomBytes(16).toString('hex')}`);
  const now = new Date();
  const notAfter = new Date(now.getTime() + opts.days * 86_400_000);
  const subject = commonName(opts.cn);
  const issuer = signer.subject ?? subject;
  const spki = pub.export({ type: 'spki', format: 'der' });
  const alg = signer.key.asymmetricKeyType;
  const sigAlg =
    alg === 'rsa'
      ? seq(oid('1.2.840.113549.1.1.11'), tlv(0x05))
      : alg === 'ec'
        ? seq(oid('1.2.840.10045.4.3.2'))
        : alg === 'ed25519'
          ? seq(oid('1.3.101.112'))
          : undefined;
  if (sigAlg === undefined) throw new Error('x509: only RSA, ECDSA and Ed25519 keys supported');
  // KeyUsage bits: digitalSignature (0), keyEncipherment (2), keyCertSign (5).
  const usage = opts.ca ? 0b10100100 : 0b10100000;
  const extensions: Buffer[] = [
    seq(
      oid('2.5.29.15'),
      tlv(0x01, Buffer.from([0xff])),
      octets(bitString(Buffer.from([usage]), opts.ca ? 2 : 5)),
    ),
    seq(oid('2.5.29.37'), octets(seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2')))),
    seq(
      oid('2.5.29.19'),
      tlv(0x01, Buffer.from([0xff])),
      octets(opts.ca ? seq(tlv(0x01, Buffer.from([0xff]))) : seq()),
    ),
  ];
  // Go gives a CA a subject key id: the SHA-1 of the public key's bits.
  if (opts.ca) {
    const keyBits = contents(derElements(contents(spki))[1]!).subarray(1);
    extensions.push(seq(oid('2.5.29.14'), octets(octets(createHash('sha1').update(keyBits).digest()))));
  }
  if (signer.subject !== undefined && !signer.subject.equals(subject) && signer.keyId !== undefined)
    extensions.push(seq(oid('2.5.29.35'), octets(seq(tlv(0x80, signer.keyId)))));
  if (dnsNames.length > 0 || ipBytes.length > 0) {
    const names = [...dnsNames.map((d) => tlv(0x82, Buffer.from(d))), ...ipBytes.map((b) => tlv(0x87, b))];
    extensions.push(seq(oid('2.5.29.17'), octets(seq(...names))));
  }
  const tbs = seq(
    tlv(0xa0, derInt(2n)),
    derInt(serial),
    sigAlg,
    issuer,
    seq(derTime(now), derTime(notAfter)),
    subject,
    spki,
    tlv(0xa3, seq(...extensions)),
  );
  const signature = sign(alg === 'ed25519' ? null : 'sha256', tbs, signer.key);
  return pem('CERTIFICATE', seq(tbs, sigAlg, bitString(signature)));
}

function ipv6Bytes(s: string): Buffer {
  const [head = '', tail] = s.split('::') as [string, string | undefined];
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => (g.includes('.') ? ipv4Words(g) : [Number.parseInt(g, 16)]));
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const words = [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  for (const [i, w] of words.entries()) b.writeUInt16BE(w, i * 2);
  return b;
}
const ipv4Words = (s: string): number[] => {
  const [a, b, c, d] = s.split('.').map(Number) as [number, number, number, number];
  return [(a << 8) | b, (c << 8) | d];
};

const keyPem = (k: KeyObject): string =>
  k.asymmetricKeyType === 'rsa'
    ? k.export({ type: 'pkcs1', format: 'pem' }).toString()
    : k.asymmetricKeyType === 'ec'
      ? k.export({ type: 'sec1', format: 'pem' }).toString()
      : k.export({ type: 'pkcs8', format: 'pem' }).toString();

const rsa2048 = (): KeyObject => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const withKey = (privPem: string): KeyObject => {
  try {
    return parsePrivateKeyPEM(privPem);
  } catch (e) {
    throw new Error(`parsing private key: ${(e as Error).message}`);
  }
};

function caOf(v: unknown): { cert: string; key: string } {
  if (v instanceof Certificate) return v;
  throw new Error('wrong type for value; expected sprig.certificate');
}

/** sprig's genCA/genCAWithKey. */
export function genCA(cn: string, days: number, privPem?: string): Certificate {
  const priv = privPem === undefined ? rsa2048() : withKey(privPem);
  const cert = createCertificate({ cn, ips: [], dns: [], days, ca: true }, createPublicKey(priv), {
    key: priv,
  });
  return new Certificate(cert, keyPem(priv));
}

/** sprig's genSelfSignedCert/genSelfSignedCertWithKey. */
export function genSelfSignedCert(
  cn: string,
  ips: readonly unknown[],
  dns: readonly unknown[],
  days: number,
  privPem?: string,
): Certificate {
  const priv = privPem === undefined ? rsa2048() : withKey(privPem);
  const cert = createCertificate({ cn, ips, dns, days, ca: false }, createPublicKey(priv), { key: priv });
  return new Certificate(cert, keyPem(priv));
}

/** sprig's genSignedCert/genSignedCertWithKey. */
export function genSignedCert(
  cn: string,
  ips: readonly unknown[],
  dns: readonly unknown[],
  days: number,
  ca: unknown,
  privPem?: string,
): Certificate {
  const signer = caOf(ca);
  const { subject, keyId } = parseSigner(signer.cert);
  let signerKey: KeyObject;
  try {
    signerKey = parsePrivateKeyPEM(signer.key);
  } catch (e) {
    throw new Error(`error parsing private key: ${(e as Error).message}`);
  }
  const priv = privPem === undefined ? rsa2048() : withKey(privPem);
  const cert = createCertificate({ cn, ips, dns, days, ca: false }, createPublicKey(priv), {
    key: signerKey,
    subject,
    ...(keyId === undefined ? {} : { keyId }),
  });
  return new Certificate(cert, keyPem(priv));
}

/** sprig's buildCustomCert: a certificate and key given in base64, checked. */
export function buildCustomCert(b64cert: string, b64key: string): Certificate {
  const b64 = /^[A-Za-z0-9+/]*={0,2}$/;
  if (!b64.test(b64cert) || b64cert.length % 4 !== 0) throw new Error('unable to decode base64 certificate');
  if (!b64.test(b64key) || b64key.length % 4 !== 0) throw new Error('unable to decode base64 private key');
  const cert = Buffer.from(b64cert, 'base64').toString('latin1');
  const key = Buffer.from(b64key, 'base64').toString('latin1');
  const block = pemBlocks(cert)[0];
  if (block === undefined) throw new Error('unable to decode certificate');
  try {
    new X509Certificate(block.der);
  } catch (e) {
    throw new Error(`error parsing certificate: decodedCert.Bytes: ${(e as Error).message}`);
  }
  try {
    parsePrivateKeyPEM(key);
  } catch (e) {
    throw new Error(`error parsing private key: ${(e as Error).message}`);
  }
  return new Certificate(cert, key);
}
