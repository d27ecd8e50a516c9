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
import {
  bitString,
  boolean,
  explicit,
  implicit,
  integer,
  namedBits,
  nullValue,
  octetString,
  oid,
  printableString,
  sequence,
  setOf,
  utf8String,
  x509Time,
} from '../../core/der.ts';
import { children, content, type Element, readElement } from '../../core/der-reader.ts';
import { parseIPv4, parseIPv6 } from '../../core/ip.ts';
import { pemBlocks, toPem } from '../../core/pem.ts';
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
      // Go's asn1.Marshal of sprig's DSAKeyFormat: a SEQUENCE of its INTEGERs.
      return toPem('DSA PRIVATE KEY', sequence(...[0n, p, q, g, modPow(g, x, p), x].map((v) => integer(v))));
    }
    default:
      return `Unknown type ${type}`;
  }
}

/** Every INTEGER of a DER structure, in order (nested SEQUENCEs and OCTET STRINGs opened). */
function readDerIntegers(der: Buffer): bigint[] {
  const out: bigint[] = [];
  const walk = (b: Uint8Array, el: Element): void => {
    if (el.tag === 0x02) out.push(BigInt(`0x${Buffer.from(content(b, el)).toString('hex') || '0'}`));
    else if (el.tag === 0x30) for (const c of children(b, el)) walk(b, c);
    else if (el.tag === 0x04) {
      const inner = content(b, el);
      for (let at = 0; at < inner.length; ) {
        const c = readElement(inner, at);
        walk(inner, c);
        at = c.end;
      }
    }
  };
  walk(der, readElement(der));
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

/** A Name with a CommonName only (pkix.Name{CommonName: cn}); PrintableString when it can be, as Go's asn1. */
function commonName(cn: string): Buffer {
  let value: Buffer;
  try {
    value = printableString(cn);
  } catch {
    value = utf8String(cn);
  }
  return sequence(setOf(sequence(oid('2.5.4.3'), value)));
}

/** The elements directly inside `der`'s outer element, each whole (tag and length included). */
function elementsOf(der: Uint8Array, el: Element = readElement(der)): Buffer[] {
  return children(der, el).map((c) => Buffer.from(der.subarray(c.start, c.end)));
}
const contents = (whole: Buffer): Buffer => Buffer.from(content(whole, readElement(whole)));

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
  const tbs = elementsOf(block.der)[0]!;
  const fields = elementsOf(tbs);
  const at = fields[0]![0] === 0xa0 ? 1 : 0; // [0] version
  const subject = fields[at + 4]!;
  let keyId: Buffer | undefined;
  const ext = fields.find((f) => f[0] === 0xa3);
  if (ext !== undefined) {
    for (const e of elementsOf(elementsOf(ext)[0]!)) {
      const [id, ...rest] = elementsOf(e);
      if (id?.equals(oid('2.5.29.14'))) keyId = contents(contents(rest.at(-1)!));
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

/**
 * Go's net.ParseIP then x509's marshalSANs: an IPv4 address (or an IPv4-mapped IPv6 one, which
 * Go's To4 turns back) is written in 4 octets, any other IPv6 in 16.
 */
function ipBytesOf(text: string): Buffer {
  const v4 = parseIPv4(text);
  const b = Buffer.alloc(16);
  if (v4 >= 0) return Buffer.from([v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255]);
  const groups = new Uint16Array(8);
  if (!text.includes(':') || !parseIPv6(text, groups)) throw new Error(`error parsing ip: ${text}`);
  for (let i = 0; i < 8; i++) b.writeUInt16BE(groups[i]!, i * 2);
  const mapped = groups.subarray(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  return mapped ? b.subarray(12) : b;
}

/** Go's x509.CreateCertificate for sprig's template (getBaseCertTemplate), PEM. */
function createCertificate(
  opts: CertOptions,
  pub: KeyObject,
  signer: { key: KeyObject; subject?: Buffer; keyId?: Buffer },
): string {
  const ipBytes = opts.ips.map((ip) => ipBytesOf(typeof ip === 'string' ? ip : String(ip)));
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
      ? sequence(oid('1.2.840.113549.1.1.11'), nullValue())
      : alg === 'ec'
        ? sequence(oid('1.2.840.10045.4.3.2'))
        : alg === 'ed25519'
          ? sequence(oid('1.3.101.112'))
          : undefined;
  if (sigAlg === undefined) throw new Error('x509: only RSA, ECDSA and Ed25519 keys supported');
  // KeyUsage bits: digitalSignature (0), keyEncipherment (2), keyCertSign (5).
  const usage = opts.ca ? [0, 2, 5] : [0, 2];
  const extensions: Buffer[] = [
    sequence(oid('2.5.29.15'), boolean(true), octetString(namedBits(usage))),
    sequence(oid('2.5.29.37'), octetString(sequence(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2')))),
    sequence(oid('2.5.29.19'), boolean(true), octetString(opts.ca ? sequence(boolean(true)) : sequence())),
  ];
  // Go gives a CA a subject key id: the SHA-1 of the public key's bits.
  if (opts.ca) {
    const keyBits = contents(elementsOf(spki)[1]!).subarray(1);
    extensions.push(
      sequence(oid('2.5.29.14'), octetString(octetString(createHash('sha1').update(keyBits).digest()))),
    );
  }
  if (signer.subject !== undefined && !signer.subject.equals(subject) && signer.keyId !== undefined)
    extensions.push(sequence(oid('2.5.29.35'), octetString(sequence(implicit(0, signer.keyId)))));
  if (dnsNames.length > 0 || ipBytes.length > 0) {
    const names = [
      ...dnsNames.map((d) => implicit(2, Buffer.from(d))),
      ...ipBytes.map((b) => implicit(7, b)),
    ];
    extensions.push(sequence(oid('2.5.29.17'), octetString(sequence(...names))));
  }
  const tbs = sequence(
    explicit(0, integer(2)),
    integer(serial),
    sigAlg,
    issuer,
    sequence(x509Time(now), x509Time(notAfter)),
    subject,
    spki,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign(alg === 'ed25519' ? null : 'sha256', tbs, signer.key);
  return toPem('CERTIFICATE', sequence(tbs, sigAlg, bitString(signature)));
}

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
