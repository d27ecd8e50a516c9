/**
 * Does a certificate file carry the chain its clients need? A server must send every
 * intermediate between its certificate and a root the clients trust (RFC 8446 4.4.2: the chain
 * "MAY" omit only the root). Browsers sometimes paper over a missing intermediate (AIA fetching,
 * caches); curl, Go, node, Java and mobile apps fail with "unable to get local issuer
 * certificate". Nothing in the handshake tells the operator, hence the check at load time.
 */
import { X509Certificate } from 'node:crypto';
import { getCACertificates } from 'node:tls';
import { certificatePems } from './pem.ts';

/** At most this many links from leaf to root (real chains have 2–4). */
const MAX_DEPTH = 10;

/** `issuer` issued `cert`: names and key identifiers agree, and its key verifies the signature. */
function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/**
 * Subject = issuer and its own key verifies it. Not `checkIssued`: a self-signed server
 * certificate (CA:FALSE, no keyCertSign) is still its own root, and has no intermediate to miss.
 */
function selfSigned(cert: X509Certificate): boolean {
  try {
    return cert.subject === cert.issuer && cert.verify(cert.publicKey);
  } catch {
    return false;
  }
}

/**
 * The roots a chain may end at: node's bundled Mozilla list with NODE_EXTRA_CA_CERTS (how a
 * private CA is added), and the system's store. Read and indexed by subject on first use (about
 * 100 ms), then kept: one instance lives as long as the process (or one `traffic validate`).
 */
export class TrustedRoots {
  readonly #load: () => readonly string[];
  #bySubject: Map<string, X509Certificate[]> | undefined;

  constructor(load: () => readonly string[] = systemRoots) {
    this.#load = load;
  }

  /** A trusted root that issued `cert`, if any. */
  issuerOf(cert: X509Certificate): X509Certificate | undefined {
    if (this.#bySubject === undefined) {
      this.#bySubject = new Map();
      for (const pem of this.#load()) {
        let root: X509Certificate;
        try {
          root = new X509Certificate(pem);
        } catch {
          continue;
        }
        const list = this.#bySubject.get(root.subject);
        if (list === undefined) this.#bySubject.set(root.subject, [root]);
        else list.push(root);
      }
    }
    return this.#bySubject.get(cert.issuer)?.find((root) => issuedBy(cert, root));
  }
}

function systemRoots(): string[] {
  const out = [...getCACertificates('default')];
  try {
    out.push(...getCACertificates('system'));
  } catch {
    // No readable system store: the bundled list is what node itself trusts.
  }
  return out;
}

/**
 * Follows the chain from the file's first certificate through the file's other certificates to
 * a root (self-signed in the file, or trusted). Returns undefined when it gets there, else the
 * issuer name it could not find, on one line (`CN=R3, O=Let's Encrypt, C=US`). A self-signed
 * certificate is its own root. Throws on a file without a parsable certificate.
 */
export function missingIssuer(chainPem: string, roots: TrustedRoots): string | undefined {
  const certs = certificatePems(chainPem).map((p) => new X509Certificate(p));
  let current = certs[0];
  if (current === undefined) throw new TypeError('no PEM CERTIFICATE block found');
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (selfSigned(current)) return undefined;
    if (roots.issuerOf(current) !== undefined) return undefined;
    const from: X509Certificate = current;
    const next = certs.find((c) => c !== from && issuedBy(from, c));
    if (next === undefined) return current.issuer.split('\n').join(', ');
    current = next;
  }
  return current.issuer.split('\n').join(', ');
}
