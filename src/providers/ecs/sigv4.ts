import { createHash, createHmac } from 'node:crypto';

/** AWS credentials: a session token with temporary ones (container, instance role, STS). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SignInput {
  readonly method: string;
  readonly url: URL;
  /** The headers to sign, `host` and `x-amz-date` among them (names in any case). */
  readonly headers: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body. */
  readonly payloadHash: string;
  readonly region: string;
  readonly service: string;
  readonly credentials: AwsCredentials;
  /** `YYYYMMDDTHHMMSSZ`, as in `x-amz-date`. */
  readonly amzDate: string;
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** RFC 3986 encoding as SigV4 wants it: only `A-Za-z0-9-_.~` left as they are. */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `x-amz-date` of a time: `20150830T123600Z`. */
export function amzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** The signing key of a day, region and service (kSecret → kDate → kRegion → kService → kSigning). */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/**
 * The `Authorization` header of a request, AWS Signature Version 4 (AWS's "Create a signed AWS
 * API request"): canonical request (method, path, sorted encoded query, sorted lowercased
 * headers, signed header names, payload hash), string to sign over its hash and the scope
 * `date/region/service/aws4_request`, HMAC-SHA256 with the derived key.
 */
export function signV4(r: SignInput): string {
  const path =
    r.url.pathname === ''
      ? '/'
      : r.url.pathname
          .split('/')
          .map((seg) => uriEncode(decodeURIComponent(seg)))
          .join('/');
  const query = [...r.url.searchParams]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = Object.entries(r.headers)
    .map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, ' ')] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const signed = headers.map(([k]) => k).join(';');
  const canonical = [
    r.method,
    path,
    query,
    headers.map(([k, v]) => `${k}:${v}\n`).join(''),
    signed,
    r.payloadHash,
  ].join('\n');
  const date = r.amzDate.slice(0, 8);
  const scope = `${date}/${r.region}/${r.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', r.amzDate, scope, sha256Hex(canonical)].join('\n');
  const key = signingKey(r.credentials.secretAccessKey, date, r.region, r.service);
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return `AWS4-HMAC-SHA256 Credential=${r.credentials.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`;
}
