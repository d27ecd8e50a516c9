import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DigestAuthConfig } from '../../config/dynamic/access-middlewares.ts';
import type { Logger } from '../../core/logger.ts';
import { type DirectResponse, type RequestHead, withQuery } from '../../core/request.ts';
import type { Middleware, MiddlewareFactory, RequestControl } from '../middleware.ts';
import { UsersSource } from './users-source.ts';

type Algorithm = 'MD5' | 'SHA-256';

/** Traefik's digestUserParser: `name:realm:hash`, the key being `name:realm`. */
function parseDigestUser(line: string): readonly [string, string] | string {
  const parts = line.split(':');
  if (parts.length !== 3) return 'a digestAuth user is name:realm:hash (two colons)';
  return [`${parts[0]}:${parts[1]}`, parts[2]!.toLowerCase()];
}

/** The algorithm a stored HA1 is for: 32 hex digits MD5 (htdigest), 64 SHA-256. */
function algorithmOf(ha1: string): Algorithm | undefined {
  if (/^[0-9a-f]{32}$/.test(ha1)) return 'MD5';
  if (/^[0-9a-f]{64}$/.test(ha1)) return 'SHA-256';
  return undefined;
}

/** The digest of `s`'s bytes (a latin1 string, as header values are): go-http-auth hashes the bytes sent. */
function h(alg: Algorithm, s: string): string {
  return createHash(alg === 'MD5' ? 'md5' : 'sha256')
    .update(s, 'latin1')
    .digest('hex');
}

/** `Digest k=v, k="v"` parameters (RFC 7616 §3.4), names lowercased; undefined when malformed. */
export function parseDigestParams(value: string): Map<string, string> | undefined {
  if (value.length < 7 || value.slice(0, 7).toLowerCase() !== 'digest ') return undefined;
  const out = new Map<string, string>();
  const re = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/y;
  let i = 7;
  while (i < value.length) {
    re.lastIndex = i;
    const m = re.exec(value);
    if (m === null) return undefined;
    out.set(m[1]!.toLowerCase(), m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!);
    i = re.lastIndex;
  }
  return out;
}

/** A URI's path as Go's url.Parse gives it (percent-decoded), or undefined when it does not parse. */
function goUriPath(uri: string): string | undefined {
  let rest = uri;
  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  if (q !== -1) rest = rest.slice(0, q);
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(rest);
  if (scheme !== null) {
    rest = rest.slice(scheme[0].length);
    if (!rest.startsWith('//')) return ''; // opaque (`urn:x`): no path
    const slash = rest.indexOf('/', 2);
    rest = slash === -1 ? '' : rest.slice(slash);
  }
  try {
    return decodeURIComponent(rest);
  } catch {
    return undefined;
  }
}

/**
 * Whether the `uri` parameter stands for this request. go-http-auth's DigestAuth.CheckAuth (the
 * digest check of Traefik's digest_auth.go) accepts the request target itself, or else any URI
 * whose (decoded) path is a prefix of the request's path, its query ignored: a leniency it keeps
 * for old clients, which lets in a client that leaves the query string out of `uri`. The response
 * is still checked over the `uri` the client sent, and its nonce count still guards replays.
 */
function uriMatches(uri: string, req: RequestHead): boolean {
  if (uri === withQuery(req.path, req.query)) return true;
  const given = goUriPath(uri);
  if (given === undefined) return false;
  const path = goUriPath(req.path);
  return path?.startsWith(given) === true;
}

const NONCE_BYTES = 8 + 8 + 16;

/**
 * Nonces, users and counters that survive reloads keeping the settings. A nonce is
 * `issued-at | random | HMAC(secret, both)`: any nonce we issued is recognised without a table
 * (so a flood of challenges costs no memory), and it expires after `nonceExpiry`. Counters (nc)
 * are kept per nonce once it authenticated, in a bounded table, so a captured request cannot be
 * replayed with the same nonce and count.
 */
export class DigestAuthState {
  readonly users: UsersSource;
  readonly #secret = randomBytes(32);
  readonly opaque = randomBytes(16).toString('hex');
  readonly #counters = new Map<string, number>();
  readonly #maxCounters: number;
  readonly clock: () => number;

  constructor(
    config: Pick<DigestAuthConfig, 'users' | 'usersFile'>,
    logger: Logger,
    name: string,
    clock: () => number = () => performance.now(),
    maxCounters = 10_000,
  ) {
    this.users = new UsersSource(config.usersFile, config.users, parseDigestUser, logger, name);
    this.clock = clock;
    this.#maxCounters = maxCounters;
  }

  issueNonce(): string {
    const b = Buffer.allocUnsafe(NONCE_BYTES);
    b.writeDoubleBE(this.clock(), 0);
    randomBytes(8).copy(b, 8);
    createHmac('sha256', this.#secret).update(b.subarray(0, 16)).digest().copy(b, 16, 0, 16);
    return b.toString('base64url');
  }

  /** 'ok', 'stale' (ours but expired, or a count below the last) or 'bad' (not ours, or a count replayed). Records the count. */
  checkNonce(nonce: string, nc: number, expiryMs: number): 'ok' | 'stale' | 'bad' {
    const b = Buffer.from(nonce, 'base64url');
    if (b.length !== NONCE_BYTES || b.toString('base64url') !== nonce) return 'bad';
    const mac = createHmac('sha256', this.#secret).update(b.subarray(0, 16)).digest().subarray(0, 16);
    if (!timingSafeEqual(mac, b.subarray(16))) return 'bad';
    if (this.clock() - b.readDoubleBE(0) > expiryMs) return 'stale';
    const last = this.#counters.get(nonce) ?? 0;
    // Traefik's digest_auth.go (its go-http-auth fork, traefik PR 6569): a count below the last
    // one seen is a request that came out of order, answered stale=true so the client retries
    // without asking the user; the same count again is a replay, answered a plain challenge.
    if (nc === last) return 'bad';
    if (nc < last) return 'stale';
    if (last === 0 && this.#counters.size >= this.#maxCounters) {
      const oldest = this.#counters.keys().next();
      if (!oldest.done) this.#counters.delete(oldest.value);
    }
    this.#counters.set(nonce, nc);
    return 'ok';
  }

  start(): void {
    this.users.start();
  }

  close(): void {
    this.users.close();
  }
}

/**
 * Traefik's digestAuth (go-http-auth's DigestAuth) with RFC 7616's SHA-256 beside MD5: users are
 * `name:realm:HA1` (htdigest's lines: HA1 = MD5(name:realm:password); 64 hex digits for
 * SHA-256(name:realm:password)). The challenge offers SHA-256 when a user has such a hash and MD5
 * when one has an MD5 hash (SHA-256 first, the preferred one); qop "auth" only, as go-http-auth.
 * An expired nonce, or a nonce count already seen, gets a fresh challenge with `stale=true`
 * (clients retry without asking the user) provided the response was right.
 */
export class DigestAuthMiddleware implements Middleware {
  readonly #state: DigestAuthState;
  readonly #realm: string;
  readonly #headerField: string | undefined;
  readonly #removeHeader: boolean;
  readonly #expiryMs: number;

  constructor(state: DigestAuthState, config: DigestAuthConfig) {
    this.#state = state;
    this.#realm = config.realm;
    this.#headerField = config.headerField;
    this.#removeHeader = config.removeHeader;
    this.#expiryMs = config.nonceExpiry;
  }

  challenge(stale: boolean): DirectResponse {
    const s = this.#state;
    let md5 = false;
    let sha = false;
    for (const ha1 of s.users.users.values()) {
      const a = algorithmOf(ha1);
      if (a === 'MD5') md5 = true;
      else if (a === 'SHA-256') sha = true;
    }
    if (!md5 && !sha) md5 = true;
    const headers: [string, string][] = [['Content-Type', 'text/plain']];
    const tail = stale ? ', stale=true' : '';
    // go-http-auth's RequireAuth order (realm, nonce, opaque, algorithm, qop), which Traefik's
    // digestAuth sends: the same bytes for an MD5 challenge.
    for (const alg of sha ? (md5 ? ['SHA-256', 'MD5'] : ['SHA-256']) : ['MD5']) {
      const value = `Digest realm="${this.#realm}", nonce="${s.issueNonce()}", opaque="${s.opaque}", algorithm=${alg}, qop="auth"${tail}`;
      headers.push(['WWW-Authenticate', value]);
    }
    // Traefik's digestAuth.ServeHTTP marks the span (observability.SetStatusErrorf) with these.
    const spanError = stale
      ? 'Digest authentication failed, possibly because out of order requests'
      : 'Digest authentication failed';
    return { status: 401, headers, body: '401 Unauthorized\n', spanError };
  }

  onRequest = (req: RequestHead, ctl?: RequestControl): DirectResponse | undefined => {
    const auth = req.headers.get('authorization');
    if (auth === undefined) return this.challenge(false);
    const p = parseDigestParams(auth);
    if (p === undefined) return this.challenge(false);
    const user = p.get('username');
    // The access log's ClientUsername: the name the request gives, authenticated or not (Traefik's
    // digestAuth.ServeHTTP, which reads it from Authorization when headerField is unset).
    if (user !== undefined && user !== '') ctl?.setClientUsername?.(user);
    // As go-http-auth's DigestAuth.CheckAuth (Traefik's digestAuth): the user is looked up in the
    // configured realm whatever `realm` the client repeats, a missing cnonce is the empty string
    // in the digest, and nc is any hexadecimal number (strconv.ParseUint base 16), not only the
    // eight digits RFC 7616 asks for.
    const realm = this.#realm;
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    const cnonce = p.get('cnonce') ?? '';
    const ncText = p.get('nc');
    const alg = (p.get('algorithm') ?? 'MD5').toUpperCase();
    if (
      user === undefined ||
      nonce === undefined ||
      response === undefined ||
      ncText === undefined ||
      !/^[0-9a-fA-F]{1,16}$/.test(ncText) ||
      p.get('qop') !== 'auth' ||
      p.get('opaque') !== this.#state.opaque ||
      (alg !== 'MD5' && alg !== 'SHA-256') ||
      /[\0\r\n]/.test(user)
    ) {
      return this.challenge(false);
    }
    // The digest covers the `uri` the client sent; it must stand for this request.
    if (uri === undefined || !uriMatches(uri, req)) return this.challenge(false);
    // Header values are bytes (a latin1 string); the users file is UTF-8 text. Go compares the
    // bytes, so a UTF-8 user name matches: look it up by its UTF-8 reading, only if the bytes
    // are that text's exact encoding.
    const name = Buffer.from(user, 'latin1').toString('utf8');
    if (Buffer.from(name, 'utf8').toString('latin1') !== user) return this.challenge(false);
    const ha1 = this.#state.users.users.get(`${name}:${realm}`);
    const algorithm = alg as Algorithm;
    if (ha1 === undefined || algorithmOf(ha1) !== algorithm) return this.challenge(false);
    const ha2 = h(algorithm, `${req.method}:${uri}`);
    const expected = Buffer.from(h(algorithm, `${ha1}:${nonce}:${ncText}:${cnonce}:auth:${ha2}`), 'latin1');
    const given = Buffer.from(response.toLowerCase(), 'latin1');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return this.challenge(false);
    const n = this.#state.checkNonce(nonce, Number.parseInt(ncText, 16), this.#expiryMs);
    if (n !== 'ok') return this.challenge(n === 'stale');
    // req.URL.User = url.User(username) (digest_auth.go): seen in the calls' spans only.
    ctl?.setUrlUser?.();
    if (this.#headerField !== undefined) req.headers.set(this.#headerField, user); // the bytes the client sent, not encoded again
    if (this.#removeHeader) req.headers.delete('authorization');
    return undefined;
  };
}

export const digestAuthFactory: MiddlewareFactory<DigestAuthConfig> = {
  type: 'digestAuth',
  create(config, ctx) {
    const state = ctx.shared(
      `digestAuth|${config.usersFile ?? ''}|${config.users.join('\n')}`,
      () => new DigestAuthState(config, ctx.logger, ctx.name),
    );
    if (state.users.error !== undefined) return { error: state.users.error };
    return new DigestAuthMiddleware(state, config);
  },
};
