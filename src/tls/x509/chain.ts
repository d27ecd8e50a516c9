/**
 * Does a certificate file carry the chain its clients need? A server must send every
 * intermediate between its certificate and a root the clients trust (RFC 8446 4.4.2: the chain
 * "MAY" omit only the root). Browsers sometimes paper over a missing intermediate (AIA fetching,
 * caches); curl, Go, node, Java and mobile apps fail with "unable to get local issuer
 * certificate". Nothing in the handshake tells the operator, hence the check at load time.
 */
import { X509Certificate } from 'node:crypto';
import { getCACertificates } from 'node:tls';
import { certificatePems } from '../../core/pem.ts';

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
 * The roots a chain may end at: what node itself trusts (`tls.getCACertificates('default')`: its
 * bundled Mozilla list, NODE_EXTRA_CA_CERTS, which is how a private CA is added, and the system's
 * store when node runs with --use-system-ca). Indexed by subject on first use (about 10 ms), then
 * kept as PEM text (parsed again only for a matching subject): one instance lives as long as the
 * process, or one `traffic validate`. Reading the system store on top would cost ~180 ms and
 * ~10 MB of resident memory for, on Debian, the same roots.
 */
export class TrustedRoots {
  readonly #load: () => readonly string[];
  #bySubject: Map<string, string[]> | undefined;

  constructor(load: () => readonly string[] = () => getCACertificates('default')) {
    this.#load = load;
  }

  /** A trusted root that issued `cert`, if any. */
  issuerOf(cert: X509Certificate): X509Certificate | undefined {
    if (this.#bySubject === undefined) {
      this.#bySubject = new Map();
      for (const pem of this.#load()) {
        let subject: string;
        try {
          subject = new X509Certificate(pem).subject;
        } catch {
          continue;
        }
        const list = this.#bySubject.get(subject);
        if (list === undefined) this.#bySubject.set(subject, [pem]);
        else list.push(pem);
      }
    }
    for (const pem of this.#bySubject.get(cert.issuer) ?? []) {
      const root = new X509Certificate(pem);
      if (issuedBy(cert, root)) return root;
    }
    return undefined;
  }
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
