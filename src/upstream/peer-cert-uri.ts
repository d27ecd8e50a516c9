import type { PeerCertificate } from 'node:tls';

/**
 * `peerCertURI`: the server's certificate must carry this URI (a SPIFFE ID such as Consul
 * Connect's `spiffe://<trust domain>/ns/<ns>/dc/<dc>/svc/<name>`). Traefik's rule since PR #12575
 * (pkg/tls verifyServerCertMatchesURI, v3.6.8): any of the certificate's URI SANs may be it, and
 * the whole URI counts, trust domain included, compared ignoring case. (Before, only the first URI
 * SAN counted and its authority was taken for the expected one's, so any trust domain passed.)
 */

/** The code our mismatch error carries (tls-errors.ts turns it into UPSTREAM_TLS_PEER_URI). */
export const PEER_URI_MISMATCH = 'ERR_TLS_PEER_URI_MISMATCH';

/**
 * The SANs of one type (`URI`, `DNS`) of a certificate, in order, from Node's `subjectaltname`
 * text (`DNS:a, URI:spiffe://x/y`; a value with a comma or a quote is JSON-quoted).
 */
function sansOfType(subjectaltname: string | undefined, type: 'URI' | 'DNS'): string[] {
  const out: string[] = [];
  if (subjectaltname === undefined) return out;
  const entry = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (const m of subjectaltname.matchAll(entry)) {
    if (m[1] !== type) continue;
    const v = m[2]!;
    out.push(v.startsWith('"') ? (JSON.parse(v) as string) : v);
  }
  return out;
}

/** The URI SANs of a certificate, in order. */
export function uriSans(subjectaltname: string | undefined): string[] {
  return sansOfType(subjectaltname, 'URI');
}

/** The code of a peerCertSANs mismatch (UPSTREAM_TLS_PEER_URI too, said of peerCertSANs). */
export const PEER_SANS_MISMATCH = 'ERR_TLS_PEER_SANS_MISMATCH';

function mismatch(message: string, cert: PeerCertificate, code = PEER_URI_MISMATCH): Error {
  return Object.assign(new Error(message), { code, cert });
}

/**
 * The identity check of one transport, made once: node:tls calls it per TLS connection, after
 * the chain was verified. `skipHostname` (insecureSkipVerify set with peerCertURI, as Traefik's
 * Consul Connect transports do) leaves out Node's hostname check; otherwise it runs first.
 */
export function peerUriCheck(
  expected: string,
  skipHostname: boolean,
): (hostname: string, cert: PeerCertificate) => Error | undefined {
  const want = expected.toLowerCase();
  return (hostname, cert) => {
    if (!skipHostname) {
      const e = process.getBuiltinModule('node:tls').checkServerIdentity(hostname, cert);
      if (e !== undefined) return e;
    }
    const got = uriSans(cert.subjectaltname);
    if (got.length === 0) {
      return mismatch(`server certificate has no URI SAN, want ${expected}`, cert);
    }
    if (got.some((u) => u.toLowerCase() === want)) return undefined;
    return mismatch(`server certificate is for ${got.join(', ')}, want ${expected}`, cert);
  };
}

/**
 * Go's x509 matchHostnames: case-insensitive, a trailing dot ignored, a `*` that is a whole
 * first label of the pattern standing for one label of the host.
 */
function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  const h = host.toLowerCase().replace(/\.$/, '');
  if (p === '' || h === '') return false;
  const pl = p.split('.');
  const hl = h.split('.');
  if (pl.length !== hl.length) return false;
  return pl.every((l, i) => l === hl[i] || (i === 0 && l === '*'));
}

/**
 * `peerCertSANs` (a BackendTLSPolicy's `validation.subjectAltNames`, Traefik since
 * traefik/traefik#13249): after the chain was verified, the server's certificate must carry one
 * of `names`, a URI (with `://`) among its URI SANs, else a host name among its DNS SANs (Go's
 * VerifyHostname match, wildcards included). The name the connection was made for (the SNI,
 * `serverName`) is not checked: the SANs replace it, as the Gateway API requires.
 */
export function peerSansCheck(
  names: readonly string[],
): (hostname: string, cert: PeerCertificate) => Error | undefined {
  return (_hostname, cert) => {
    const uris = uriSans(cert.subjectaltname);
    const dns = sansOfType(cert.subjectaltname, 'DNS');
    for (const n of names) {
      if (n.includes('://') ? uris.includes(n) : dns.some((d) => hostMatches(d, n))) return undefined;
    }
    return mismatch(
      `server certificate matches none of the subject alternative names ${names.join(', ')}`,
      cert,
      PEER_SANS_MISMATCH,
    );
  };
}
