import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RequestHead } from '../core/request.ts';
import { type ClientCertPki, makeClientCertPki } from './test-client-cert.ts';
import { build, makeRequest } from './test-request.ts';

function request(pem: string | undefined): RequestHead {
  const cert = pem === undefined ? undefined : new X509Certificate(pem);
  return Object.assign(makeRequest('https://app.test/x'), { tls: { getPeerX509Certificate: () => cert } });
}

// Traefik v3.7's pkg/middlewares/ingressnginx/authtlspasscertificatetoupstream.
describe('authTLSPassCertificateToUpstream', () => {
  let pki: ClientCertPki;
  before(() => {
    pki = makeClientCertPki();
  });
  after(() => pki.remove());

  it('says NONE without a client certificate', () => {
    const req = request(undefined);
    build('authTLSPassCertificateToUpstream', { clientAuthType: 'RequireAndVerifyClientCert' }).onRequest!(
      req,
    );
    assert.equal(req.headers.get('ssl-client-verify'), 'NONE');
    assert.equal(req.headers.get('ssl-client-cert'), undefined);
  });

  it('passes the leaf: SUCCESS (verified by the handshake), its DNs, its PEM escaped with %20', () => {
    const req = request(pki.client);
    build('authTLSPassCertificateToUpstream', { clientAuthType: 'RequireAndVerifyClientCert' }).onRequest!(
      req,
    );
    assert.equal(req.headers.get('ssl-client-verify'), 'SUCCESS');
    assert.match(req.headers.get('ssl-client-subject-dn') ?? '', /CN=/);
    assert.notEqual(req.headers.get('ssl-client-issuer-dn'), req.headers.get('ssl-client-subject-dn'));
    const cert = req.headers.get('ssl-client-cert') ?? '';
    assert.match(cert, /^-----BEGIN%20CERTIFICATE-----%0A/);
    assert.equal(decodeURIComponent(cert), new X509Certificate(pki.client).toString());
  });

  it('verifies the leaf itself with RequestClientCert (optional_no_ca), with Go`s errors', () => {
    const own = request(pki.client);
    build('authTLSPassCertificateToUpstream', { clientAuthType: 'RequestClientCert', caFiles: [pki.ca] })
      .onRequest!(own);
    // Go's Verify asks for server auth by default; the client certificate has clientAuth only.
    assert.equal(
      own.headers.get('ssl-client-verify'),
      'FAILED:x509: certificate specifies an incompatible key usage',
    );
    const other = request(pki.client);
    build('authTLSPassCertificateToUpstream', {
      clientAuthType: 'RequestClientCert',
      caFiles: [pki.minimal],
    }).onRequest!(other);
    assert.equal(
      other.headers.get('ssl-client-verify'),
      'FAILED:x509: certificate signed by unknown authority',
    );
  });
});
