import { isUtf8 } from 'node:buffer';
import type { BasicAuthConfig } from '../../config/dynamic/access-middlewares.ts';
import { composeEscapeHint } from '../../core/htpasswd-kind.ts';
import type { Logger } from '../../core/logger.ts';
import type { DirectResponse, RequestHead } from '../../core/request.ts';
import {
  type Middleware,
  type MiddlewareFactory,
  type RequestControl,
  type RequestPhaseValue,
  SUSPEND,
} from '../middleware.ts';
import { BcryptVerifier, type BcryptWaiter } from './bcrypt-verifier.ts';
import { CredentialCache } from './credential-cache.ts';
import { hashKind, verifyCheap } from './htpasswd.ts';
import { UsersSource } from './users-source.ts';

const BUSY: DirectResponse = { status: 503, headers: [['Retry-After', '1']], body: 'Service Unavailable' };
const FAILED: DirectResponse = { status: 500, body: 'Internal Server Error' };
/** A user name that would break the forwarded head (headerField) never authenticates. */
const UNSAFE_NAME = /[\0\r\n]/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Traefik's basicUserParser: `name:hash`, exactly one colon. */
function parseBasicUser(line: string): readonly [string, string] | string {
  const parts = line.split(':');
  if (parts.length !== 2) return 'a basicAuth user is name:hashed-password (one colon)';
  return [parts[0]!, parts[1]!];
}

/**
 * What survives reloads that keep the settings: the users (and the file watch), the cache of
 * credentials that passed, and the bcrypt worker.
 */
export class BasicAuthState {
  readonly users: UsersSource;
  readonly cache = new CredentialCache();
  readonly verifier = new BcryptVerifier();
  /** Called after the users file was read again (tests wait on it). */
  onReload: (() => void) | null = null;

  constructor(config: Pick<BasicAuthConfig, 'users' | 'usersFile'>, logger: Logger, name: string) {
    this.users = new UsersSource(config.usersFile, config.users, parseBasicUser, logger, name, () => {
      this.#warnUnsupported(logger, name);
      this.onReload?.();
    });
    if (this.users.error === undefined) this.#warnUnsupported(logger, name);
  }

  #warnUnsupported(logger: Logger, name: string): void {
    for (const [user, hash] of this.users.users) {
      if (hashKind(hash) === 'unsupported') {
        logger.warn(
          `basicAuth user has a hash we cannot check (bcrypt, $apr1$, $1$ or {SHA}); it never authenticates${composeEscapeHint(hash)}`,
          {
            middleware: name,
            user,
          },
        );
      }
    }
  }

  #decoyOf: ReadonlyMap<string, string> | undefined;
  #decoy: string | undefined;

  /**
   * The hash an unknown user's password is checked against, so that the answer takes as long as
   * a known user's wrong password: the first user's hash that we can check (Traefik v3.6.14,
   * GHSA-6x2q-h3cr-8j2h: the timing told a configured user name from an unknown one). Found
   * again when the users change.
   */
  decoy(): string | undefined {
    const users = this.users.users;
    if (this.#decoyOf !== users) {
      this.#decoyOf = users;
      this.#decoy = undefined;
      for (const hash of users.values()) {
        if (hashKind(hash) !== 'unsupported') {
          this.#decoy = hash;
          break;
        }
      }
    }
    return this.#decoy;
  }

  start(): void {
    this.users.start();
  }

  close(): void {
    this.users.close();
    this.verifier.close();
  }
}

/**
 * `Basic <base64(user:password)>` as Go's Request.BasicAuth reads it, or undefined. The name and
 * password are the decoded bytes (latin1 strings, one character a byte), as Go's strings hold
 * them: a password in ISO-8859-1 is checked as those bytes, not as the text they are not.
 */
export function parseBasicAuthorization(
  value: string,
): readonly [user: string, password: string] | undefined {
  if (value.length < 6 || value.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  const b64 = value.slice(6);
  if (!BASE64.test(b64)) return undefined;
  const decoded = Buffer.from(b64, 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

/** The text whose UTF-8 encoding is these bytes (a latin1 string), or undefined when they are not UTF-8. */
function utf8Text(bytes: string): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII is the range kept as it is
  if (/^[\x00-\x7f]*$/.test(bytes)) return bytes;
  const b = Buffer.from(bytes, 'latin1');
  return isUtf8(b) ? b.toString('utf8') : undefined;
}

/** The check of an unknown user's password against the decoy hash: whatever its result, a 401. */
class DecoyCheck implements BcryptWaiter {
  readonly #mw: BasicAuthMiddleware;
  readonly #ctl: RequestControl;

  constructor(mw: BasicAuthMiddleware, ctl: RequestControl) {
    this.#mw = mw;
    this.#ctl = ctl;
  }

  onBcrypt(ok: boolean | null): void {
    this.#ctl.resume(ok === null ? FAILED : this.#mw.challenge);
  }
}

class PendingCheck implements BcryptWaiter {
  readonly #mw: BasicAuthMiddleware;
  readonly #req: RequestHead;
  readonly #ctl: RequestControl;
  readonly #key: string;
  readonly #user: string;
  readonly #secret: string;

  constructor(
    mw: BasicAuthMiddleware,
    req: RequestHead,
    ctl: RequestControl,
    key: string,
    user: string,
    secret: string,
  ) {
    this.#mw = mw;
    this.#req = req;
    this.#ctl = ctl;
    this.#key = key;
    this.#user = user;
    this.#secret = secret;
  }

  onBcrypt(ok: boolean | null): void {
    if (ok === null) {
      this.#ctl.resume(FAILED);
      return;
    }
    if (!ok) {
      this.#ctl.resume(this.#mw.challenge);
      return;
    }
    this.#mw.state.cache.set(this.#key, { user: this.#user, secret: this.#secret });
    this.#mw.pass(this.#req, this.#ctl, this.#user);
    this.#ctl.resume();
  }
}

/**
 * Traefik's basicAuth (pkg/middlewares/auth/basic_auth.go): `Authorization: Basic` checked
 * against htpasswd hashes; failure → 401 with `WWW-Authenticate: Basic realm="…"`. On success
 * the user's name goes to `headerField` (when set) and `removeHeader` drops Authorization.
 *
 * A request whose credentials passed before costs one SHA-256 and one map lookup (the credential
 * cache). Otherwise SHA-1 and MD5-crypt are checked at once; bcrypt suspends the request while a
 * worker thread checks it, so other requests keep flowing.
 */
export class BasicAuthMiddleware implements Middleware {
  readonly state: BasicAuthState;
  readonly challenge: DirectResponse;
  readonly #headerField: string | undefined;
  readonly #removeHeader: boolean;

  constructor(
    state: BasicAuthState,
    config: Pick<BasicAuthConfig, 'realm' | 'headerField' | 'removeHeader'>,
  ) {
    this.state = state;
    this.challenge = {
      status: 401,
      headers: [
        ['Content-Type', 'text/plain'],
        ['WWW-Authenticate', `Basic realm="${config.realm}"`],
      ],
      body: '401 Unauthorized\n',
      // Traefik's basicAuth.ServeHTTP: observability.SetStatusErrorf(ctx, "Authentication failed").
      spanError: 'Authentication failed',
    };
    this.#headerField = config.headerField;
    this.#removeHeader = config.removeHeader;
  }

  onRequest = (req: RequestHead, ctl: RequestControl): RequestPhaseValue => {
    // The access log's ClientUsername is the name the request gives, authenticated or not, and
    // empty without one (Traefik's basicAuth.ServeHTTP sets it from req.BasicAuth() first).
    const auth = req.headers.get('authorization');
    if (auth === undefined) {
      ctl.setClientUsername?.('');
      return this.challenge;
    }
    const state = this.state;
    const users = state.users.users;
    const key = state.cache.key(auth);
    const hit = state.cache.get(key);
    if (hit !== undefined && users.get(hit.user) === hit.secret) {
      ctl.setClientUsername?.(hit.user);
      this.pass(req, ctl, hit.user);
      return undefined;
    }
    const cred = parseBasicAuthorization(auth);
    // The log's text of the name's bytes (Go's JSON encoder writes invalid UTF-8 as U+FFFD).
    ctl.setClientUsername?.(cred === undefined ? '' : Buffer.from(cred[0], 'latin1').toString('utf8'));
    if (cred === undefined) return this.challenge;
    const [rawUser, password] = cred;
    // The configured names are text: the name's bytes match one only if they are its UTF-8.
    const user = utf8Text(rawUser);
    const secret = user === undefined ? undefined : users.get(user);
    if (user === undefined || secret === undefined || UNSAFE_NAME.test(user)) {
      // An unknown name costs what a known one with a wrong password costs (the decoy's check).
      const decoy = state.decoy();
      if (decoy === undefined) return this.challenge;
      if (hashKind(decoy) === 'bcrypt') {
        // Its own key: a decoy check is never shared with a real user's (GHSA-6765-c87h-8mrf).
        const check = new DecoyCheck(this, ctl);
        return state.verifier.verify(`decoy\n${key}`, password, decoy, check) ? SUSPEND : BUSY;
      }
      verifyCheap(password, decoy);
      return this.challenge;
    }
    switch (hashKind(secret)) {
      case 'bcrypt': {
        const check = new PendingCheck(this, req, ctl, key, user, secret);
        return state.verifier.verify(`${key}\n${secret}`, password, secret, check) ? SUSPEND : BUSY;
      }
      case 'sha1':
      case 'md5crypt':
        if (!verifyCheap(password, secret)) return this.challenge;
        state.cache.set(key, { user, secret });
        this.pass(req, ctl, user);
        return undefined;
      default:
        return this.challenge;
    }
  };

  /** The request is authenticated as `user`: the edits Traefik makes before going on. */
  pass(req: RequestHead, ctl: RequestControl, user: string): void {
    // req.URL.User = url.User(user) (basic_auth.go): seen in the calls' spans only.
    ctl.setUrlUser?.();
    // Field values travel as latin1 strings of bytes: the name's UTF-8 bytes, as Go sends them.
    if (this.#headerField !== undefined)
      req.headers.set(this.#headerField, Buffer.from(user).toString('latin1'));
    if (this.#removeHeader) req.headers.delete('authorization');
  }
}

export const basicAuthFactory: MiddlewareFactory<BasicAuthConfig> = {
  type: 'basicAuth',
  create(config, ctx) {
    const state = ctx.shared(
      `basicAuth|${config.usersFile ?? ''}|${config.users.join('\n')}`,
      () => new BasicAuthState(config, ctx.logger, ctx.name),
    );
    if (state.users.error !== undefined) return { error: state.users.error };
    // Traefik v3.6.19: no users is a build error (its routers are left out: 404), not a
    // middleware that answers every request 401.
    if (state.users.users.size === 0) return { error: 'no users: basicAuth needs at least one user' };
    return new BasicAuthMiddleware(state, config);
  },
};
