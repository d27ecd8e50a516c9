import { connect } from 'node:tls';

/**
 * The key exchange groups our Node clients offer: OpenSSL 3.0's default list, what wrk and h2load
 * (Debian 12's OpenSSL) offer. Node 24's own default starts with the hybrid X25519MLKEM768, which
 * only our proxy (Node 24) would accept: the handshake mode would then compare ML-KEM against
 * X25519, not one proxy against another.
 */
export const CLIENT_GROUPS = 'X25519:P-256:X448:P-521:P-384';

/** What one handshake with a proxy negotiated, recorded per run (the peers' defaults differ). */
export interface TlsFacts {
  readonly protocol: string;
  readonly cipher: string;
  /** The key exchange group the server picked ("X25519"). */
  readonly group: string;
  /** The ALPN protocol agreed, or "none". */
  readonly alpn: string;
  readonly certificateSha256: string;
}

export interface TlsProbe {
  readonly host: string;
  readonly port: number;
  /** undefined: no SNI, as h2load sends for an IP address. */
  readonly servername: string | undefined;
  readonly alpn: readonly string[] | undefined;
  readonly timeoutMs: number;
}

/** One handshake, then close; rejects on a failed handshake or a timeout. */
export function probeTls(p: TlsProbe): Promise<TlsFacts> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: p.host,
      port: p.port,
      ...(p.servername === undefined ? {} : { servername: p.servername }),
      ...(p.alpn === undefined ? {} : { ALPNProtocols: [...p.alpn] }),
      // The bench's self-signed certificate: identity is checked by fingerprint instead.
      rejectUnauthorized: false,
      ecdhCurve: CLIENT_GROUPS,
    });
    socket.setTimeout(p.timeoutMs, () =>
      socket.destroy(new Error(`no TLS handshake within ${p.timeoutMs} ms`)),
    );
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const key = socket.getEphemeralKeyInfo();
      const facts: TlsFacts = {
        protocol: socket.getProtocol() ?? 'unknown',
        cipher: socket.getCipher().name,
        group: key !== null && 'name' in key && typeof key.name === 'string' ? key.name : 'unknown',
        alpn: typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : 'none',
        certificateSha256: socket.getPeerCertificate().fingerprint256,
      };
      socket.destroy();
      resolve(facts);
    });
  });
}

/** Why the facts disqualify the run (another certificate, HTTP/2 refused), or undefined. */
export function tlsMismatch(
  facts: TlsFacts,
  expectedSha256: string,
  wantedAlpn: readonly string[] | undefined,
): string | undefined {
  if (facts.certificateSha256 !== expectedSha256) {
    return `served certificate ${facts.certificateSha256}, not the bench certificate ${expectedSha256}`;
  }
  if (wantedAlpn !== undefined && !wantedAlpn.includes(facts.alpn)) {
    return `ALPN agreed "${facts.alpn}", wanted one of ${wantedAlpn.join(', ')}`;
  }
  return undefined;
}

export function formatTlsFacts(f: TlsFacts): string {
  return `${f.protocol} ${f.cipher} ${f.group} alpn=${f.alpn}`;
}
