/** In config so that the static schema checks the key as the ACME manager decodes it (tls imports config). */

/**
 * The MAC key of an external account binding as lego decodes `eab.hmacEncoded`
 * (acme/api/account.go decodeEABHmac): base64url without padding, else base64url with it.
 * Undefined when it is neither (lego: "could not decode hmac key") or decodes to nothing.
 */
export function decodeEabHmac(text: string): Buffer | undefined {
  const raw = /^[A-Za-z0-9_-]*$/.test(text) && text.length % 4 !== 1;
  const padded =
    /^[A-Za-z0-9_-]*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/.test(text) && text.length % 4 === 0;
  if (!raw && !padded) return undefined;
  const key = Buffer.from(text.replace(/=+$/, ''), 'base64url');
  return key.length === 0 ? undefined : key;
}
