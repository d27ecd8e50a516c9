import { type ErrorCode, ProxyError, upstreamError } from '../core/errors.ts';
import { PEER_SANS_MISMATCH, PEER_URI_MISMATCH } from './peer-cert-uri.ts';
import { SPIFFE_REFUSED } from './spiffe.ts';

/*
 * Why a TLS connection to a server failed, in words a user can act on. The codes are OpenSSL's
 * X509_V_ERR_* names as Node reports them (err.code), plus Node's own hostname check.
 */

const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'CERT_CHAIN_TOO_LONG',
]);

/** `code:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:file:line:` */
const OPENSSL_REASON = /:error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:]+):/;

/** Node's own advice, which points at a Node flag instead of the transport's rootCAs. */
const NODE_HINT = /; if the root CA is installed locally.*$/s;

function codeOf(err: Error | null): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** OpenSSL's reason text, without its error-queue decoration. */
function reasonOf(err: Error): string {
  const m = OPENSSL_REASON.exec(err.message);
  return (m === null ? err.message : m[1]!).replace(NODE_HINT, '').trim();
}

function tlsFailure(code: ErrorCode, what: string, err: Error | null): ProxyError {
  const c = codeOf(err);
  const detail = err === null ? what : `${what}: ${reasonOf(err)}${c === '' ? '' : ` (${c})`}`;
  return new ProxyError(code, detail, { cause: err ?? undefined });
}

/** True for the errors OpenSSL raises on TLS records and alerts (not plain socket errors). */
export function isTlsProtocolError(err: Error | null): boolean {
  const c = codeOf(err);
  return c.startsWith('ERR_SSL_') || c === 'EPROTO';
}

/**
 * Classifies a failure while connecting to an `https://` server. Before the TCP connection is up
 * the error is a plain network one (refused, unreachable); after it, every failure belongs to the
 * handshake, including the server closing the connection in the middle of it.
 */
export function tlsConnectError(err: Error | null, tcpUp: boolean): ProxyError {
  if (!tcpUp) return upstreamError(err ?? new Error('connection closed'), 'connect');
  const c = codeOf(err);
  if (EXPIRED.has(c)) {
    const what =
      c === 'CERT_NOT_YET_VALID' ? 'server certificate is not valid yet' : 'server certificate has expired';
    return tlsFailure('UPSTREAM_TLS_CERT_EXPIRED', what, err);
  }
  if (c === 'ERR_TLS_CERT_ALTNAME_INVALID') return hostnameMismatch(err!);
  if (c === PEER_URI_MISMATCH) {
    return new ProxyError('UPSTREAM_TLS_PEER_URI', `${err!.message} (peerCertURI)`, { cause: err });
  }
  if (c === PEER_SANS_MISMATCH) {
    return new ProxyError('UPSTREAM_TLS_PEER_URI', `${err!.message} (peerCertSANs)`, { cause: err });
  }
  if (c === SPIFFE_REFUSED) {
    return new ProxyError('UPSTREAM_TLS_PEER_URI', `${err!.message} (spiffe)`, { cause: err });
  }
  if (UNTRUSTED.has(c)) {
    return tlsFailure('UPSTREAM_TLS_UNTRUSTED', 'server certificate is not trusted (check rootCAs)', err);
  }
  return tlsRejected(err);
}

/** Node's check puts the name it verified and the peer certificate on the error. */
function hostnameMismatch(err: Error): ProxyError {
  const e = err as Error & {
    host?: unknown;
    cert?: { subjectaltname?: unknown; subject?: { CN?: unknown } };
  };
  const san = e.cert?.subjectaltname;
  const cn = e.cert?.subject?.CN;
  const names =
    typeof san === 'string' && san !== ''
      ? san
      : typeof cn === 'string'
        ? `CN=${cn} and no subjectAltName`
        : 'no names';
  const host = typeof e.host === 'string' ? `"${e.host}"` : 'the server name';
  return new ProxyError(
    'UPSTREAM_TLS_HOSTNAME',
    `server certificate does not match ${host}: it is for ${names} (ERR_TLS_CERT_ALTNAME_INVALID)`,
    { cause: err },
  );
}

/**
 * Any other handshake failure. The server's alerts also arrive here after our side of a TLS 1.3
 * handshake completed: a server that requires a client certificate says so only once it has
 * read our Finished message.
 */
export function tlsRejected(err: Error | null): ProxyError {
  if (err === null) {
    return tlsFailure(
      'UPSTREAM_TLS_HANDSHAKE',
      'the server closed the connection during the TLS handshake',
      null,
    );
  }
  const c = codeOf(err);
  if (c === 'ECONNRESET') {
    return tlsFailure(
      'UPSTREAM_TLS_HANDSHAKE',
      'the server closed the connection during the TLS handshake',
      err,
    );
  }
  if (c === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED') {
    return tlsFailure('UPSTREAM_TLS_HANDSHAKE', 'the server requires a client certificate', err);
  }
  if (c === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number/.test(err.message)) {
    return tlsFailure('UPSTREAM_TLS_HANDSHAKE', 'TLS handshake failed (is the server speaking TLS?)', err);
  }
  return tlsFailure('UPSTREAM_TLS_HANDSHAKE', 'TLS handshake failed', err);
}
