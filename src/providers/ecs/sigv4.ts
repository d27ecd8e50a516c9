import { type AwsCredentials, sigV4Signature } from '../../core/aws-sigv4.ts';

export { type AwsCredentials, amzDate, sha256Hex, signingKey } from '../../core/aws-sigv4.ts';

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

/**
 * The `Authorization` header of a request, AWS Signature Version 4 (core/aws-sigv4.ts: canonical
 * request, string to sign over the scope `date/region/service/aws4_request`, HMAC-SHA256 with the
 * derived key), every given header signed.
 */
export function signV4(r: SignInput): string {
  const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const signed = Object.keys(headers).sort();
  const signature = sigV4Signature({
    secretAccessKey: r.credentials.secretAccessKey,
    method: r.method,
    path: r.url.pathname,
    query: [...r.url.searchParams],
    headers,
    signedHeaders: signed,
    payloadHash: r.payloadHash,
    amzDate: r.amzDate,
    region: r.region,
    service: r.service,
  });
  const scope = `${r.amzDate.slice(0, 8)}/${r.region}/${r.service}/aws4_request`;
  return `AWS4-HMAC-SHA256 Credential=${r.credentials.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
}
