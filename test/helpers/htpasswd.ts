/**
 * Password hashes made by the real tools users make them with: Apache's htpasswd (Debian's
 * apache2-utils) and openssl. A missing tool fails the test at once, naming the package.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const HTPASSWD = '/usr/bin/htpasswd';

/** `user:hash` from `htpasswd -nb` with `flags` (`-B -C 10` bcrypt, `-m` apr1, `-s` SHA-1). */
export function htpasswd(user: string, password: string, flags: readonly string[]): string {
  if (!existsSync(HTPASSWD)) {
    throw new Error(`htpasswd is not installed (apt-get install apache2-utils): ${HTPASSWD} is missing`);
  }
  return execFileSync(HTPASSWD, ['-nb', ...flags, user, password], { encoding: 'utf8' }).trim();
}

/**
 * `user:hash` of a password's bytes (not necessarily UTF-8: ISO-8859-1 passwords) from
 * `htpasswd -ni`, which reads the password from its standard input.
 */
export function htpasswdBytes(user: string, password: Buffer, flags: readonly string[]): string {
  if (!existsSync(HTPASSWD)) {
    throw new Error(`htpasswd is not installed (apt-get install apache2-utils): ${HTPASSWD} is missing`);
  }
  const input = Buffer.concat([password, Buffer.from('\n')]);
  return execFileSync(HTPASSWD, ['-ni', ...flags, user], { input })
    .toString('latin1')
    .trim();
}

/** `openssl passwd -apr1` (a random salt each time). */
export function opensslApr1(password: string): string {
  return execFileSync('openssl', ['passwd', '-apr1', password], { encoding: 'utf8' }).trim();
}
