/**
 * The password hashes of htpasswd files, as Traefik checks them (go-http-auth's CheckSecret):
 * bcrypt (`$2a$`, `$2b$`, `$2x$`, `$2y$`), MD5-crypt (`$apr1$` of Apache, `$1$`) and SHA-1
 * (`{SHA}` + base64). Plain-text passwords are not accepted (Traefik refuses them too). The final
 * comparison of each is constant-time (`timingSafeEqual` here, bcryptjs's own for bcrypt).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export { type HashKind, hashKind } from '../../core/htpasswd-kind.ts';

/**
 * Checks the cheap kinds (SHA-1, MD5-crypt: ~1000 MD5 rounds) on the calling thread. `password`
 * is bytes (a latin1 string, as parseBasicAuthorization gives them): Go hashes the bytes sent.
 */
export function verifyCheap(password: string, hash: string): boolean {
  const pw = Buffer.from(password, 'latin1');
  if (hash.startsWith('{SHA}')) {
    const want = Buffer.from(hash.slice(5), 'base64');
    const got = createHash('sha1').update(pw).digest();
    return want.length === got.length && timingSafeEqual(want, got);
  }
  const parts = hash.split('$');
  if (parts.length !== 4) return false;
  const computed = Buffer.from(md5Crypt(pw, Buffer.from(parts[2]!, 'latin1'), `$${parts[1]}$`), 'latin1');
  const want = Buffer.from(hash, 'latin1');
  return computed.length === want.length && timingSafeEqual(computed, want);
}

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function to64(v: number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    s += ITOA64[v & 0x3f];
    v >>>= 6;
  }
  return s;
}

/** Poul-Henning Kamp's MD5-crypt (FreeBSD `$1$`, Apache `$apr1$`: only the magic differs). */
export function md5Crypt(pw: Buffer, saltIn: Buffer, magic: string): string {
  const salt = saltIn.subarray(0, 8);
  const alt = createHash('md5').update(pw).update(salt).update(pw).digest();
  const ctx = createHash('md5').update(pw).update(magic, 'latin1').update(salt);
  for (let n = pw.length; n > 0; n -= 16) ctx.update(alt.subarray(0, Math.min(16, n)));
  const zero = Buffer.alloc(1);
  for (let i = pw.length; i > 0; i >>>= 1) ctx.update(i & 1 ? zero : pw.subarray(0, 1));
  let fin = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = createHash('md5');
    c.update(i & 1 ? pw : fin);
    if (i % 3) c.update(salt);
    if (i % 7) c.update(pw);
    c.update(i & 1 ? fin : pw);
    fin = c.digest();
  }
  const f = fin;
  const enc =
    to64((f[0]! << 16) | (f[6]! << 8) | f[12]!, 4) +
    to64((f[1]! << 16) | (f[7]! << 8) | f[13]!, 4) +
    to64((f[2]! << 16) | (f[8]! << 8) | f[14]!, 4) +
    to64((f[3]! << 16) | (f[9]! << 8) | f[15]!, 4) +
    to64((f[4]! << 16) | (f[10]! << 8) | f[5]!, 4) +
    to64(f[11]!, 2);
  return `${magic}${salt.toString('latin1')}$${enc}`;
}
