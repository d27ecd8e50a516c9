import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type {
  ConnectionOptions,
  PeerCertificate,
  SecureContext,
  SecureContextOptions,
  SecureVersion,
} from 'node:tls';
import type { ServersTransportConfig, TlsVersionName } from '../config/dynamic/schema.ts';
import { opensslCipherList } from '../config/dynamic/tls-names.ts';
import { peerSansCheck, peerUriCheck } from './peer-cert-uri.ts';
import { spiffeUpstreamTls } from './spiffe.ts';

/**
 * TLS to `https://` servers, from a serversTransport's keys (Traefik's serverName, rootCAs,
 * certificates, insecureSkipVerify, peerCertURI; ours minVersion/maxVersion). Files are read and checked
 * when a configuration is built, so a bad CA or a key that does not match its certificate is a
 * configuration error, never a failure per connection.
 */

/** The TLS keys of a serversTransport. */
export type TransportTlsConfig = Pick<
  ServersTransportConfig,
  | 'serverName'
  | 'rootCAs'
  | 'certificates'
  | 'insecureSkipVerify'
  | 'minVersion'
  | 'maxVersion'
  | 'peerCertURI'
  | 'peerCertSANs'
  | 'cipherSuites'
  | 'spiffe'
>;

/** Node's `checkServerIdentity`: an Error rejects the connection. */
export type IdentityCheck = (hostname: string, cert: PeerCertificate) => Error | undefined;

/** Everything a pool needs to open TLS connections; shared by every pool of one transport. */
export interface UpstreamTls {
  /** Digest of the settings and the PEM contents: pools are keyed by it (a changed CA file = new pools). */
  readonly id: string;
  readonly serverName: string | undefined;
  /** No check at all of the server's certificate (insecureSkipVerify without peerCertURI). */
  readonly insecureSkipVerify: boolean;
  /**
   * With peerCertURI: the check of the server's identity after its chain was verified (made once
   * per transport, run once per TLS connection by node:tls). Undefined = Node's hostname check.
   */
  readonly checkServerIdentity: IdentityCheck | undefined;
  /**
   * Built once: `tls.connect` given `ca`/`cert`/`key` would parse them again for every
   * connection (a CA bundle costs milliseconds each time).
   */
  readonly secureContext: SecureContext;
  /**
   * No TLS session resumption (SPIFFE: a resumed session would keep presenting the SVID it was
   * made with after a rotation; go-spiffe's config has no session cache either).
   */
  readonly noResumption?: boolean;
}

/** The PEM texts and versions a transport's SecureContext is made of. */
export interface TlsMaterial {
  /** Undefined = Node's bundled CA list. */
  readonly ca: readonly string[] | undefined;
  readonly cert: readonly string[];
  readonly key: readonly string[];
  readonly minVersion: SecureVersion | undefined;
  readonly maxVersion: SecureVersion | undefined;
  /** node's `ciphers` for the transport's cipherSuites; undefined = Node's defaults. */
  readonly ciphers?: string | undefined;
}

export type LoadTlsResult =
  | { readonly ok: true; readonly tls: UpstreamTls }
  | { readonly ok: false; readonly path: readonly (string | number)[]; readonly message: string };

/** Reads a file as text (tests pass their own). */
export type ReadText = (path: string) => string;

const VERSIONS: Readonly<Record<TlsVersionName, SecureVersion>> = {
  VersionTLS10: 'TLSv1',
  VersionTLS11: 'TLSv1.1',
  VersionTLS12: 'TLSv1.2',
  VersionTLS13: 'TLSv1.3',
};

/** HTTP/1.1 only: advertising it lets an h2-preferring server pick it. */
export const ALPN_HTTP1: readonly string[] = ['http/1.1'];
/** HTTP/2 when the server picks it, else HTTP/1.1 (Go's transport offers the same, in this order). */
export const ALPN_H2: readonly string[] = ['h2', 'http/1.1'];

const readUtf8: ReadText = (path) => readFileSync(path, 'utf8');

class LoadError extends Error {
  readonly path: readonly (string | number)[];
  constructor(path: readonly (string | number)[], message: string) {
    super(message);
    this.path = path;
  }
}

/** Traefik's FileOrContent: PEM text is taken as is, anything else names a file. */
function fileOrContent(value: string, path: readonly (string | number)[], read: ReadText): string {
  if (value.includes('-----BEGIN ')) return value;
  try {
    return read(value);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new LoadError(path, `cannot read "${value}": ${typeof code === 'string' ? code : String(e)}`);
  }
}

function certificate(pem: string, path: readonly (string | number)[]): X509Certificate {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new LoadError(path, 'no PEM certificate found');
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw new LoadError(path, `not a valid PEM certificate: ${(e as Error).message}`);
  }
}

function privateKey(pem: string, path: readonly (string | number)[]): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (e) {
    throw new LoadError(path, `not a valid PEM private key: ${(e as Error).message}`);
  }
}

/** Reads and checks the PEM files of a transport (paths point at the offending key). */
export function loadTlsMaterial(cfg: TransportTlsConfig, read: ReadText = readUtf8): TlsMaterial {
  let ca: string[] | undefined;
  if (cfg.rootCAs !== undefined && cfg.rootCAs.length > 0) {
    ca = cfg.rootCAs.map((v, i) => {
      const pem = fileOrContent(v, ['rootCAs', i], read);
      certificate(pem, ['rootCAs', i]);
      return pem;
    });
  }
  const cert: string[] = [];
  const key: string[] = [];
  (cfg.certificates ?? []).forEach((c, i) => {
    const certPem = fileOrContent(c.certFile, ['certificates', i, 'certFile'], read);
    const keyPem = fileOrContent(c.keyFile, ['certificates', i, 'keyFile'], read);
    const x509 = certificate(certPem, ['certificates', i, 'certFile']);
    const k = privateKey(keyPem, ['certificates', i, 'keyFile']);
    if (k.asymmetricKeyType === undefined || !x509.checkPrivateKey(k)) {
      throw new LoadError(['certificates', i, 'keyFile'], 'the key does not match the certificate');
    }
    cert.push(certPem);
    key.push(keyPem);
  });
  return {
    ca,
    cert,
    key,
    minVersion: cfg.minVersion === undefined ? undefined : VERSIONS[cfg.minVersion],
    maxVersion: cfg.maxVersion === undefined ? undefined : VERSIONS[cfg.maxVersion],
    ciphers:
      cfg.cipherSuites === undefined || cfg.cipherSuites.length === 0
        ? undefined
        : opensslCipherList(cfg.cipherSuites),
  };
}

/** The options the transport's one SecureContext is created with. */
export function secureContextOptions(m: TlsMaterial): SecureContextOptions {
  const o: SecureContextOptions = {};
  if (m.ca !== undefined) o.ca = [...m.ca];
  if (m.cert.length > 0) {
    o.cert = [...m.cert];
    o.key = [...m.key];
  }
  if (m.minVersion !== undefined) o.minVersion = m.minVersion;
  if (m.maxVersion !== undefined) o.maxVersion = m.maxVersion;
  if (m.ciphers !== undefined) o.ciphers = m.ciphers;
  return o;
}

/**
 * Loads a transport's TLS settings. Failures come back with the path of the key at fault,
 * relative to the transport.
 */
export function loadUpstreamTls(cfg: TransportTlsConfig, read: ReadText = readUtf8): LoadTlsResult {
  if (cfg.spiffe !== undefined) {
    // Traefik's createTLSConfig (pkg/server/service/transport.go) and tcp DialerManager.Build:
    // SPIFFE's mTLS config, which no other TLS key may join.
    return spiffeUpstreamTls(
      cfg.spiffe,
      cfg.insecureSkipVerify === true ||
        (cfg.rootCAs?.length ?? 0) > 0 ||
        (cfg.serverName ?? '') !== '' ||
        (cfg.certificates?.length ?? 0) > 0 ||
        cfg.peerCertURI !== undefined ||
        cfg.peerCertSANs !== undefined,
    );
  }
  let material: TlsMaterial;
  let secureContext: SecureContext;
  try {
    material = loadTlsMaterial(cfg, read);
    // node:tls is loaded on first need: a proxy without https servers does not pay its memory.
    secureContext = process.getBuiltinModule('node:tls').createSecureContext(secureContextOptions(material));
  } catch (e) {
    if (e instanceof LoadError) return { ok: false, path: e.path, message: e.message };
    return { ok: false, path: [], message: `invalid TLS settings: ${(e as Error).message}` };
  }
  // Traefik (pkg/tls VerifyPeerCertificate): with peerCertURI the chain is always verified against
  // rootCAs, even with insecureSkipVerify, which then only skips the hostname check.
  // peerCertSANs (Traefik's BackendTLSPolicy subjectAltNames, traefik/traefik#13249): the chain
  // is verified too, and the SANs are checked instead of the host name.
  const sans = cfg.peerCertSANs;
  const insecureSkipVerify =
    cfg.insecureSkipVerify === true && cfg.peerCertURI === undefined && sans === undefined;
  const uriCheck =
    cfg.peerCertURI === undefined
      ? undefined
      : peerUriCheck(cfg.peerCertURI, cfg.insecureSkipVerify === true || sans !== undefined);
  const sanCheck = sans === undefined ? undefined : peerSansCheck(sans);
  const checkServerIdentity: IdentityCheck | undefined =
    uriCheck !== undefined && sanCheck !== undefined
      ? (host, cert) => sanCheck(host, cert) ?? uriCheck(host, cert)
      : (uriCheck ?? sanCheck);
  const id = createHash('sha256')
    .update(
      JSON.stringify([
        cfg.serverName ?? null,
        insecureSkipVerify,
        cfg.peerCertURI ?? null,
        sans ?? null,
        material.minVersion ?? null,
        material.maxVersion ?? null,
        material.ciphers ?? null,
        material.ca ?? null,
        material.cert,
        material.key,
      ]),
    )
    .digest('base64url');
  return {
    ok: true,
    tls: { id, serverName: cfg.serverName, insecureSkipVerify, checkServerIdentity, secureContext },
  };
}

/**
 * The options of one `tls.connect` to `host:port`. SNI carries `serverName`, else the host, but
 * never an IP literal (RFC 6066 §3 forbids it; certificate checks then match the IP SANs).
 * `session` resumes an earlier session with the same server, sparing a full handshake. `alpn` is
 * what the client offers (HTTP/1.1 alone, or h2 first).
 */
export function tlsConnectOptions(
  t: UpstreamTls,
  host: string,
  port: number,
  session?: Buffer,
  alpn: readonly string[] = ALPN_HTTP1,
): ConnectionOptions {
  const o: ConnectionOptions = {
    host,
    port,
    secureContext: t.secureContext,
    rejectUnauthorized: !t.insecureSkipVerify,
    ALPNProtocols: alpn as string[],
  };
  const servername = t.serverName ?? (isIP(host) === 0 ? host : undefined);
  if (servername !== undefined) o.servername = servername;
  if (t.checkServerIdentity !== undefined) o.checkServerIdentity = t.checkServerIdentity;
  if (session !== undefined && t.noResumption !== true) o.session = session;
  return o;
}
