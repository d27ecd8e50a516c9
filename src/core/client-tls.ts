import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';

/** Traefik's `types.ClientTLS` as the configuration gives it (providers, OTLP exporters). */
export interface ClientTlsFields {
  /** A file path or the PEM text itself; replaces the system's CAs, as Go's RootCAs does. */
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  readonly insecureSkipVerify: boolean;
}

/** `types.ClientTLS` → node's options; `ca`, `cert` and `key` are file paths or PEM text. */
export function clientTlsOptions(cfg: ClientTlsFields | undefined): ConnectionOptions | undefined {
  if (cfg === undefined) return undefined;
  const pem = (v: string): string => (v.includes('-----BEGIN ') ? v : readFileSync(v, 'utf8'));
  return {
    ...(cfg.ca !== undefined ? { ca: pem(cfg.ca) } : {}),
    ...(cfg.cert !== undefined ? { cert: pem(cfg.cert) } : {}),
    ...(cfg.key !== undefined ? { key: pem(cfg.key) } : {}),
    rejectUnauthorized: !cfg.insecureSkipVerify,
  };
}
