import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The name the handshake client sends as SNI; the certificate also covers 127.0.0.1 for wrk and h2load. */
export const TLS_SERVERNAME = 'localhost';

/** The one certificate every proxy serves in the TLS modes. */
export interface BenchCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  /** Certificate then key in one file, as HAProxy's `crt` wants it. */
  readonly pemFile: string;
  /** As node:crypto prints it (AA:BB:…), to check that a proxy serves this very certificate. */
  readonly fingerprint256: string;
}

/** Where the certificate lives under the run's temp dir (fixed, so proxy commands can name it). */
export function certificatePaths(tmpDir: string): Omit<BenchCertificate, 'fingerprint256'> {
  const dir = join(tmpDir, 'tls');
  return {
    certFile: join(dir, 'cert.pem'),
    keyFile: join(dir, 'key.pem'),
    pemFile: join(dir, 'cert+key.pem'),
  };
}

/** The openssl arguments for a self-signed ECDSA P-256 certificate for localhost and 127.0.0.1. */
export function opensslArgs(certFile: string, keyFile: string): string[] {
  return [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-sha256',
    '-days',
    '2',
    '-subj',
    `/CN=${TLS_SERVERNAME}`,
    '-addext',
    `subjectAltName=DNS:${TLS_SERVERNAME},IP:127.0.0.1`,
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ];
}

/**
 * Generates the bench certificate with openssl into `<tmpDir>/tls/`. A fresh key per bench run:
 * nothing secret is ever committed, and every proxy reads the same files.
 */
export function generateBenchCertificate(tmpDir: string): BenchCertificate {
  const paths = certificatePaths(tmpDir);
  mkdirSync(join(tmpDir, 'tls'), { recursive: true, mode: 0o755 });
  const r = spawnSync('openssl', opensslArgs(paths.certFile, paths.keyFile), {
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.error || r.status !== 0) {
    throw new Error(`openssl could not generate the bench certificate: ${r.error?.message ?? r.stderr}`);
  }
  const certPem = readFileSync(paths.certFile, 'utf8');
  const keyPem = readFileSync(paths.keyFile, 'utf8');
  writeFileSync(paths.pemFile, `${certPem.trimEnd()}\n${keyPem.trimEnd()}\n`);
  return { ...paths, fingerprint256: new X509Certificate(certPem).fingerprint256 };
}
