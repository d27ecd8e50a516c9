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

/*
 * Traefik's static ValidateConfiguration (pkg/config/static/static_config.go) checks a resolver's
 * storage only: a caServer Go's HTTP client cannot get, or an EAB key lego cannot decode, loads,
 * and every order of that resolver fails (pkg/provider/acme/provider.go getClient, then lego's
 * api.New and RegisterWithExternalAccountBinding), logged; its routers serve without its
 * certificates. The static loader warns (load.ts) and the ACME manager fails its orders with these.
 */

/** Why lego cannot get the ACME directory at `caServer` (Go's http.Client), or undefined. */
export function acmeCaServerProblem(caServer: string): string | undefined {
  const scheme = URL.canParse(caServer) ? new URL(caServer).protocol.slice(0, -1) : '';
  if (scheme === 'http' || scheme === 'https') return undefined;
  return `get directory at '${caServer}': Get "${caServer}": unsupported protocol scheme "${scheme}"`;
}

/** lego's error for an EAB key it cannot decode, or undefined. */
export function acmeEabProblem(hmacEncoded: string): string | undefined {
  return decodeEabHmac(hmacEncoded) === undefined ? 'acme: could not decode hmac key' : undefined;
}

/**
 * Go's x509.CreateCertificateRequest refuses an rfc822Name that is not an IA5String (7-bit
 * ASCII), so lego fails every order with such an `emailAddresses` entry: its error, or undefined.
 */
export function acmeEmailAddressesProblem(list: readonly string[]): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: IA5 is 7-bit ASCII, controls included
  const bad = list.find((v) => !/^[\x00-\x7f]*$/.test(v));
  return bad === undefined ? undefined : `x509: ${JSON.stringify(bad)} cannot be encoded as an IA5String`;
}

/** Traefik's getClient error for a resolver with no challenge (pkg/provider/acme/provider.go). */
export const ACME_NO_CHALLENGE =
  'cannot get ACME client ACME challenge not specified, please select TLS or HTTP or DNS Challenge';
