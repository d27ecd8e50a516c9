import { createHmac, generateKeyPairSync, scryptSync } from 'node:crypto';

/*
 * sprig v3's crypto.go functions that need more than a hash: derivePassword (the Master Password
 * algorithm, scrypt then HMAC-SHA256) and genPrivateKey (PEM as Go's x509 marshals each kind).
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
