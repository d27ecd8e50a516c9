import { X509Certificate } from 'node:crypto';
import type { AuthTLSPassCertificateToUpstreamConfig } from '../config/dynamic/middlewares.ts';
import type { RequestHead } from '../core/request.ts';
import { goQueryEscape } from './errors.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';
import { goSubjectString } from './pass-tls-client-cert.ts';

/** The ExtKeyUsage OIDs Go's Verify accepts by default (ServerAuth) and any usage. */
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const ANY_USAGE = '2.5.29.37.0';

/** Go's pem.EncodeToMemory of a certificate: 64-character base64 lines. */
function pem(der: Buffer): string {
  const b64 = der.toString('base64');
  let s = '-----BEGIN CERTIFICATE-----\n';
  for (let i = 0; i < b64.length; i += 64) s += `${b64.slice(i, i + 64)}\n`;
  return `${s}-----END CERTIFICATE-----\n`;
}

/**
 * Go's cert.Verify(x509.VerifyOptions{Roots: pool}) for a leaf alone (no intermediates): its
 * error text, or '' when it verifies. Only what a client certificate meets: an issuer among the
 * roots whose signature checks, the validity period, Go's default key usage (server auth).
 */
function goVerify(cert: X509Certificate, roots: readonly X509Certificate[]): string {
  const now = Date.now();
  if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo))
    return 'x509: certificate has expired or is not yet valid';
  const root = roots.find((r) => cert.checkIssued(r) && cert.verify(r.publicKey));
  if (root === undefined) return 'x509: certificate signed by unknown authority';
  const eku = cert.keyUsage;
  if (eku !== undefined && eku.length > 0 && !eku.includes(SERVER_AUTH) && !eku.includes(ANY_USAGE))
    return 'x509: certificate specifies an incompatible key usage';
  return '';
}

/**
 * Traefik v3.7's AuthTLSPassCertificateToUpstream (pkg/middlewares/ingressnginx/
 * authtlspasscertificatetoupstream, ingress-nginx's `auth-tls-pass-certificate-to-upstream`):
 * ingress-nginx's fields for the backend. Without a client certificate, `Ssl-Client-Verify: NONE`;
 * with one (its leaf), `Ssl-Client-Verify` (`SUCCESS`, the handshake having verified it, except
 * with RequestClientCert, `optional_no_ca`, where the leaf is verified here against `caFiles`:
 * `FAILED:<Go's error>`), `Ssl-Client-Subject-Dn` and `Ssl-Client-Issuer-Dn` (Go's
 * pkix.Name.String()) and `Ssl-Client-Cert` (the PEM, URL-escaped with spaces as %20, as nginx's
 * `$ssl_client_escaped_cert`).
 */
class AuthTlsPassCertificate implements Middleware {
  /** Non-null with RequestClientCert: the roots the leaf is verified against. */
  readonly #roots: readonly X509Certificate[] | null;

  constructor(roots: readonly X509Certificate[] | null) {
    this.#roots = roots;
  }

  onRequest(req: RequestHead): undefined {
    const cert = req.tls?.getPeerX509Certificate();
    const h = req.headers;
    if (cert === undefined) {
      h.set('Ssl-Client-Verify', 'NONE');
      return undefined;
    }
    let verify = 'SUCCESS';
    if (this.#roots !== null) {
      const err = goVerify(cert, this.#roots);
      if (err !== '') verify = `FAILED:${err}`;
    }
    h.set('Ssl-Client-Verify', verify);
    h.set('Ssl-Client-Subject-Dn', goSubjectString(cert.raw));
    h.set('Ssl-Client-Issuer-Dn', goSubjectString(cert.raw, true));
    h.set('Ssl-Client-Cert', goQueryEscape(pem(cert.raw)).replaceAll('+', '%20'));
    return undefined;
  }
}

export const authTlsPassCertificateFactory: MiddlewareFactory<AuthTLSPassCertificateToUpstreamConfig> = {
  type: 'authTLSPassCertificateToUpstream',
  create(config) {
    if (config.clientAuthType !== 'RequestClientCert') return new AuthTlsPassCertificate(null);
    // Go's x509.CertPool: no caFiles is the system's roots (a client certificate is rarely
    // signed by one: those are left out here, so such a certificate is FAILED).
    const roots: X509Certificate[] = [];
    for (const ca of config.caFiles) {
      const blocks = ca.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
      if (blocks === null) return { error: 'failed to parse CA certificate' };
      try {
        for (const b of blocks) roots.push(new X509Certificate(b));
      } catch {
        return { error: 'failed to parse CA certificate' };
      }
    }
    return new AuthTlsPassCertificate(roots);
  },
};
