import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createRemoteJWKSet,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import type { JwtConfig } from '../../config/dynamic/access-middlewares.ts';
import type { DirectResponse, RequestHead } from '../../core/request.ts';
import {
  type Middleware,
  type MiddlewareFactory,
  type RequestControl,
  type RequestPhaseValue,
  SUSPEND,
} from '../middleware.ts';

type Key = KeyObject | JWTVerifyGetKey;

/** A JWKS fetched over HTTP(S) by jose: cached 10 min, fetched again for an unknown kid (30 s apart). */
export class JwksState {
  readonly getKey: JWTVerifyGetKey;
  constructor(url: string, cacheMs: number, cooldownMs: number) {
    this.getKey = createRemoteJWKSet(new URL(url), {
      cacheMaxAge: cacheMs,
      cooldownDuration: cooldownMs,
      timeoutDuration: 5000,
    });
  }
}

/** One request waiting for its token's verification. */
class Verification {
  readonly #mw: JwtMiddleware;
  readonly #req: RequestHead;
  readonly #ctl: RequestControl;

  constructor(mw: JwtMiddleware, req: RequestHead, ctl: RequestControl) {
    this.#mw = mw;
    this.#req = req;
    this.#ctl = ctl;
  }

  ok = (r: { payload: JWTPayload }): void => {
    this.#mw.pass(this.#req, r.payload);
    this.#ctl.resume();
  };

  failed = (e: unknown): void => {
    this.#ctl.resume(this.#mw.refuse(e));
  };
}

/**
 * A JWT in `Authorization: Bearer` verified by jose against a JWKS URL, a public key or an HMAC
 * secret, with issuer, audience, required claims and clock skew. Chosen claims become request
 * fields (`forwardHeaders`); those fields sent by the client are always removed first, so a
 * backend never mistakes a client's field for a verified claim. Failure: 401 with
 * `WWW-Authenticate: Bearer` (RFC 6750 §3: `error="invalid_token"` when a token was given).
 * Verification is asynchronous (WebCrypto), so the request is suspended meanwhile.
 */
export class JwtMiddleware implements Middleware {
  readonly #key: Key;
  readonly #options: JWTVerifyOptions;
  readonly #forward: readonly (readonly [header: string, claim: string])[];
  readonly #keepAuthorization: boolean;
  readonly #realm: string;
  readonly #missing: DirectResponse;
  /** Refusals, by reason (tests, metrics). */
  lastError = '';

  constructor(key: Key, config: JwtConfig) {
    this.#key = key;
    const o: JWTVerifyOptions = {
      requiredClaims: config.requiredClaims,
      clockTolerance: Math.round(config.clockSkew / 1000),
    };
    if (config.issuer !== undefined) o.issuer = config.issuer;
    if (config.audience !== undefined) o.audience = config.audience;
    if (config.algorithms !== undefined) o.algorithms = config.algorithms;
    this.#options = o;
    this.#forward = Object.entries(config.forwardHeaders);
    this.#keepAuthorization = config.forwardAuthorization;
    this.#realm = config.realm;
    this.#missing = {
      status: 401,
      headers: [['WWW-Authenticate', `Bearer realm="${config.realm}"`]],
      body: '401 Unauthorized\n',
    };
  }

  onRequest = (req: RequestHead, ctl: RequestControl): RequestPhaseValue => {
    const h = req.headers;
    for (const [name] of this.#forward) h.delete(name.toLowerCase());
    const auth = h.get('authorization');
    if (auth === undefined || auth.length < 8 || auth.slice(0, 7).toLowerCase() !== 'bearer ')
      return this.#missing;
    const token = auth.slice(7).trim();
    const v = new Verification(this, req, ctl);
    // jose takes a KeyObject or a key-resolving function; both overloads end in the same call.
    const p =
      typeof this.#key === 'function'
        ? jwtVerify(token, this.#key, this.#options)
        : jwtVerify(token, this.#key, this.#options);
    p.then(v.ok, v.failed);
    return SUSPEND;
  };

  pass(req: RequestHead, payload: JWTPayload): void {
    const h = req.headers;
    for (const [name, claim] of this.#forward) {
      const value = payload[claim];
      if (value === undefined) continue;
      const text = (typeof value === 'string' ? value : JSON.stringify(value)).replace(/[\0\r\n]/g, ' ');
      h.set(name, Buffer.from(text).toString('latin1'));
    }
    if (!this.#keepAuthorization) h.delete('authorization');
  }

  refuse(e: unknown): DirectResponse {
    const reason =
      e instanceof errors.JWTExpired
        ? 'the token has expired'
        : e instanceof errors.JWTClaimValidationFailed
          ? `claim ${e.claim}: ${e.reason}`
          : e instanceof errors.JWKSNoMatchingKey
            ? 'no key matches the token'
            : e instanceof errors.JOSEError
              ? 'invalid token'
              : 'the token could not be verified';
    this.lastError = e instanceof Error ? e.message : String(e);
    return {
      status: 401,
      headers: [
        [
          'WWW-Authenticate',
          `Bearer realm="${this.#realm}", error="invalid_token", error_description="${reason.replace(/"/g, "'")}"`,
        ],
      ],
      body: '401 Unauthorized\n',
    };
  }
}

/** A PEM text as is, or the file it is in. */
function pemOrFile(value: string): string {
  return value.includes('-----BEGIN ') ? value : readFileSync(value, 'utf8');
}

export const jwtFactory: MiddlewareFactory<JwtConfig> = {
  type: 'jwt',
  create(config, ctx) {
    let key: Key;
    if (config.jwksUrl !== undefined) {
      const url = config.jwksUrl;
      const { jwksCacheDuration: cache, jwksCooldown: cooldown } = config;
      key = ctx.shared(
        `jwt|jwks|${url}|${cache}|${cooldown}`,
        () => new JwksState(url, cache, cooldown),
      ).getKey;
    } else if (config.publicKey !== undefined) {
      try {
        key = createPublicKey(pemOrFile(config.publicKey));
      } catch (e) {
        return { error: `publicKey: ${e instanceof Error ? e.message : String(e)}` };
      }
    } else key = createSecretKey(Buffer.from(config.signingSecret ?? '', 'utf8'));
    return new JwtMiddleware(key, config);
  },
};
