/**
 * Which htpasswd hash a basicAuth user's line holds, as Traefik tells them apart (go-http-auth's
 * CheckSecret, which Traefik's pkg/middlewares/auth/basic_auth.go calls): bcrypt (`$2a$`, `$2b$`,
 * `$2x$`, `$2y$`), MD5-crypt (`$apr1$` of Apache, `$1$`: any `$magic$salt$hash` is computed as
 * MD5-crypt, so `$5$`/`$6$` SHA-crypt hashes never match) and SHA-1 (`{SHA}` + base64). Anything
 * else (plain text, SHA-crypt, DES crypt) never authenticates. Zod-free and import-free: the
 * middleware checks with it, and `traffic validate` warns with it (config/dynamic/validate.ts).
 */
export type HashKind = 'bcrypt' | 'md5crypt' | 'sha1' | 'unsupported';

export function hashKind(hash: string): HashKind {
  if (/^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) return 'bcrypt';
  if (hash.startsWith('{SHA}')) return 'sha1';
  if (/^\$[^$]+\$[^$]*\$[./0-9A-Za-z]{22}$/.test(hash)) return 'md5crypt';
  return 'unsupported';
}

/**
 * Why an unsupported hash may be a good one written wrong: `$$apr1$$…` is docker compose's
 * escape of `$apr1$…` (compose turns `$$` into `$`), copied into a file, a label set another way
 * or a KV store, where nothing unescapes it. '' when it is not that.
 */
export function composeEscapeHint(hash: string): string {
  return hash.startsWith('$$') && hashKind(hash.replaceAll('$$', '$')) !== 'unsupported'
    ? "; `$$` is docker compose's escape of `$`: outside a compose file, write each `$$` as `$`"
    : '';
}
