/**
 * bcrypt over a password's bytes, as Go's golang.org/x/crypto/bcrypt takes them (Traefik's
 * basicAuth, through go-http-auth's CheckSecret): bcryptjs's API takes a string and hashes its
 * UTF-8 encoding, which no string has for bytes that are not UTF-8 (a password sent in
 * ISO-8859-1). Its EksBlowfish (`_crypt`, the same code its API runs, not exported) is taken
 * from its module's text once, on first use, in the bcrypt worker only.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { decodeBase64, encodeBase64 } from 'bcryptjs';

type Crypt = (key: number[], salt: number[], rounds: number) => number[];

let crypt: Crypt | null = null;

function loadCrypt(): Crypt {
  if (crypt !== null) return crypt;
  const file = fileURLToPath(import.meta.resolve('bcryptjs'));
  // Its `import` (node:crypto, for random salts) and `export`s stripped: a script whose last
  // value is the inner function. A bcryptjs without it fails loudly (the unit test shows it).
  const text = readFileSync(file, 'utf8')
    .replace(/^import .*$/gm, '')
    .replace(/^export default \{[^}]*\};?$/m, '')
    .replace(/^export /gm, '');
  const fn: unknown = runInNewContext(`${text}\n;typeof _crypt === 'function' ? _crypt : undefined`, {
    setTimeout,
  });
  if (typeof fn !== 'function') throw new Error('bcryptjs has no _crypt function');
  crypt = fn as Crypt;
  return crypt;
}

const SETTING = /^\$2([abxy])\$(\d\d)\$([./A-Za-z0-9]{22})([./A-Za-z0-9]{31})$/;

/** Whether `hash` (`$2?$NN$salt+digest`) is bcrypt of these bytes (followed by NUL, as Go's key). */
export function bcryptBytes(password: Buffer, hash: string): boolean {
  const m = SETTING.exec(hash);
  if (m === null) return false;
  const rounds = Number(m[2]);
  if (rounds < 4 || rounds > 31) return false;
  const salt = decodeBase64(m[3]!, 16);
  const key = Array.from(password);
  key.push(0);
  const out = loadCrypt()(key, salt, rounds);
  // 23 of the 24 bytes, as every bcrypt writes them.
  const got = Buffer.from(encodeBase64(out, 23), 'latin1');
  const want = Buffer.from(m[4]!, 'latin1');
  return got.length === want.length && timingSafeEqual(got, want);
}
