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
