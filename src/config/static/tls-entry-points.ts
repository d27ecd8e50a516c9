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

/**
 * The HTTP entry points of the Ingress NGINX provider's routers when `httpEntryPoint` is unset:
 * those without `http.tls`, but not Traefik's internal `traefik` one, and only the `asDefault`
 * ones when any entry point is marked so, as Traefik v3.7.x's SetEffectiveConfiguration
 * computes `NonTLSEntryPoints` (traefik/traefik#13629, pkg/config/static/static_config.go;
 * before it, every entry point without TLS, the admin one included). Sorted: Go's map order
 * is random.
 */
export function ingressNginxNonTlsEntryPoints(
  entryPoints: Readonly<
    Record<string, { readonly asDefault?: boolean; readonly http: { readonly tls?: unknown } }>
  >,
  names: readonly string[] = Object.keys(entryPoints),
): string[] {
  const marked = Object.values(entryPoints).some((ep) => ep.asDefault === true);
  return names
    .filter((n) => {
      const ep = entryPoints[n];
      if (ep === undefined || ep.http.tls !== undefined || n === 'traefik') return false;
      return !marked || ep.asDefault === true;
    })
    .sort();
}
