import { X509Certificate } from 'node:crypto';
import type { AuthTLSPassCertificateToUpstreamConfig } from '../config/dynamic/middlewares.ts';
import { certificatePems, toPem } from '../core/pem.ts';
import type { RequestHead } from '../core/request.ts';
import { goQueryEscape } from './errors.ts';
import type { Middleware, MiddlewareFactory } from './middleware.ts';
import { goSubjectString } from './pass-tls-client-cert.ts';

/**
 * The ExtKeyUsage OIDs Go's Verify accepts by default (ServerAuth), any usage, and the Netscape
 * and Microsoft Server Gated Crypto ones it takes for ServerAuth (checkChainForKeyUsage).
 */
const SERVER_AUTH = new Set([
  '1.3.6.1.5.5.7.3.1',
  '2.5.29.37.0',
  '2.16.840.1.113730.4.1',
  '1.3.6.1.4.1.311.10.3.3',
]);

/** Go's time.Format(time.RFC3339) of a UTC instant (whole seconds). */
function rfc3339(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** Go's isValid time check: a CertificateInvalidError{Reason: Expired} text, or ''. */
function expiry(cert: X509Certificate, now: number): string {
  const from = cert.validFromDate.getTime();
  const to = cert.validToDate.getTime();
  const t = Math.floor(now / 1000) * 1000;
  if (t < from)
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(t)} is before ${rfc3339(from)}`;
  if (t > to)
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(t)} is after ${rfc3339(to)}`;
  return '';
}

/** The key family of a signature algorithm, as Go's x509 names it. */
function signatureFamily(cert: X509Certificate): 'RSA' | 'ECDSA' | 'Ed25519' {
  const a = cert.signatureAlgorithm?.toLowerCase() ?? '';
  if (a.includes('ecdsa')) return 'ECDSA';
  if (a.includes('ed25519')) return 'Ed25519';
  return 'RSA';
}

/** Go's checkSignature error for a signature that does not verify under the parent's key. */
function signatureError(cert: X509Certificate, parent: X509Certificate): string {
  const family = signatureFamily(cert);
  const key = parent.publicKey.asymmetricKeyType;
  const goType =
    key === 'ec' ? '*ecdsa.PublicKey' : key === 'ed25519' ? 'ed25519.PublicKey' : '*rsa.PublicKey';
  const keyFamily = key === 'ec' ? 'ECDSA' : key === 'ed25519' ? 'Ed25519' : 'RSA';
  if (family !== keyFamily)
    return `x509: signature algorithm specifies an ${family} public key, but have public key of type ${goType}`;
  if (family === 'ECDSA') return 'x509: ECDSA verification failure';
  if (family === 'Ed25519') return 'x509: Ed25519 verification failure';
  return 'crypto/rsa: verification error';
}

/** Go's CheckSignatureFrom(parent): '' when the parent signed the certificate. */
function checkSignatureFrom(cert: X509Certificate, parent: X509Certificate): string {
  const violation = 'x509: invalid signature: parent certificate cannot sign this kind of certificate';
  if (!parent.ca) return violation;
  if (!cert.verify(parent.publicKey)) return signatureError(cert, parent);
  // OpenSSL's check_issued also wants keyCertSign when the parent has a key usage (Go's
  // KeyUsage&KeyUsageCertSign); the names already match, the signature checks.
  if (!cert.checkIssued(parent)) return violation;
  return '';
}

/** Go's UnknownAuthorityError text, with its hint when a candidate was refused. */
function unknownAuthority(hint: string, hintCert: X509Certificate | undefined): string {
  const s = 'x509: certificate signed by unknown authority';
  if (hint === '' || hintCert === undefined) return s;
  const attrs = hintCert.subject.split('\n');
  const attr = (k: string) => attrs.find((l) => l.startsWith(`${k}=`))?.slice(k.length + 1);
  const name = attr('CN') || attr('O') || `serial:${BigInt(`0x${hintCert.serialNumber}`).toString()}`;
  return `${s} (possibly because of ${JSON.stringify(hint)} while trying to verify candidate authority certificate ${JSON.stringify(name)})`;
}

/** Go's checkChainForKeyUsage for ServerAuth, Verify's default usage. */
function serverAuthChain(chain: readonly X509Certificate[]): boolean {
  for (const c of chain) {
    const eku = c.keyUsage;
    if (eku === undefined || eku.length === 0) continue;
    if (!eku.some((o) => SERVER_AUTH.has(o))) return false;
  }
  return true;
}

/**
 * Go's cert.Verify(x509.VerifyOptions{Roots: pool}) for a leaf alone (no intermediates), as
 * crypto/x509 verify.go runs it: its error text, or '' when it verifies. The leaf's validity
 * (`…: current time … is after …`); a leaf that is itself one of the roots is its own chain;
 * else each root named as its issuer is a candidate, refused when it is no CA or lacks
 * keyCertSign, when its signature does not check, or when it is itself out of its validity, the
 * first refusal becoming the unknown-authority error's hint; then every chain's certificates must
 * allow server auth (Go's default usage), else `incompatible key usage`.
 */
function goVerify(cert: X509Certificate, roots: readonly X509Certificate[]): string {
  const now = Date.now();
  const expired = expiry(cert, now);
  if (expired !== '') return expired;
  const chains: X509Certificate[][] = [];
  if (roots.some((r) => r.raw.equals(cert.raw))) chains.push([cert]);
  else {
    let hint = '';
    let hintCert: X509Certificate | undefined;
    for (const root of roots) {
      if (root.subject !== cert.issuer) continue;
      const err = checkSignatureFrom(cert, root) || expiry(root, now);
      if (err === '') chains.push([cert, root]);
      else if (hint === '') {
        hint = err;
        hintCert = root;
      }
    }
    if (chains.length === 0) return unknownAuthority(hint, hintCert);
  }
  if (!chains.some(serverAuthChain)) return 'x509: certificate specifies an incompatible key usage';
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
    h.set('Ssl-Client-Cert', goQueryEscape(toPem('CERTIFICATE', cert.raw)).replaceAll('+', '%20'));
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
      const blocks = certificatePems(ca);
      if (blocks.length === 0) return { error: 'failed to parse CA certificate' };
      try {
        for (const b of blocks) roots.push(new X509Certificate(b));
      } catch {
        return { error: 'failed to parse CA certificate' };
      }
    }
    return new AuthTlsPassCertificate(roots);
  },
};
