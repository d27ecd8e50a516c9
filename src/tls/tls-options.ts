import { constants, createHash, X509Certificate } from 'node:crypto';
import {
  createSecureContext,
  type SecureContext,
  type SecureContextOptions,
  type TLSSocket,
  type TlsOptions,
} from 'node:tls';
import { DEFAULT_TLS_NAME } from '../config/dynamic/sections.ts';
import type { TlsOptionsConfig, TlsSectionConfig } from '../config/dynamic/tls.ts';
import {
  CIPHER_SUITES,
  CLIENT_AUTH_TYPES,
  type ClientAuthType,
  CURVES,
  isInlinePem,
  TLS_VERSIONS,
  TLS13_SUITES,
  type TlsVersionName,
} from '../config/dynamic/tls-names.ts';
import { UNAVAILABLE_SUITES } from '../config/dynamic/tls-warnings.ts';
import { type ConfigIssue, type ConfigPath, issue } from '../config/issues.ts';
import { schemaDefaults } from '../config/schema-defaults.ts';
import { goPathError, isMissingFile } from '../core/go-path-error.ts';
import { ALERT_INTERNAL_ERROR, ALERT_UNRECOGNIZED_NAME, alertUnderTls, clientCertAlert } from './alerts.ts';
import type { CertStore, StoredCertificate } from './cert-store.ts';

/*
 * Traefik's `tls.options` as node:tls settings. Node applies the protocol versions, ciphers,
 * groups, verify mode and ALPN of the *server* (or of the context the TLSSocket was created
 * with): a context swapped in by SNICallback only contributes its certificate, key, chain and CA
 * store (node's UseSNIContext/SetCACerts). So one options set = one `tls.Server` (never
 * listening) built by `tlsServerOptions`, and the listener picks the server from the ClientHello's
 * SNI (`parseClientHello` + `TlsRouter.optionsFor`) before handing the socket over.
 */

/** ECDHE key exchange with AEAD only: forward secrecy, no CBC (Lucky13) and no static RSA (ROBOT). */
export const DEFAULT_TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;

export { TLS13_SUITES } from '../config/dynamic/tls-names.ts';

/**
 * Go's default key exchange groups, which Traefik keeps (it sets no CurvePreferences): the hybrid
 * post-quantum X25519MLKEM768 where this OpenSSL has it (3.5+), X25519, P-256, P-384, P-521.
 * OpenSSL's own default would also offer X448 and the finite-field groups ffdhe2048/3072 in
 * TLS 1.3 (ffdhe2048 is 112-bit strength, below every other choice here; Go speaks none of them).
 */
export const DEFAULT_GROUPS = supportsGroup('X25519MLKEM768')
  ? 'X25519MLKEM768:X25519:P-256:P-384:P-521'
  : 'X25519:P-256:P-384:P-521';

function supportsGroup(group: string): boolean {
  try {
    createSecureContext({ ecdhCurve: group });
    return true;
  } catch {
    return false;
  }
}

/** What TLS 1.0/1.1 clients can use (Go's defaults for them); only added when minVersion allows them. */
const LEGACY_CBC_CIPHERS = [
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
];

/** One options set, ready for node:tls. Immutable; the cert store caches contexts by identity. */
export interface CompiledTlsOptions {
  readonly name: string;
  /** For tls.createSecureContext (with a certificate added) and tls.createServer. */
  readonly context: Readonly<SecureContextOptions>;
  readonly clientAuthType: ClientAuthType;
  /** Ask for a client certificate during the handshake. */
  readonly requestCert: boolean;
  /** Let node refuse a missing or unverifiable certificate itself (RequireAndVerifyClientCert). */
  readonly rejectUnauthorized: boolean;
  readonly alpnProtocols: readonly string[];
  readonly sniStrict: boolean;
  /** Hex digest of everything above but the name: equal policies have equal fingerprints. */
  readonly fingerprint: string;
}

/** Reads a file named in the configuration (throws when it cannot). */
export type ReadFile = (path: string) => string;

/** Which value resolvePem reads, for Traefik's words about it. */
export type PemRole = 'CertFile' | 'KeyFile' | 'caFile';

/**
 * What Traefik says of a path that names no file: its FileOrContent (pkg/types/file_or_content.go)
 * reads such a path as the PEM itself, in which Go finds none (pkg/tls/certificate.go
 * GetCertificate's tls.X509KeyPair; tlsmanager.go buildTLSConfig's AppendCertsFromPEM).
 */
const TRAEFIK_ON_MISSING: Readonly<Record<PemRole, string>> = {
  CertFile: 'unable to parse TLS certificate key pair: tls: failed to find any PEM data in certificate input',
  KeyFile: 'unable to parse TLS certificate key pair: tls: failed to find any PEM data in key input',
  caFile: 'invalid certificate(s) content',
};

/**
 * A certFile/keyFile/caFiles value: the PEM itself, or the content of the file it names. A file
 * that cannot be read is said in Traefik's words (GetCertificate: `unable to read CertFile: open
 * /x.crt: permission denied`, Go's os.PathError); one that does not exist too, with what Traefik
 * then reports, since it reads the path as the PEM itself.
 */
export function resolvePem(
  value: string,
  read: ReadFile,
  role: PemRole = 'caFile',
): { pem: string } | { error: string } {
  if (isInlinePem(value)) return { pem: value };
  // Traefik's FileOrContent: not a file, so content, in which Go finds no PEM data.
  if (value.trim() === '') return { error: 'empty: no file and no PEM data (failed to find any PEM data)' };
  try {
    return { pem: read(value) };
  } catch (err) {
    const what = role === 'caFile' ? 'CA file' : role;
    const said = `unable to read ${what}: ${goPathError(err, value)}`;
    if (!isMissingFile(err)) return { error: said };
    return {
      error: `${said} (Traefik reads a path that names no file as the PEM itself, and says "${TRAEFIK_ON_MISSING[role]}")`,
    };
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function checkCaPem(pem: string): string | undefined {
  const blocks = pem.match(PEM_CERT);
  if (blocks === null) return 'no PEM certificate found';
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return `invalid certificate: ${(err as Error).message}`;
    }
  }
  return undefined;
}

function cipherList(config: TlsOptionsConfig, legacy: boolean): string {
  if (config.cipherSuites === undefined) {
    const tls12 = legacy ? [...DEFAULT_TLS12_CIPHERS, ...LEGACY_CBC_CIPHERS] : DEFAULT_TLS12_CIPHERS;
    return [...TLS13_SUITES, ...tls12, ...(legacy ? ['@SECLEVEL=0'] : [])].join(':');
  }
  const tls13: string[] = [];
  const tls12: string[] = [];
  for (const name of config.cipherSuites) {
    const suite = CIPHER_SUITES[name];
    if (suite === undefined || suite.openssl === '') continue;
    const list = suite.tls13 === true ? tls13 : tls12;
    if (!list.includes(suite.openssl)) list.push(suite.openssl);
  }
  // Listing TLS 1.3 suites narrows TLS 1.3 to them (Go would ignore them); otherwise keep all.
  const all = [...(tls13.length > 0 ? tls13 : TLS13_SUITES), ...tls12];
  if (legacy) all.push('@SECLEVEL=0');
  return all.join(':');
}

/**
 * Traefik's clientAuthType → node's verify mode. RequireAnyClientCert and VerifyClientCertIfGiven
 * have no node equivalent: they request a certificate without letting node refuse, and
 * `checkClientCert` decides after the handshake.
 */
function verifyMode(type: ClientAuthType): { requestCert: boolean; rejectUnauthorized: boolean } {
  switch (type) {
    case 'NoClientCert':
      return { requestCert: false, rejectUnauthorized: false };
    case 'RequestClientCert':
    case 'RequireAnyClientCert':
    case 'VerifyClientCertIfGiven':
      return { requestCert: true, rejectUnauthorized: false };
    case 'RequireAndVerifyClientCert':
      return { requestCert: true, rejectUnauthorized: true };
  }
}

/**
 * What Traefik's buildTLSConfig (pkg/tls/tlsmanager.go) refuses in a set its decoder took: a
 * clientAuthType it does not know or that verifies without caFiles ("invalid clientAuthType: …,
 * CAFiles is required"), a cipher suite or curve it does not know. The error and where, from the
 * set's root; undefined when the set can be built.
 */
function refusedByTraefik(config: TlsOptionsConfig): { error: string; at: ConfigPath } | undefined {
  const type = config.clientAuth.clientAuthType;
  if (!(CLIENT_AUTH_TYPES as readonly string[]).includes(type)) {
    return {
      error: `unknown clientAuthType "${type}" (expected one of ${CLIENT_AUTH_TYPES.join(', ')})`,
      at: ['clientAuth', 'clientAuthType'],
    };
  }
  if (
    (type === 'VerifyClientCertIfGiven' || type === 'RequireAndVerifyClientCert') &&
    config.clientAuth.caFiles.length === 0
  ) {
    return {
      error: `clientAuthType ${type} needs caFiles: the CAs that client certificates are verified against`,
      at: ['clientAuth', 'caFiles'],
    };
  }
  const suites = config.cipherSuites ?? [];
  for (const [i, suite] of suites.entries()) {
    if (CIPHER_SUITES[suite] === undefined && UNAVAILABLE_SUITES[suite] === undefined) {
      return {
        error: `unknown cipher suite "${suite}" (expected a Go cipher suite name such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, Traefik's list)`,
        at: ['cipherSuites', i],
      };
    }
  }
  for (const [i, curve] of (config.curvePreferences ?? []).entries()) {
    if (CURVES[curve] === undefined) {
      return {
        error: `unknown curve "${curve}" (expected one of ${Object.keys(CURVES).join(', ')})`,
        at: ['curvePreferences', i],
      };
    }
  }
  return undefined;
}

/**
 * A minVersion or maxVersion Traefik's buildTLSConfig does not know is not set (`if minConst,
 * exists := MinVersion[…]; exists`), so Go's crypto/tls default applies: TLS 1.2 as a server's
 * minimum (Go 1.22+: tls10server=0, the default under Traefik v3.6's go.mod, `go 1.24.0`) and TLS 1.3 as its
 * maximum, which are ours. tls-warnings.ts warns about it.
 */
const GO_DEFAULT_MIN: TlsVersionName = 'VersionTLS12';
const GO_DEFAULT_MAX: TlsVersionName = 'VersionTLS13';
const knownVersion = (v: string | undefined, fallback: TlsVersionName): TlsVersionName =>
  v !== undefined && Object.hasOwn(TLS_VERSIONS, v) ? (v as TlsVersionName) : fallback;

/** Builds one options set from its config and the CA PEMs its caFiles resolved to. */
export function compileTlsOptions(
  name: string,
  config: TlsOptionsConfig,
  caPems: readonly string[] = [],
): { options: CompiledTlsOptions } | { error: string; at?: ConfigPath } {
  for (const [index, pem] of caPems.entries()) {
    const error = checkCaPem(pem);
    if (error !== undefined) return { error, at: ['clientAuth', 'caFiles', index] };
  }
  const refused = refusedByTraefik(config);
  if (refused !== undefined) return refused;
  const clientAuthType = config.clientAuth.clientAuthType as ClientAuthType;
  const minVersion = knownVersion(config.minVersion, GO_DEFAULT_MIN);
  const maxVersion = knownVersion(config.maxVersion, GO_DEFAULT_MAX);
  const legacy = minVersion === 'VersionTLS10' || minVersion === 'VersionTLS11';
  // No renegotiation (client-initiated renegotiation is a CPU denial of service, and none of
  // HTTP/1.1's or HTTP/2's needs it); no compression (CRIME). OpenSSL 3 compresses nothing by
  // default; saying so keeps it true whatever the build.
  let secureOptions = constants.SSL_OP_NO_RENEGOTIATION | constants.SSL_OP_NO_COMPRESSION;
  if (config.disableSessionTickets) secureOptions |= constants.SSL_OP_NO_TICKET;
  const context: SecureContextOptions = {
    minVersion: TLS_VERSIONS[minVersion],
    maxVersion: TLS_VERSIONS[maxVersion],
    ciphers: cipherList(config, legacy),
    honorCipherOrder: true,
    secureOptions,
  };
  context.ecdhCurve =
    config.curvePreferences !== undefined && config.curvePreferences.length > 0
      ? [...new Set(config.curvePreferences.map((c) => CURVES[c]))].join(':')
      : DEFAULT_GROUPS;
  if (clientAuthType !== 'NoClientCert' && caPems.length > 0) context.ca = [...caPems];
  const mode = verifyMode(clientAuthType);
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([context, clientAuthType, mode, config.alpnProtocols, config.sniStrict, caPems]))
    .digest('hex');
  // Sessions must not resume across policies (a session made without a client certificate must
  // not skip it under another options set: the Envoy CVE-2022-21654 class). OpenSSL keys its
  // session cache by this context (at most 32 bytes).
  context.sessionIdContext = fingerprint.slice(0, 32);
  try {
    createSecureContext(context);
  } catch (err) {
    return { error: `invalid TLS options: ${(err as Error).message}` };
  }
  return {
    options: {
      name,
      context,
      clientAuthType,
      ...mode,
      alpnProtocols: [...config.alpnProtocols],
      sniStrict: config.sniStrict,
      fingerprint,
    },
  };
}

/**
 * Every options set of a `tls` section, caFiles read through `read`; the `default` set is
 * Traefik's built-in one unless the section defines it. A set with an error is left out (and
 * reported): routers naming it get no TLS rather than a weaker policy.
 */
export function compileTlsOptionsSets(
  tls: Pick<TlsSectionConfig, 'options'>,
  read: ReadFile,
  root: ConfigPath = ['tls'],
): { options: Map<string, CompiledTlsOptions>; issues: ConfigIssue[] } {
  const options = new Map<string, CompiledTlsOptions>();
  const issues: ConfigIssue[] = [];
  const entries = Object.entries(tls.options);
  if (!Object.hasOwn(tls.options, DEFAULT_TLS_NAME))
    entries.push([DEFAULT_TLS_NAME, structuredClone(schemaDefaults().tlsOptions)]);
  for (const [name, config] of entries) {
    const path = [...root, 'options', name];
    const caPems: string[] = [];
    let failed = false;
    for (const [i, file] of config.clientAuth.caFiles.entries()) {
      const r = resolvePem(file, read, 'caFile');
      if ('error' in r) {
        issues.push(issue('error', r.error, [...path, 'clientAuth', 'caFiles', i]));
        failed = true;
      } else caPems.push(r.pem);
    }
    if (failed) continue;
    const r = compileTlsOptions(name, config, caPems);
    if ('options' in r) options.set(name, r.options);
    else {
      issues.push(issue('error', r.error, r.at === undefined ? path : [...path, ...r.at]));
    }
  }
  return { options, issues };
}

/** A context for one certificate under one options set. */
export function secureContextFor(
  options: CompiledTlsOptions | undefined,
  cert: { readonly certPem: string; readonly keyPem: string },
): SecureContext {
  return createSecureContext({ ...options?.context, cert: cert.certPem, key: cert.keyPem });
}

/**
 * Go's ALPN rule (crypto/tls negotiateALPN): the server's first protocol that the client offers;
 * a client offering http/1.1 to an h2-only server still gets in (as http/1.1); anything else is
 * refused with no_application_protocol (undefined).
 */
export function negotiateAlpn(server: readonly string[], client: readonly string[]): string | undefined {
  let http11 = false;
  for (const s of server) {
    for (const c of client) {
      if (s === c) return s;
      if (s === 'h2' && c === 'http/1.1') http11 = true;
    }
  }
  return http11 ? 'http/1.1' : undefined;
}

/**
 * Where node's verify mode falls short of Go's (crypto/tls processCertsFromClient), the TLS socket
 * is adjusted in its SNICallback (whose `this` it is; nothing public reaches a server's socket
 * earlier than 'secure', and this runs once the version is chosen, before the client's
 * Certificate is read), or its ALPNCallback (the same, for a ClientHello without SNI that offers
 * ALPN, as curl to an IP address). With neither, the server's own mode applies.
 * - TLS 1.3: a missing certificate is refused inside the handshake, with certificate_required as
 *   Go, by OpenSSL's SSL_VERIFY_FAIL_IF_NO_PEER_CERT (node's `setVerifyMode(request, reject)`),
 *   for RequireAnyClientCert too (whose server asks without it, so that any certificate passes).
 * - Up to TLS 1.2: no FAIL_IF_NO_PEER_CERT (OpenSSL's alert would be handshake_failure, Go's is
 *   bad_certificate): checkClientCert refuses after the handshake, and refuseClientCert's alert
 *   still comes before the server's Finished.
 * - RequireAndVerifyClientCert: node's post-handshake destroy (a bare close) is turned off, so
 *   that a certificate that does not verify reaches checkClientCert, which refuses it with Go's
 *   alert (up to TLS 1.2).
 * These are node's private members: when they are gone, node's own behaviour stays (safe: every
 * socket still goes through checkClientCert).
 */
type NodeServerSocket = {
  _handle?: { setVerifyMode?: (request: boolean, reject: boolean) => void };
  _rejectUnauthorized?: boolean;
  getProtocol?: () => string | null;
};
const VERIFY_AFTER_SNI: Partial<Record<ClientAuthType, (socket: NodeServerSocket) => void>> = {
  RequireAnyClientCert(s) {
    if (s.getProtocol?.() === 'TLSv1.3') s._handle?.setVerifyMode?.(true, true);
  },
  RequireAndVerifyClientCert(s) {
    if (s._rejectUnauthorized !== true) return;
    if (s.getProtocol?.() !== 'TLSv1.3') s._handle?.setVerifyMode?.(true, false);
    s._rejectUnauthorized = false;
  },
};

/**
 * Options for `tls.createServer` applying one options set: the store's certificate by SNI,
 * `fallback` without SNI (the default certificate, or what `store.lookup(undefined, options,
 * localAddress)` found), verify mode, ALPN. Handshakes the store refuses (sniStrict) fail.
 * After 'secureConnection', `checkClientCert(socket, options.clientAuthType)` must still run.
 */
export function tlsServerOptions(
  options: CompiledTlsOptions,
  store: CertStore,
  fallback: StoredCertificate = store.defaultCertificate,
): TlsOptions {
  const afterSni = VERIFY_AFTER_SNI[options.clientAuthType];
  const server: TlsOptions = {
    ...options.context,
    cert: fallback.certPem,
    key: fallback.keyPem,
    requestCert: options.requestCert,
    rejectUnauthorized: options.rejectUnauthorized,
    SNICallback(this: unknown, servername, cb) {
      let found: ReturnType<CertStore['lookup']>;
      try {
        found = store.lookup(servername, options);
      } catch (err) {
        // Go: an error from GetCertificate is alertInternalError (alerts.ts).
        alertUnderTls(this, ALERT_INTERNAL_ERROR);
        cb(err as Error);
        return;
      }
      if (found === undefined) {
        // Traefik's GetCertificate under sniStrict returns no certificate: unrecognized_name.
        alertUnderTls(this, ALERT_UNRECOGNIZED_NAME);
        cb(new Error(`strict SNI: no certificate for "${servername}"`));
        return;
      }
      if (afterSni !== undefined) afterSni(this as NodeServerSocket);
      cb(null, found.secureContext);
    },
  };
  const protocols = options.alpnProtocols;
  if (protocols.length > 0) {
    server.ALPNCallback =
      afterSni === undefined
        ? (hello) => negotiateAlpn(protocols, hello.protocols)
        : function (this: unknown, hello) {
            // A ClientHello without SNI but with ALPN: node calls this as the socket's method
            // (its `this`), before the client's Certificate too. Twice with SNI: idempotent.
            afterSni(this as NodeServerSocket);
            return negotiateAlpn(protocols, hello.protocols);
          };
  }
  return server;
}

/** Why a client certificate is refused, and the alert Go sends for it (tls/alerts clientCertAlert). */
export interface ClientCertRefusal {
  readonly reason: string;
  readonly alert: number;
}

/**
 * The post-handshake half of clientAuthType (node verifies, but only refuses by itself in
 * RequireAndVerifyClientCert, and not after VERIFY_AFTER_SNI): the refusal, or undefined to keep
 * the connection. Call on 'secureConnection' sockets of a `tls.Server` (which sets `authorized`).
 */
export function checkClientCert(socket: TLSSocket, mode: ClientAuthType): ClientCertRefusal | undefined {
  if (mode === 'NoClientCert' || mode === 'RequestClientCert') return undefined;
  const presented = socket.getPeerX509Certificate() !== undefined;
  if (!presented) {
    return mode === 'VerifyClientCertIfGiven'
      ? undefined
      : { reason: 'client certificate required', alert: clientCertAlert(false, undefined) };
  }
  if (mode === 'RequireAnyClientCert' || socket.authorized) return undefined;
  const error = socket.authorizationError === undefined ? undefined : String(socket.authorizationError);
  return {
    reason: `client certificate refused: ${error ?? 'not verified'}`,
    alert: clientCertAlert(true, error),
  };
}
