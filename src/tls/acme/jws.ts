/**
 * JSON Web Signatures as ACME needs them (RFC 8555 §6.2): flattened JSON serialization, ES256 for
 * our own EC P-256 account keys and RS256 for RSA keys (Traefik's acme.json holds RSA-4096 account
 * keys, so an imported file keeps working).
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';

export function base64url(data: Buffer | string): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : data).toString('base64url');
}

export interface Jwk {
  readonly kty: string;
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
  readonly n?: string;
  readonly e?: string;
}

export interface FlattenedJws {
  readonly protected: string;
  readonly payload: string;
  readonly signature: string;
}

/**
 * RFC 7638 thumbprint: SHA-256 over the JSON of the required members only, in lexicographic
 * order, without whitespace (§3.2, §3.3).
 */
export function jwkThumbprint(jwk: Jwk): string {
  const canonical =
    jwk.kty === 'EC'
      ? JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
      : JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  return base64url(createHash('sha256').update(canonical).digest());
}

/** An account key with what the JWS layer needs precomputed once. */
export class AccountKey {
  readonly alg: 'ES256' | 'RS256';
  /** Public members only, in RFC 7638 order (required members, lexicographic). */
  readonly jwk: Jwk;
  /** RFC 7638 thumbprint: the second half of every key authorization (RFC 8555 §8.1). */
  readonly thumbprint: string;
  readonly #key: KeyObject;

  constructor(privateKeyPem: string | KeyObject) {
    const key = typeof privateKeyPem === 'string' ? createPrivateKey(privateKeyPem) : privateKeyPem;
    this.#key = key;
    const pub = createPublicKey(key).export({ format: 'jwk' });
    if (key.asymmetricKeyType === 'ec') {
      if (pub.crv !== 'P-256')
        throw new Error(`ACME account key: EC curve ${pub.crv} is not supported (P-256 only)`);
      this.alg = 'ES256';
      this.jwk = { crv: 'P-256', kty: 'EC', x: String(pub.x), y: String(pub.y) };
    } else if (key.asymmetricKeyType === 'rsa') {
      this.alg = 'RS256';
      this.jwk = { e: String(pub.e), kty: 'RSA', n: String(pub.n) };
    } else {
      throw new Error(`ACME account key: ${key.asymmetricKeyType} keys are not supported`);
    }
    this.thumbprint = jwkThumbprint(this.jwk);
  }

  get keyObject(): KeyObject {
    return this.#key;
  }

  /** `token.thumbprint` (RFC 8555 §8.1). */
  keyAuthorization(token: string): string {
    return `${token}.${this.thumbprint}`;
  }

  /** The TXT record value for dns-01 (RFC 8555 §8.4): base64url(SHA-256(keyAuthorization)). */
  dns01Value(token: string): string {
    return base64url(createHash('sha256').update(this.keyAuthorization(token)).digest());
  }

  /**
   * The `externalAccountBinding` of a newAccount request (RFC 8555 §7.3.4): a JWS over this
   * key's public JWK, MACed with HS256 under the key the CA gave out of band, its protected header
   * naming that key's `kid` and the newAccount URL (as lego's SignEABContent).
   */
  externalAccountBinding(newAccountUrl: string, kid: string, macKey: Buffer): FlattenedJws {
    const protectedB64 = base64url(JSON.stringify({ alg: 'HS256', kid, url: newAccountUrl }));
    const payloadB64 = base64url(JSON.stringify(this.jwk));
    const mac = createHmac('sha256', macKey).update(`${protectedB64}.${payloadB64}`, 'ascii').digest();
    return { protected: protectedB64, payload: payloadB64, signature: base64url(mac) };
  }

  /**
   * Signs `payload` (undefined means POST-as-GET: the empty string, RFC 8555 §6.3). `kid` is the
   * account URL; without it the public key goes in `jwk` (only newAccount and revokeCert may do so,
   * §6.2).
   */
  sign(url: string, nonce: string, payload: unknown, kid?: string): FlattenedJws {
    const header =
      kid === undefined ? { alg: this.alg, jwk: this.jwk, nonce, url } : { alg: this.alg, kid, nonce, url };
    const protectedB64 = base64url(JSON.stringify(header));
    const payloadB64 = payload === undefined ? '' : base64url(JSON.stringify(payload));
    const input = Buffer.from(`${protectedB64}.${payloadB64}`, 'ascii');
    // JWS ES256 wants the raw r||s form (RFC 7518 §3.4), not DER.
    const signature =
      this.alg === 'ES256'
        ? sign('sha256', input, { key: this.#key, dsaEncoding: 'ieee-p1363' })
        : sign('sha256', input, this.#key);
    return { protected: protectedB64, payload: payloadB64, signature: base64url(signature) };
  }
}
