/**
 * What the ports of Traefik's integration/https_test.go and tls_client_headers_test.go share:
 * stand-ins for the certificates of integration/fixtures/https/ (same file names, same names and
 * SANs, made here: the stored keys are not all there and the stored certificates have expired),
 * client CAs like fixtures/https/clientca/, and one HTTPS request with the TLS settings of Go's
 * `tls.Config` that the tests use (ServerName, MaxVersion, Certificates).
 */
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { type Issued, type KeyAndCert, selfSignedCertificate, TestPki } from '../../helpers/tls-certs.ts';

/** A certificate's SANs and PEM, as `fixtures/https/<base>.cert` / `.key`. */
export interface FixtureCert extends KeyAndCert {
  readonly base: string;
  /** SHA-256 fingerprint, as node's getPeerCertificate() writes it. */
  readonly fingerprint256: string;
}

function fixtureCert(base: string, kc: KeyAndCert): FixtureCert {
  return { base, ...kc, fingerprint256: new X509Certificate(kc.certPem).fingerprint256 };
}

/** The server certificates of fixtures/https/ that the ported tests name (CN = first name). */
export interface SnitestCerts {
  readonly 'snitest.com': FixtureCert;
  readonly 'snitest.org': FixtureCert;
  readonly 'www.snitest.com': FixtureCert;
  readonly 'wildcard.snitest.com': FixtureCert;
  readonly 'wildcard.www.snitest.com': FixtureCert;
  readonly 'uppercase_wildcard.www.snitest.com': FixtureCert;
  /** `fixtures/https/<base>.cert` and `.key` → PEM, for StartOptions.files. */
  readonly files: Readonly<Record<string, string>>;
}

let certs: SnitestCerts | undefined;
const pkis: TestPki[] = [];

/** Made once per test file. */
export function snitestCerts(): SnitestCerts {
  if (certs) return certs;
  const self = (base: string, names: string[]): FixtureCert =>
    fixtureCert(base, selfSignedCertificate(names, { commonName: names[0]!, days: 30 }));
  // An upper-case SAN (Traefik's `*.WWW.SNITEST.COM`): openssl writes it as given.
  const pki = new TestPki('unused');
  pkis.push(pki);
  const upper = pki.selfSigned('*.WWW.SNITEST.COM', ['*.WWW.SNITEST.COM']);
  const list = [
    self('snitest.com', ['snitest.com']),
    self('snitest.org', ['snitest.org']),
    self('www.snitest.com', ['www.snitest.com']),
    self('wildcard.snitest.com', ['*.snitest.com']),
    self('wildcard.www.snitest.com', ['*.www.snitest.com']),
    fixtureCert('uppercase_wildcard.www.snitest.com', { certPem: upper.certPem, keyPem: upper.keyPem }),
  ];
  const files: Record<string, string> = {};
  for (const c of list) {
    files[`fixtures/https/${c.base}.cert`] = c.certPem;
    files[`fixtures/https/${c.base}.key`] = c.keyPem;
  }
  certs = Object.assign(Object.fromEntries(list.map((c) => [c.base, c])), {
    files,
  }) as unknown as SnitestCerts;
  return certs;
}

/** fixtures/https/clientca/: three CAs, client<N> signed by ca<N>, and ca1and2.crt. */
export interface ClientCas {
  readonly clients: readonly [Issued, Issued, Issued];
  readonly files: Readonly<Record<string, string>>;
}

let clientCas: ClientCas | undefined;

export function clientCaFiles(): ClientCas {
  if (clientCas) return clientCas;
  const cas = [new TestPki('ca1'), new TestPki('ca2'), new TestPki('ca3')] as const;
  pkis.push(...cas);
  const clients = cas.map((ca, i) => ca.issue(`client${i + 1}`, [])) as unknown as ClientCas['clients'];
  const files: Record<string, string> = {
    'fixtures/https/clientca/ca1and2.crt': cas[0].ca.certPem + cas[1].ca.certPem,
  };
  cas.forEach((ca, i) => {
    files[`fixtures/https/clientca/ca${i + 1}.crt`] = ca.ca.certPem;
  });
  clientCas = { clients, files };
  return clientCas;
}

/** Removes the PKI folders made by this module. */
export function removeFixturePkis(): void {
  for (const p of pkis.splice(0)) p.remove();
}

export interface HttpsOptions {
  /** SNI; absent: none (node sends none to an IP literal). */
  readonly servername?: string;
  /** The Host field; defaults to the SNI. */
  readonly host?: string;
  readonly path?: string;
  readonly maxVersion?: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Client certificate and key (PEM). */
  readonly cert?: string;
  readonly key?: string;
}

export interface HttpsReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly subjectCN: string;
  readonly fingerprint256: string;
  /** The negotiated TLS version (`TLSv1.2`, `TLSv1.3`). */
  readonly protocol: string | null;
}

/**
 * One GET over TLS to 127.0.0.1:`port` on a fresh connection (Go's `InsecureSkipVerify`); rejects
 * with the TLS or socket error when the handshake or the exchange fails. Bounded to 5 s.
 */
export function httpsGet(port: number, o: HttpsOptions = {}): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const host = o.host ?? o.servername;
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: o.path ?? '/',
        method: 'GET',
        agent: false,
        rejectUnauthorized: false,
        ...(o.servername === undefined ? {} : { servername: o.servername }),
        ...(o.maxVersion === undefined
          ? {}
          : { maxVersion: o.maxVersion, ...(o.maxVersion === 'TLSv1.1' ? { minVersion: 'TLSv1' } : {}) }),
        ...(o.minVersion === undefined ? {} : { minVersion: o.minVersion }),
        ...(o.cert === undefined ? {} : { cert: o.cert, key: o.key }),
        headers: { Accept: '*/*', ...(host === undefined ? {} : { Host: host }) },
        timeout: 5_000,
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const peer = socket.getPeerCertificate();
        const protocol = socket.getProtocol();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            subjectCN: String(peer.subject?.CN ?? ''),
            fingerprint256: peer.fingerprint256,
            protocol,
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
