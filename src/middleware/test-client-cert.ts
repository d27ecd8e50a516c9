/**
 * Test-only: client certificates for passTLSClientCert, made by openssl with fixed serials,
 * dates and names, so that the tests' expected values are written out by hand from Traefik v3's
 * rules (pkg/middlewares/passtlsclientcert and Go's crypto/x509), never computed by the code under
 * test. Shared by the unit test and the end-to-end test (test/e2e/pass-tls-client-cert.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolPath } from '../../test/helpers/tools.ts';

const CA_CNF = `[ca]
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
[req]
distinguished_name = dn
string_mask = default
prompt = no
[dn]
`;

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

const CLIENT_SAN =
  'URI:SPIFFE://example.com/client,IP:2001:db8:0:0:1:0:0:1,email:client@example.com,DNS:b.example.com,' +
  'IP:192.0.2.7,DNS:a.example.com,IP:::ffff:10.1.2.3,email:second@example.com';

export interface ClientCertPki {
  readonly dir: string;
  /** The client CA (a trust anchor for `clientAuth.caFiles`). */
  readonly ca: string;
  readonly caFile: string;
  /** The client certificate, signed by the CA, and its key. */
  readonly client: string;
  readonly clientFile: string;
  readonly clientKeyFile: string;
  /** A self-signed certificate with only a CN. */
  readonly minimal: string;
  /** A self-signed certificate whose names are T61String and BMPString. */
  readonly legacy: string;
  remove(): void;
}

/**
 * A client CA and the certificates above, in a temporary folder. The client certificate is valid
 * from 2024-01-02 03:04:05 to 2051-06-07 08:09:10, serial 0xF1E2D3C4B5A69788.
 */
export function makeClientCertPki(): ClientCertPki {
  const dir = mkdtempSync(join(tmpdir(), 'tm-ptc-'));
  const run = (args: readonly string[]): void => {
    execFileSync(toolPath('openssl'), args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  writeFileSync(join(dir, 'ca.cnf'), CA_CNF);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), 'F1E2D3C4B5A69788\n');
  writeFileSync(
    join(dir, 'client.ext'),
    `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=${CLIENT_SAN}\n`,
  );
  run([
    'req',
    '-x509',
    ...EC,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '30',
    '-subj',
    '/DC=org/DC=example/C=FR/ST=Occitanie/L=Toulouse/O=Example CA/OU=PKI/CN=Example Root/serialNumber=CA-1',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    // A TLS server verifying client certificates wants it (the e2e test uses this CA).
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  run([
    'req',
    '-new',
    ...EC,
    '-keyout',
    'client.key',
    '-out',
    'client.csr',
    '-utf8',
    '-multivalue-rdn',
    '-subj',
    '/DC=com/DC=example/C=FR/C=US/ST=Occitanie/L=Toulouse/L=Lyon/O=Acme, Inc./O=Société Générale' +
      '/OU=Unit A+OU=Unit B/serialNumber=S-1/serialNumber=S-2/CN=first client/CN=client.example.com' +
      '/emailAddress=x@example.com',
  ]);
  // -preserveDN keeps the request's order and repeated attributes; UTCTime before, GeneralizedTime after.
  run([
    'ca',
    '-batch',
    '-config',
    'ca.cnf',
    '-cert',
    'ca.pem',
    '-keyfile',
    'ca.key',
    '-notext',
    '-preserveDN',
    '-startdate',
    '20240102030405Z',
    '-enddate',
    '20510607080910Z',
    '-extfile',
    'client.ext',
    '-in',
    'client.csr',
    '-out',
    'client.pem',
  ]);
  run([
    'req',
    '-x509',
    ...EC,
    '-keyout',
    'min.key',
    '-out',
    'min.pem',
    '-days',
    '30',
    '-subj',
    '/CN=minimal',
  ]);
  // string_mask=default: 'é' fits a T61String (one byte 0xE9), '日本' needs a BMPString.
  run([
    'req',
    '-x509',
    '-config',
    'ca.cnf',
    ...EC,
    '-keyout',
    'legacy.key',
    '-out',
    'legacy.pem',
    '-days',
    '30',
    '-utf8',
    '-subj',
    '/O=Société/OU=日本/CN=plain',
  ]);
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return {
    dir,
    ca: read('ca.pem'),
    caFile: join(dir, 'ca.pem'),
    client: read('client.pem'),
    clientFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
    minimal: read('min.pem'),
    legacy: read('legacy.pem'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
