import type { EntryPointTlsConfig } from './entry-point-tls.ts';

/**
 * The TLS entry points and the TLS options each names (absent = `default`): what the proxy builds
 * its TLS state for, and what `traffic validate` checks it against.
 */
export function tlsEntryPoints(
  entryPoints: Readonly<
    Record<string, { readonly http: { readonly tls?: EntryPointTlsConfig | undefined } }>
  >,
): Map<string, { options?: string }> {
  const out = new Map<string, { options?: string }>();
  for (const [name, ep] of Object.entries(entryPoints)) {
    const t = ep.http.tls;
    if (t !== undefined) out.set(name, t.options === undefined ? {} : { options: t.options });
  }
  return out;
}
