/**
 * What the admin API never shows: private keys written inline in the configuration (Traefik
 * accepts PEM content in `keyFile`), and fields named `password`. The configuration is copied;
 * the snapshot's own objects are never changed.
 */

const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
export const REDACTED_KEY = '<redacted: inline private key>';
export const REDACTED = '<redacted>';

export function redactSecrets(value: unknown): unknown {
  if (typeof value === 'string') return PRIVATE_KEY.test(value) ? REDACTED_KEY : value;
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === 'password' && typeof v === 'string' && v !== '' ? REDACTED : redactSecrets(v);
  }
  return out;
}
