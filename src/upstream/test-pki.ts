/**
 * Test-only: a throwaway certificate authority made with the `openssl` command line, for TLS
 * tests against real servers (unit tests here and test/e2e/upstream-tls.test.ts). Each PKI lives
 * in its own temporary folder; `remove()` deletes it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolPath } from '../../test/helpers/tools.ts';

export interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface IssueOptions {
  /** Valid in January 2020 only. */
  readonly expired?: boolean;
  /** An OCSP responder URL in the Authority Information Access extension. */
  readonly ocspUrl?: string;
  /** For a delegated OCSP responder (extendedKeyUsage OCSPSigning only). */
  readonly ocspSigning?: boolean;
  /**
   * The name goes in the Organization and the subject has no Common Name (etcd's JSON gateway
   * refuses client certificates with one when authentication is on).
   */
  readonly noCommonName?: boolean;
}

/** A new ECDSA P-256 key, unencrypted, for `openssl req`. */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

const CA_CONFIG = `[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = optional
organizationName = optional
`;

function openssl(dir: string, args: readonly string[]): void {
  try {
    execFileSync(toolPath('openssl'), args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error('openssl is missing: apt-get install -y openssl');
    throw e;
  }
}

function subjectAltName(names: readonly string[]): string {
  return names.map((n) => (isIP(n) === 0 ? `DNS:${n}` : `IP:${n}`)).join(',');
}

export class TestPki {
  readonly dir: string;
  /** The CA's own certificate and key. */
  readonly ca: Issued;
  #count = 0;

  /**
   * A root CA; with `parent`, an intermediate CA that `parent` signed (its certificates' chain is
   * then `leaf + this.ca`, up to `parent.ca`).
   */
  constructor(commonName = 'Test CA', parent?: TestPki) {
    this.dir = mkdtempSync(join(tmpdir(), 'tm-pki-'));
    writeFileSync(join(this.dir, 'ca.cnf'), CA_CONFIG);
    writeFileSync(join(this.dir, 'index.txt'), '');
    writeFileSync(join(this.dir, 'serial'), '1000\n');
    if (parent !== undefined) {
      openssl(this.dir, [
        'req',
        '-new',
        ...EC_KEY,
        '-keyout',
        'ca.key',
        '-out',
        'ca.csr',
        '-subj',
        `/CN=${commonName}`,
      ]);
      writeFileSync(
        join(this.dir, 'ca.ext'),
        'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
      );
      parent.#sign(join(this.dir, 'ca.csr'), join(this.dir, 'ca.ext'), join(this.dir, 'ca.pem'), [
        '-days',
        '30',
      ]);
      this.ca = this.#read('ca');
      return;
    }
    openssl(this.dir, [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-subj',
      `/CN=${commonName}`,
      '-days',
      '30',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    this.ca = this.#read('ca');
  }

  /** A certificate for `names` (DNS names or IPs) signed by this CA, usable by servers and clients. */
  issue(commonName: string, names: readonly string[], opts: IssueOptions = {}): Issued {
    const base = `leaf${++this.#count}`;
    openssl(this.dir, [
      'req',
      '-new',
      ...EC_KEY,
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.csr`,
      '-subj',
      opts.noCommonName === true ? `/O=${commonName}` : `/CN=${commonName}`,
    ]);
    const ext = [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature',
      `extendedKeyUsage=${opts.ocspSigning === true ? 'OCSPSigning' : 'serverAuth,clientAuth'}`,
      ...(names.length > 0 ? [`subjectAltName=${subjectAltName(names)}`] : []),
    ];
    if (opts.ocspUrl !== undefined) ext.push(`authorityInfoAccess=OCSP;URI:${opts.ocspUrl}`);
    writeFileSync(join(this.dir, `${base}.ext`), `${ext.join('\n')}\n`);
    const validity = opts.expired
      ? ['-startdate', '20200101000000Z', '-enddate', '20200201000000Z']
      : ['-days', '30'];
    this.#sign(`${base}.csr`, `${base}.ext`, `${base}.pem`, validity);
    return this.#read(base);
  }

  /** A delegated OCSP responder's certificate, signed by this CA. */
  issueOcspSigner(commonName: string): Issued {
    return this.issue(commonName, [], { ocspSigning: true });
  }

  /** Marks `cert` revoked in this CA's database (what `openssl ocsp -index` answers from). */
  revoke(cert: Issued): void {
    openssl(this.dir, [
      'ca',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.pem',
      '-keyfile',
      'ca.key',
      '-revoke',
      cert.certFile,
    ]);
  }

  /** The CA database `openssl ocsp -index` reads. */
  get indexFile(): string {
    return join(this.dir, 'index.txt');
  }

  #sign(csr: string, extFile: string, out: string, validity: readonly string[]): void {
    openssl(this.dir, [
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.pem',
      '-keyfile',
      'ca.key',
      '-notext',
      ...validity,
      '-extfile',
      extFile,
      '-in',
      csr,
      '-out',
      out,
    ]);
  }

  /** A self-signed certificate for `names`, trusted by nobody. */
  selfSigned(commonName: string, names: readonly string[]): Issued {
    const base = `self${++this.#count}`;
    openssl(this.dir, [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.pem`,
      '-subj',
      `/CN=${commonName}`,
      '-days',
      '30',
      '-addext',
      `subjectAltName=${subjectAltName(names)}`,
    ]);
    return this.#read(base);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  #read(base: string): Issued {
    const certFile = join(this.dir, `${base}.pem`);
    const keyFile = join(this.dir, `${base}.key`);
    return {
      certFile,
      keyFile,
      certPem: readFileSync(certFile, 'utf8'),
      keyPem: readFileSync(keyFile, 'utf8'),
    };
  }
}
