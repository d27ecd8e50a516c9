import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/*
 * The TLS alert a refused handshake ends with, as Go's crypto/tls server sends it where Traefik
 * refuses one (pkg/tls/tlsmanager.go Get: its GetCertificate returns no certificate and no error
 * for a ClientHello offering acme-tls/1 with no pending challenge, or an sniStrict set without a
 * certificate for the name, so that Go's getCertificate answers errNoCertificates, which
 * handshake_server.go / handshake_server_tls13.go turn into alertUnrecognizedName; an error from
 * GetCertificate is alertInternalError). The record is in plaintext (no keys yet), fatal (Go's
 * sendAlertLocked: every alert but close_notify and no_renegotiation), and its record version is
 * Go's writeRecordLocked's: the negotiated version, TLS 1.2 (0x0303) for TLS 1.3. Only written
 * on refusal: nothing here runs for a connection that is served.
 */

/** RFC 8446 6.2 unrecognized_name. */
export const ALERT_UNRECOGNIZED_NAME = 112;
/** RFC 8446 6.2 internal_error. */
export const ALERT_INTERNAL_ERROR = 80;
/** RFC 8446 6.2 unexpected_message. */
export const ALERT_UNEXPECTED_MESSAGE = 10;
/** RFC 8446 6.2 record_overflow. */
export const ALERT_RECORD_OVERFLOW = 22;
/** RFC 8446 6.2 protocol_version. */
export const ALERT_PROTOCOL_VERSION = 70;
/** RFC 8446 6.2 bad_certificate. */
export const ALERT_BAD_CERTIFICATE = 42;
/** RFC 8446 6.2 certificate_expired. */
export const ALERT_CERTIFICATE_EXPIRED = 45;
/** RFC 8446 6.2 unknown_ca. */
export const ALERT_UNKNOWN_CA = 48;

const TLS12 = 0x0303;
const TLS10 = 0x0301;
/** The record version Go writes before a version is chosen (conn.go writeRecordLocked: TLS 1.0). */
export const TLS10_RECORD = TLS10;

/** A fatal alert record: content type 21, `version`, length 2, level 2 (fatal), `description`. */
export function alertRecord(description: number, version = TLS12): Buffer {
  return Buffer.from([21, version >> 8, version & 0xff, 0, 2, 2, description]);
}

/**
 * The record version Go would write for this ClientHello (the first handshake record, as the
 * dispatcher read it): the client's legacy_version, at most TLS 1.2 (a TLS 1.3 client says 0x0303
 * there; TLS 1.3 records say TLS 1.2), TLS 1.2 when it cannot be read.
 */
export function recordVersionOf(clientHello: Uint8Array): number {
  // record header (5) + handshake type (1) + length (3) → legacy_version
  if (clientHello.length < 11 || clientHello[0] !== 22 || clientHello[5] !== 1) return TLS12;
  const v = (clientHello[9]! << 8) | clientHello[10]!;
  return Math.max(TLS10, Math.min(v, TLS12));
}

/** How long a refused client may take to accept 7 bytes before its socket is destroyed anyway. */
const FLUSH_LIMIT_MS = 1_000;

/**
 * Sends a fatal alert and closes, as Go's server does (the alert, then the connection closed): the
 * socket is destroyed once the record is written, or after FLUSH_LIMIT_MS at most.
 */
export function refuseWithAlert(socket: Socket, description: number, version = TLS12): void {
  if (socket.destroyed) return;
  const destroy = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(destroy, FLUSH_LIMIT_MS);
  timer.unref();
  socket.on('error', destroy);
  socket.once('finish', destroy);
  socket.end(alertRecord(description, version));
}

/**
 * The same from node's SNICallback, where a handshake is refused once node's TLS socket has taken
 * the connection: the record is written on the TCP socket under it (`_parent`, as listeners/tls-front
 * reads it), before the callback's error makes node destroy both (the write of 7 bytes completes at
 * once: node writes to the socket before queueing).
 */
export function alertUnderTls(tlsSocket: unknown, description: number, version = TLS12): void {
  const raw = (tlsSocket as { _parent?: Socket } | undefined)?._parent;
  if (raw !== undefined && !raw.destroyed && raw.writable) raw.write(alertRecord(description, version));
}

/**
 * node's verify errors (OpenSSL's X509_V_ERR_* names, TLSSocket.authorizationError) that Go's
 * x509 Verify reports as an UnknownAuthorityError: no chain to the client CAs.
 */
const UNKNOWN_AUTHORITY = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
]);
/** …and as a CertificateInvalidError whose reason is Expired (before NotBefore or after NotAfter). */
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/**
 * The alert Go's server sends for a client certificate it refuses (crypto/tls handshake_server.go
 * processCertsFromClient, Go 1.21 to 1.25, which Traefik v3 builds with): none where one is
 * required is bad_certificate up to TLS 1.2 (certificate_required in TLS 1.3, which OpenSSL sends
 * itself); a failed verification is unknown_ca for an UnknownAuthorityError, certificate_expired
 * for an expired one, bad_certificate otherwise.
 */
export function clientCertAlert(presented: boolean, authorizationError: string | undefined): number {
  if (!presented || authorizationError === undefined) return ALERT_BAD_CERTIFICATE;
  if (UNKNOWN_AUTHORITY.has(authorizationError)) return ALERT_UNKNOWN_CA;
  if (EXPIRED.has(authorizationError)) return ALERT_CERTIFICATE_EXPIRED;
  return ALERT_BAD_CERTIFICATE;
}

const RECORD_VERSION: Readonly<Record<string, number>> = {
  TLSv1: 0x0301,
  'TLSv1.1': 0x0302,
  'TLSv1.2': TLS12,
};

/**
 * Refuses a client certificate once node's handshake is done ('secureConnection'), with Go's
 * alert where a plaintext one still reaches the client: up to TLS 1.2, Go refuses the client's
 * Certificate before its own ChangeCipherSpec, and node emits 'secureConnection' from OpenSSL's
 * handshake-done callback before its last flight (ChangeCipherSpec, Finished) leaves the BIO, so a
 * record written on the TCP socket underneath comes first and the destroy drops that flight. In TLS
 * 1.3 (and on a resumed session, whose Finished went first) the alert would have to be encrypted,
 * which node offers no way to do: the socket is closed bare.
 */
export function refuseClientCert(s: TLSSocket, alert: number): void {
  const version = RECORD_VERSION[s.getProtocol() ?? ''];
  if (version !== undefined && !s.isSessionReused()) alertUnderTls(s, alert, version);
  s.destroy();
}
