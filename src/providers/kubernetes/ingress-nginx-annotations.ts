/**
 * The `nginx.ingress.kubernetes.io/*` annotations of an Ingress, read as Traefik's ingress-nginx
 * provider reads them (pkg/provider/kubernetes/ingress-nginx/annotations.go parseIngressConfig):
 * a string as it is; a bool is true for `true` in any case and false for anything else; an int as
 * Go's strconv.Atoi (anything else leaves it unset); a list split at commas, each part trimmed.
 * Annotations it does not know are ignored, as there.
 */

export const NGINX_PREFIX = 'nginx.ingress.kubernetes.io/';

type Kind = 'string' | 'bool' | 'int' | 'list';

/** Each annotation (after the prefix) Traefik reads, with its type. */
const KINDS = {
  'auth-type': 'string',
  'auth-secret': 'string',
  'auth-realm': 'string',
  'auth-secret-type': 'string',
  'auth-url': 'string',
  'auth-signin': 'string',
  'auth-response-headers': 'string',
  'auth-method': 'string',
  'auth-snippet': 'string',
  'auth-tls-secret': 'string',
  'auth-tls-verify-client': 'string',
  'auth-tls-pass-certificate-to-upstream': 'bool',
  'force-ssl-redirect': 'bool',
  'ssl-redirect': 'bool',
  'ssl-passthrough': 'bool',
  'use-regex': 'bool',
  'rewrite-target': 'string',
  'app-root': 'string',
  'permanent-redirect': 'string',
  'permanent-redirect-code': 'int',
  'temporal-redirect': 'string',
  'temporal-redirect-code': 'int',
  'from-to-www-redirect': 'bool',
  affinity: 'string',
  'session-cookie-name': 'string',
  'session-cookie-secure': 'bool',
  'session-cookie-path': 'string',
  'session-cookie-domain': 'string',
  'session-cookie-samesite': 'string',
  'session-cookie-max-age': 'int',
  'session-cookie-expires': 'int',
  'service-upstream': 'bool',
  'backend-protocol': 'string',
  'proxy-ssl-secret': 'string',
  'proxy-ssl-verify': 'string',
  'proxy-ssl-name': 'string',
  'proxy-ssl-server-name': 'string',
  'proxy-connect-timeout': 'int',
  'proxy-read-timeout': 'int',
  'proxy-send-timeout': 'int',
  'proxy-next-upstream': 'string',
  'proxy-next-upstream-tries': 'int',
  'proxy-next-upstream-timeout': 'int',
  'proxy-http-version': 'string',
  'enable-cors': 'bool',
  'cors-allow-credentials': 'bool',
  'cors-expose-headers': 'list',
  'cors-allow-headers': 'list',
  'cors-allow-methods': 'list',
  'cors-allow-origin': 'list',
  'cors-max-age': 'int',
  'whitelist-source-range': 'string',
  'allowlist-source-range': 'string',
  'custom-headers': 'string',
  'upstream-vhost': 'string',
  'proxy-request-buffering': 'string',
  'client-body-buffer-size': 'string',
  'proxy-body-size': 'string',
  'proxy-buffering': 'string',
  'proxy-buffer-size': 'string',
  'proxy-buffers-number': 'int',
  'proxy-max-temp-file-size': 'string',
  canary: 'bool',
  'canary-weight': 'int',
  'canary-weight-total': 'int',
  'canary-by-header': 'string',
  'canary-by-header-value': 'string',
  'canary-by-header-pattern': 'string',
  'canary-by-cookie': 'string',
  'limit-rps': 'int',
  'limit-rpm': 'int',
  'limit-connections': 'int',
  'limit-burst-multiplier': 'int',
  'enable-access-log': 'bool',
  'enable-global-auth': 'bool',
  'custom-http-errors': 'list',
  'default-backend': 'string',
  'server-alias': 'list',
  'x-forwarded-prefix': 'string',
  'server-snippet': 'string',
  'configuration-snippet': 'string',
  'enable-modsecurity': 'bool',
  'enable-owasp-core-rules': 'bool',
  'modsecurity-snippet': 'string',
  'modsecurity-transaction-id': 'string',
  'upstream-hash-by': 'string',
} as const satisfies Record<string, Kind>;

type Keys = keyof typeof KINDS;
type ValueOf<K extends Kind> = K extends 'string'
  ? string
  : K extends 'bool'
    ? boolean
    : K extends 'int'
      ? number
      : readonly string[];

/** The annotations present (and, for ints, parsed), by their name after the prefix. */
export type NginxConfig = { readonly [K in Keys]?: ValueOf<(typeof KINDS)[K]> };

/** Go's strconv.Atoi: an optional sign and decimal digits, within 64 bits. */
function atoi(v: string): number | undefined {
  if (!/^[+-]?\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function parseNginxAnnotations(
  annotations: Readonly<Record<string, string>> | undefined,
): NginxConfig {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(annotations ?? {})) {
    if (!k.startsWith(NGINX_PREFIX)) continue;
    const name = k.slice(NGINX_PREFIX.length);
    const kind = (KINDS as Record<string, Kind>)[name];
    if (kind === undefined) continue;
    if (kind === 'string') out[name] = v;
    else if (kind === 'bool') out[name] = v.toLowerCase() === 'true';
    else if (kind === 'int') {
      const n = atoi(v);
      if (n !== undefined) out[name] = n;
    } else out[name] = v.split(',').map((s) => s.trim());
  }
  return out as NginxConfig;
}

/** Traefik's parseBackendProtocol: the servers' URL scheme for `backend-protocol`. */
export function backendScheme(protocol: string | undefined): 'http' | 'https' | 'h2c' {
  switch ((protocol ?? 'HTTP').toUpperCase()) {
    case 'HTTPS':
    case 'GRPCS':
      return 'https';
    case 'GRPC':
      return 'h2c';
    default:
      return 'http';
  }
}

/**
 * Traefik's nginxSizeToBytes (nginx's size syntax): digits and an optional `b`, `k`, `m` or `g`
 * (any case), blanks around; undefined when it does not parse.
 */
export function nginxSize(v: string): number | undefined {
  const m = /^\s*(\d+)\s*([bkmg]?)\s*$/i.exec(v);
  if (m === null) return undefined;
  const unit = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase()]!;
  return Number(m[1]) * unit;
}
