/**
 * AWS Signature Version 4 for request headers
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html),
 * with node:crypto: the canonical request (method, path, query, signed headers, payload hash),
 * the string to sign over the credential scope `date/region/service/aws4_request`, and the
 * signing key derived from the secret by four HMAC-SHA256 steps. Checked against AWS's published
 * test-suite vectors (aws-sigv4.test.ts). Used by Route 53's DNS-01 (tls/acme) and the ECS
 * provider (providers/ecs/sigv4.ts).
 */
import { createHash, createHmac } from 'node:crypto';

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Temporary credentials' token: sent and signed as `x-amz-security-token`. */
  readonly sessionToken?: string;
}

/** Temporary credentials say until when (ms since the epoch). */
export interface ExpiringAwsCredentials extends AwsCredentials {
  readonly expires?: number;
}

/**
 * The AWS SDK's default credential chain (web identity, shared credentials file, container,
 * instance role), given by main.ts to Route 53's DNS-01: the ECS provider's
 * (providers/ecs/aws-client.ts resolveCredentials), so that `tls` imports no provider.
 */
export type AwsCredentialChain = (
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
) => Promise<ExpiringAwsCredentials>;

export interface SigV4Request {
  readonly method: string;
  readonly url: URL;
  /** Headers to sign besides `host` and `x-amz-date`, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly region: string;
  readonly service: string;
  readonly now: Date;
}

/** The headers to send: the request's, `host`, `x-amz-date`, the token, and `authorization`. */
export function signV4(req: SigV4Request, creds: AwsCredentials): Record<string, string> {
  const date = amzDate(req.now);
  const headers: Record<string, string> = { ...req.headers, host: req.url.host, 'x-amz-date': date };
  if (creds.sessionToken !== undefined && creds.sessionToken !== '') {
    headers['x-amz-security-token'] = creds.sessionToken;
  }
  const signed = Object.keys(headers)
    .map((h) => h.toLowerCase())
    .sort();
  const signature = sigV4Signature({
    secretAccessKey: creds.secretAccessKey,
    method: req.method,
    path: req.url.pathname,
    query: [...req.url.searchParams],
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    signedHeaders: signed,
    payloadHash: sha256Hex(req.body),
    amzDate: date,
    region: req.region,
    service: req.service,
  });
  const scope = `${date.slice(0, 8)}/${req.region}/${req.service}/aws4_request`;
  headers['authorization'] =
    `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  return headers;
}

export interface SignatureParts {
  readonly secretAccessKey: string;
  readonly method: string;
  /** The path as sent (percent-encoded); it is decoded and encoded again canonically. */
  readonly path: string;
  /** Decoded name/value pairs. */
  readonly query: ReadonlyArray<readonly [string, string]>;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly signedHeaders: readonly string[];
  readonly payloadHash: string;
  readonly amzDate: string;
  readonly region: string;
  readonly service: string;
}

/**
 * The hex signature of a request described by its parts. A verifier (our test double of Route 53)
 * rebuilds the parts from the request it received, so that what travelled is what was signed.
 */
export function sigV4Signature(p: SignatureParts): string {
  const canonical = [
    p.method,
    canonicalPath(p.path),
    canonicalQuery(p.query),
    p.signedHeaders.map((h) => `${h}:${canonicalHeaderValue(p.headers[h] ?? '')}\n`).join(''),
    p.signedHeaders.join(';'),
    p.payloadHash,
  ].join('\n');
  const date = p.amzDate.slice(0, 8);
  const scope = `${date}/${p.region}/${p.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', p.amzDate, scope, sha256Hex(canonical)].join('\n');
  const key = signingKey(p.secretAccessKey, date, p.region, p.service);
  return createHmac('sha256', key).update(toSign).digest('hex');
}

/** The signing key of a day, region and service (kSecret → kDate → kRegion → kService → kSigning). */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/** `x-amz-date` of a time: `20150830T123600Z`. */
export function amzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** RFC 3986 encoding of everything but the unreserved characters (A–Z a–z 0–9 - _ . ~). */
export function awsEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Each segment decoded, then encoded once (what AWS SDKs do for every service but S3). */
function canonicalPath(path: string): string {
  if (path === '') return '/';
  return path
    .split('/')
    .map((seg) => {
      try {
        return awsEncode(decodeURIComponent(seg));
      } catch {
        return awsEncode(seg);
      }
    })
    .join('/');
}

function canonicalQuery(query: ReadonlyArray<readonly [string, string]>): string {
  return query
    .map(([k, v]) => [awsEncode(k), awsEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** Trimmed, runs of spaces collapsed to one. */
function canonicalHeaderValue(v: string): string {
  return v.trim().replace(/\s+/g, ' ');
}
