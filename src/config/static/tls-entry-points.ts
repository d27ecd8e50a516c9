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

/**
 * The entry points that answer ACME http-01 challenges: each resolver's
 * `acme.httpChallenge.entryPoint`, once each in the resolvers' order, and those of them with
 * `allowACMEByPass` (their route yields to the entry point's redirection: the
 * `acme-http-bypass` router), as Traefik's pkg/provider/traefik/internal.go `acme` splits them. One answer for
 * the proxy's routes (control plane and workers) and the API's internal views.
 */
export function http01EntryPoints(config: {
  readonly entryPoints: Readonly<Record<string, { readonly allowACMEByPass?: boolean }>>;
  readonly certificatesResolvers?:
    | Readonly<
        Record<
          string,
          {
            readonly acme?:
              | { readonly httpChallenge?: { readonly entryPoint: string } | undefined }
              | undefined;
          }
        >
      >
    | undefined;
}): { entryPoints: string[]; bypass: Set<string> } {
  const entryPoints: string[] = [];
  const bypass = new Set<string>();
  for (const resolver of Object.values(config.certificatesResolvers ?? {})) {
    const ep = resolver.acme?.httpChallenge?.entryPoint;
    if (ep === undefined || entryPoints.includes(ep)) continue;
    entryPoints.push(ep);
    if (config.entryPoints[ep]?.allowACMEByPass === true) bypass.add(ep);
  }
  return { entryPoints, bypass };
}
