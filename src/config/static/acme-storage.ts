/**
 * Where a certificate resolver keeps its account and certificates
 * (`certificatesResolvers.<name>.acme.storage`). Traefik takes a file path only; we also take a
 * store shared by several instances (docs/acme.md, "Several instances"):
 *
 *   acme.json                                  a file, Traefik's layout (one instance)
 *   dir:/srv/traffic/acme                      a shared directory: one file per key, lock files
 *   etcd://127.0.0.1:2379/traffic/acme         etcd v3 (JSON gateway); several hosts: a,b,c
 *   redis://127.0.0.1:6379/traffic/acme?db=0   Redis
 *   consul://127.0.0.1:8500/traffic/acme       Consul KV (`?token=…` for an ACL token)
 *
 * `user:password@` before the hosts authenticates with etcd and Redis. The path is the key
 * prefix (default `traffic/acme`); each resolver writes under `<prefix>/<resolver>/`.
 *
 * TLS to the engine, with the keys of the KV providers' `tls` section (Traefik's ClientTLS) as
 * query options: `?tls=true` (the system's CAs), `ca=FILE` (the CA the engine's certificate is
 * checked with), `cert=FILE&key=FILE` (a client certificate, for etcd's --client-cert-auth or
 * Redis' tls-auth-clients), `insecureSkipVerify=true`. Any of them turns TLS on.
 */

export type AcmeStorageLocation =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'dir'; readonly path: string }
  | {
      readonly kind: 'etcd' | 'redis' | 'consul';
      readonly endpoints: readonly string[];
      readonly prefix: string;
      readonly username?: string;
      readonly password?: string;
      /** Redis only: the database number. */
      readonly db: number;
      /** Consul only: the ACL token. */
      readonly token?: string;
      /** Present: TLS to the engine (files, as the providers' `tls` takes them). */
      readonly tls?: AcmeStoreTls;
    };

export interface AcmeStoreTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly insecureSkipVerify: boolean;
}

const TLS_OPTIONS = ['tls', 'ca', 'cert', 'key', 'insecureSkipVerify'];

const DEFAULT_PORT = { etcd: 2379, redis: 6379, consul: 8500 } as const;
export const DEFAULT_STORE_PREFIX = 'traffic/acme';

const URL_SHAPE = /^([a-z][a-z0-9+.-]*):\/\/(?:([^@/]*)@)?([^/?#]*)([^?#]*)(?:\?([^#]*))?$/i;

/** Parses a storage setting; throws an Error whose message says what is wrong and what is expected. */
export function parseAcmeStorage(value: string): AcmeStorageLocation {
  if (value.startsWith('dir:')) {
    const path = value.slice(4).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new Error('`dir:` needs a directory path (dir:/srv/traffic/acme)');
    return { kind: 'dir', path };
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return { kind: 'file', path: value };
  const m = URL_SHAPE.exec(value);
  const scheme = m?.[1]?.toLowerCase() ?? '';
  if (m === null || (scheme !== 'etcd' && scheme !== 'redis' && scheme !== 'consul')) {
    throw new Error(
      `unknown storage \`${value.slice(0, value.indexOf('://') + 3)}\` (expected a file path, dir:PATH, etcd://HOST:PORT/PREFIX, redis://HOST:PORT/PREFIX or consul://HOST:PORT/PREFIX)`,
    );
  }
  const hosts = (m[3] ?? '').split(',').filter((h) => h !== '');
  if (hosts.length === 0)
    throw new Error(
      `${scheme}:// needs at least one host (${scheme}://127.0.0.1:${DEFAULT_PORT[scheme]}/traffic/acme)`,
    );
  const endpoints = hosts.map((h) => {
    const hm = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(h);
    const port = hm?.[2] === undefined ? DEFAULT_PORT[scheme] : Number(hm[2]);
    if (hm === null || port < 1 || port > 65535)
      throw new Error(`\`${h}\` is not a host with an optional port`);
    return `${hm[1]}:${port}`;
  });
  const prefix = decodeURIComponent(m[4] ?? '').replace(/^\/+|\/+$/g, '') || DEFAULT_STORE_PREFIX;
  if (prefix.split('/').some((s) => s === '' || s === '.' || s === '..'))
    throw new Error(`the key prefix \`${prefix}\` has an empty, \`.\` or \`..\` segment`);
  const query = new URLSearchParams(m[5] ?? '');
  const allowed = [...(scheme === 'redis' ? ['db'] : scheme === 'consul' ? ['token'] : []), ...TLS_OPTIONS];
  for (const k of query.keys())
    if (!allowed.includes(k))
      throw new Error(`unknown option \`${k}\` for ${scheme}:// (known: ${allowed.join(', ')})`);
  const tls = parseTls(query);
  const db = Number(query.get('db') ?? '0');
  if (!Number.isInteger(db) || db < 0) throw new Error('`db` must be a database number (0, 1, …)');
  const token = query.get('token') ?? undefined;
  let username: string | undefined;
  let password: string | undefined;
  if (m[2] !== undefined) {
    if (scheme === 'consul') throw new Error('consul:// takes an ACL token as `?token=`, not user:password@');
    const colon = m[2].indexOf(':');
    username = decodeURIComponent(colon === -1 ? m[2] : m[2].slice(0, colon));
    password = colon === -1 ? undefined : decodeURIComponent(m[2].slice(colon + 1));
  }
  return {
    kind: scheme,
    endpoints,
    prefix,
    db,
    ...(username === undefined || username === '' ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(token === undefined ? {} : { token }),
    ...(tls === undefined ? {} : { tls }),
  };
}

function parseBool(query: URLSearchParams, k: string): boolean | undefined {
  const v = query.get(k);
  if (v === null) return undefined;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new Error(`\`${k}\` must be true or false (not \`${v}\`)`);
}

function parseTls(query: URLSearchParams): AcmeStoreTls | undefined {
  const on = parseBool(query, 'tls');
  const insecureSkipVerify = parseBool(query, 'insecureSkipVerify');
  const file = (k: string): string | undefined => {
    const v = query.get(k);
    if (v === '') throw new Error(`\`${k}\` needs a file path`);
    return v ?? undefined;
  };
  const [ca, cert, key] = [file('ca'), file('cert'), file('key')];
  const any = ca !== undefined || cert !== undefined || key !== undefined || insecureSkipVerify !== undefined;
  if (on === false && any)
    throw new Error('`tls=false` with TLS options (ca, cert, key, insecureSkipVerify)');
  if (on !== true && !any) return undefined;
  if ((cert === undefined) !== (key === undefined)) throw new Error('`cert` and `key` go together');
  return {
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    insecureSkipVerify: insecureSkipVerify ?? false,
  };
}

/** The location as logs name it: never with a password or token. */
export function describeAcmeStorage(l: AcmeStorageLocation): string {
  switch (l.kind) {
    case 'file':
      return l.path;
    case 'dir':
      return `dir:${l.path}`;
    default:
      return `${l.kind}://${l.endpoints.join(',')}/${l.prefix}${l.tls === undefined ? '' : ' (TLS)'}`;
  }
}
