import type { HeaderList } from '../core/headers.ts';

/**
 * An entry point's `http.aliasHeadersStrategy` (Traefik v3.7.12) or the deprecated
 * `http.underscoreHeadersStrategy` (v3.6.20, v3.7.6): what becomes of the request fields whose
 * name aliases another one. Backends that turn field names into variables (CGI, WSGI, PHP,
 * nginx) read `X_Auth_User`, `X.Auth.User` or `X~Auth~User` as `X-Auth-User`, the field a
 * middleware (forwardAuth's authResponseHeaders, basicAuth's headerField…) manages only in its
 * dash form: a client could smuggle an alias past it. Null on the entry point: `keep`.
 */
export interface AliasHeaders {
  /** `reject`: such a request is a 400; `delete`: its aliasing fields are removed. */
  readonly reject: boolean;
  /** `underscoreHeadersStrategy`: only names with `_` count. */
  readonly underscoreOnly: boolean;
}

type Strategy = 'keep' | 'delete' | 'reject';

/** The policy of an entry point: aliasHeadersStrategy when set, else underscoreHeadersStrategy. */
export function aliasHeadersPolicy(
  alias: Strategy | undefined,
  underscore: Strategy | undefined,
): AliasHeaders | null {
  const s = alias ?? underscore;
  if (s === undefined || s === 'keep') return null;
  return { reject: s === 'reject', underscoreOnly: alias === undefined };
}

/**
 * Whether a lowercase field name aliases another: a character other than a letter, a digit or
 * `-` (the tchars `!#$%&'*+.^_`|~`, each read as `_` by such backends), or `_` alone.
 */
function aliases(ln: string, underscoreOnly: boolean): boolean {
  if (underscoreOnly) return ln.includes('_');
  for (let i = 0; i < ln.length; i++) {
    const c = ln.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d)) return true;
  }
  return false;
}

/**
 * Applies the policy to a request's fields, before routing (Traefik checks them as the request
 * enters the entry point): false when the request must be refused (`reject`), else the aliasing
 * fields are gone (`delete`).
 */
export function applyAliasHeaders(headers: HeaderList, policy: AliasHeaders): boolean {
  const { lnames } = headers;
  let found = false;
  for (let i = 0; i < lnames.length; i++) {
    if (aliases(lnames[i]!, policy.underscoreOnly)) {
      found = true;
      break;
    }
  }
  if (!found) return true;
  if (policy.reject) return false;
  headers.deleteWhere((ln) => aliases(ln, policy.underscoreOnly));
  return true;
}
