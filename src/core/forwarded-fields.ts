/**
 * The forwarding fields Traefik manages (its forwardedheaders middleware, `XHeadersSet`): from an
 * untrusted peer every one of them is dropped, whatever the backend would make of it
 * (X-Forwarded-Prefix and -Uri steer path-aware applications, X-Forwarded-Method and -Scheme /
 * X-Scheme what they believe of the request). Lowercase, dash spellings.
 */
export const MANAGED_X_HEADERS: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-scheme',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-forwarded-uri',
  'x-forwarded-method',
  'x-forwarded-prefix',
  // Only passTLSClientCert may set these.
  'x-forwarded-tls-client-cert',
  'x-forwarded-tls-client-cert-info',
  'x-scheme',
  'x-real-ip',
]);

/**
 * X-Forwarded-For as the proxy writes it upstream, from its first line (at `first` in the field
 * arrays): its lines joined with ", ", then the peer, as Traefik's proxy appends the client's
 * address to each request it sends (pkg/proxy/httputil/proxy.go rewriteRequestBuilder, Go's
 * ReverseProxy). For the HTTP/1.1 heads (proxy/heads.ts) and the HTTP/2 fields
 * (upstream/h2-fields.ts) alike.
 */
export function forwardedForWithPeer(
  lnames: readonly string[],
  values: readonly string[],
  first: number,
  peer: string,
): string {
  let v = values[first]!;
  for (let j = first + 1; j < lnames.length; j++) if (lnames[j] === 'x-forwarded-for') v += `, ${values[j]}`;
  return `${v}, ${peer}`;
}
