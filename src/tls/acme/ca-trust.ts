/**
 * How the ACME client trusts its CA, as Traefik's pkg/provider/acme/provider.go
 * createClientTLSConfig decides it: the resolver's `caCertificates` / `caServerName` /
 * `caSystemCertPool` when either of the first two is set; else lego's environment variables
 * LEGO_CA_CERTIFICATES (files separated by the OS path-list separator), LEGO_CA_SERVER_NAME and
 * LEGO_CA_SYSTEM_CERT_POOL (Go's strconv.ParseBool; anything else is false); else the default roots.
 */
import { delimiter } from 'node:path';

export interface AcmeCaSettings {
  readonly caCertificates: readonly string[];
  readonly caSystemCertPool: boolean;
  readonly caServerName?: string | undefined;
}

export interface AcmeCaTrust {
  /** PEM of every file named, joined. */
  readonly caCertificates?: string;
  readonly caSystemCertPool?: boolean;
  readonly caServerName?: string;
}

export function acmeCaTrust(
  a: AcmeCaSettings,
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
): AcmeCaTrust {
  let files: readonly string[] = a.caCertificates;
  let serverName = a.caServerName ?? '';
  let system = a.caSystemCertPool;
  if (files.length === 0 && serverName === '') {
    const paths = env['LEGO_CA_CERTIFICATES'] ?? '';
    serverName = env['LEGO_CA_SERVER_NAME'] ?? '';
    if (paths === '' && serverName === '') return {};
    files = paths.split(delimiter).filter((p) => p !== '');
    system = ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(env['LEGO_CA_SYSTEM_CERT_POOL'] ?? '');
  }
  return {
    // An empty bundle with a server name is an empty pool (plus the system's): lego's CreateCertPool.
    caCertificates: files.map((f) => readFile(f)).join('\n'),
    caSystemCertPool: system,
    ...(serverName === '' ? {} : { caServerName: serverName }),
  };
}
