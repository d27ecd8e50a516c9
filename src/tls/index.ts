/**
 * TLS termination: the certificate store (SNI → certificate), Traefik's TLS options as node:tls
 * settings, and the choice of options per SNI with the 421 rule. How a listener uses them:
 *
 *   per snapshot:   options = compileTlsOptionsSets(tls, read); certs = certificatesFromConfig(tls, read)
 *                   store = CertStore.build(certs.certs, certs.defaultCert, { generated })
 *                   router = TlsRouter.build(routerNeeds)
 *                   per options set (× certificate served without SNI), made on first use and never
 *                   listening: tls.createServer(tlsServerOptions(o, store, fallback))
 *   per connection: parseClientHello(first bytes) → name = router.optionsFor(sni) → o = options.get(name)
 *                   (missing → close); fallback = store.defaultCertificate, or without SNI
 *                   store.lookup(undefined, o, localAddress)?.certificate (undefined: sniStrict, refuseWithAlert
 *                   unrecognized_name, as Go's server);
 *                   socket.pause(); socket.unshift(bytes); server.emit('connection', socket)
 *   on 'secureConnection': checkClientCert(socket, o.clientAuthType) → a refusal closes it
 *                   (refuseClientCert: Go's alert up to TLS 1.2)
 *   per request:    router.misdirected(socket.servername, head.host) → 421
 * handshake.test.ts (`startFront`) is this wiring, tested with real clients.
 */
export {
  ALERT_INTERNAL_ERROR,
  ALERT_UNRECOGNIZED_NAME,
  alertRecord,
  alertUnderTls,
  clientCertAlert,
  recordVersionOf,
  refuseClientCert,
  refuseWithAlert,
} from './alerts.ts';
export {
  type CertInput,
  type CertLookup,
  CertStore,
  type CertStoreOptions,
  certificatesFromConfig,
  GeneratedDefaultCertificate,
  type StoredCertificate,
} from './cert-store.ts';
export {
  type SessionTicketKeyOptions,
  SessionTicketKeys,
  TICKET_KEY_PERIOD_MS,
  type TicketKey,
} from './session-tickets.ts';
export {
  type ClientHello,
  MAX_CLIENT_HELLO_BYTES,
  parseClientHello,
  type RouterTlsNeed,
  TlsRouter,
} from './sni.ts';
export {
  type CompiledTlsOptions,
  checkClientCert,
  compileTlsOptions,
  compileTlsOptionsSets,
  DEFAULT_GROUPS,
  DEFAULT_TLS12_CIPHERS,
  negotiateAlpn,
  type ReadFile,
  resolvePem,
  secureContextFor,
  TLS13_SUITES,
  tlsServerOptions,
} from './tls-options.ts';
export { missingIssuer, TrustedRoots } from './x509/index.ts';
