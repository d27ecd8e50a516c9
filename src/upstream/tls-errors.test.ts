import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTlsProtocolError, tlsConnectError, tlsRejected } from './tls-errors.ts';

function nodeError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('tlsConnectError', () => {
  it('classifies an expired certificate, with the reason in the detail', () => {
    const e = tlsConnectError(nodeError('CERT_HAS_EXPIRED', 'certificate has expired'), true);
    assert.equal(e.code, 'UPSTREAM_TLS_CERT_EXPIRED');
    assert.equal(e.status, 502);
    assert.equal(e.retryable, true);
    assert.equal(e.message, 'server certificate has expired: certificate has expired (CERT_HAS_EXPIRED)');
  });

  it('classifies a certificate that is not valid yet with the expired ones', () => {
    const e = tlsConnectError(nodeError('CERT_NOT_YET_VALID', 'certificate is not yet valid'), true);
    assert.equal(e.code, 'UPSTREAM_TLS_CERT_EXPIRED');
    assert.match(e.message, /^server certificate is not valid yet/);
  });

  it('classifies a name mismatch, naming the host checked and the names the certificate has', () => {
    const err = Object.assign(
      nodeError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames: …"),
      {
        host: 'other.test',
        cert: { subjectaltname: 'DNS:a.test, IP Address:10.0.0.1', subject: { CN: 'a' } },
      },
    );
    const e = tlsConnectError(err, true);
    assert.equal(e.code, 'UPSTREAM_TLS_HOSTNAME');
    assert.equal(
      e.message,
      'server certificate does not match "other.test": it is for DNS:a.test, IP Address:10.0.0.1 (ERR_TLS_CERT_ALTNAME_INVALID)',
    );
  });

  it('falls back to the common name when the certificate has no subjectAltName', () => {
    const err = Object.assign(nodeError('ERR_TLS_CERT_ALTNAME_INVALID', 'x'), {
      host: '10.0.0.1',
      cert: { subject: { CN: 'legacy' } },
    });
    assert.match(tlsConnectError(err, true).message, /it is for CN=legacy and no subjectAltName/);
  });

  it('classifies self-signed and unknown-issuer certificates as untrusted, without Node’s flag hint', () => {
    for (const code of [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    ]) {
      const e = tlsConnectError(
        nodeError(
          code,
          'self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca',
        ),
        true,
      );
      assert.equal(e.code, 'UPSTREAM_TLS_UNTRUSTED', code);
      assert.equal(
        e.message,
        `server certificate is not trusted (check rootCAs): self-signed certificate (${code})`,
      );
    }
  });

  it("reduces OpenSSL's error-queue text to its reason", () => {
    const e = tlsConnectError(
      nodeError(
        'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
        '40FD4599037F0000:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number 70\n',
      ),
      true,
    );
    assert.equal(e.code, 'UPSTREAM_TLS_HANDSHAKE');
    assert.equal(
      e.message,
      'TLS handshake failed: tlsv1 alert protocol version (ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION)',
    );
  });

  it('says when the server does not seem to speak TLS', () => {
    const e = tlsConnectError(
      nodeError(
        'ERR_SSL_WRONG_VERSION_NUMBER',
        'x:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:f.c:1:',
      ),
      true,
    );
    assert.equal(e.code, 'UPSTREAM_TLS_HANDSHAKE');
    assert.match(e.message, /is the server speaking TLS\?/);
  });

  it('counts a connection closed during the handshake as a handshake failure', () => {
    assert.equal(tlsConnectError(null, true).code, 'UPSTREAM_TLS_HANDSHAKE');
    const e = tlsConnectError(
      nodeError(
        'ECONNRESET',
        'Client network socket disconnected before secure TLS connection was established',
      ),
      true,
    );
    assert.equal(e.code, 'UPSTREAM_TLS_HANDSHAKE');
    assert.match(e.message, /closed the connection during the TLS handshake/);
  });

  it('leaves failures before the TCP connection to the network classification', () => {
    assert.equal(tlsConnectError(nodeError('ECONNREFUSED', 'refused'), false).code, 'UPSTREAM_REFUSED');
    assert.equal(tlsConnectError(nodeError('EHOSTUNREACH', 'no route'), false).code, 'UPSTREAM_UNREACHABLE');
  });
});

describe('tlsRejected', () => {
  it('names a missing client certificate (the TLS 1.3 alert that follows the handshake)', () => {
    const e = tlsRejected(
      nodeError(
        'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
        'x:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:f.c:918:SSL alert number 116',
      ),
    );
    assert.equal(e.code, 'UPSTREAM_TLS_HANDSHAKE');
    assert.equal(
      e.message,
      'the server requires a client certificate: tlsv13 alert certificate required (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED)',
    );
  });
});

describe('isTlsProtocolError', () => {
  it('tells OpenSSL record and alert errors from socket errors', () => {
    assert.equal(isTlsProtocolError(nodeError('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'x')), true);
    assert.equal(isTlsProtocolError(nodeError('EPROTO', 'x')), true);
    assert.equal(isTlsProtocolError(nodeError('ECONNRESET', 'x')), false);
    assert.equal(isTlsProtocolError(null), false);
  });
});
