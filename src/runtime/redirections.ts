import { parseAddress } from '../config/static/address.ts';
import type { StaticConfig } from '../config/static/schema.ts';
import { portSuffix } from '../middleware/redirect-response.ts';
import type { Redirection } from './internal-routes.ts';

/** The port part of a redirect Location (`:8443`), '' for the scheme's default or an unknown (0) port. */
function locationPort(port: number, scheme: string): string {
  return portSuffix(scheme, port === 0 ? '' : String(port));
}

/**
 * The configured port of redirection target `to` (an entry point name or a bare `:port`) as
 * Traefik's getRedirectPort writes it in the redirectScheme middleware (pkg/provider/traefik/
 * internal.go): the `:port`'s digits, else the target entry point's address's port ('0' for
 * `:0`), '' when that address does not parse. The API's internal views show this text; the
 * proxy reads it as a number (`Number('')` is 0: no port in the Location, as for an unbound one).
 */
export function redirectPort(
  entryPoints: Readonly<Record<string, { readonly address: string }>>,
  to: string,
): string {
  if (to.startsWith(':')) return to.slice(1);
  const a = parseAddress(entryPoints[to]?.address ?? '');
  return 'error' in a ? '' : String(a.port);
}

export interface EntryPointRedirections {
  /** Entry point → where `http.redirections.entryPoint` sends its requests. */
  readonly redirections: ReadonlyMap<string, Redirection>;
  /** Entry point → the entry point it redirects to, when named (not a bare `:port`). */
  readonly targets: ReadonlyMap<string, string>;
  /**
   * Entry point `name` is bound to `port`: redirections to it use the bound port, which differs
   * from the configured one only for `:0` (an ephemeral port).
   */
  bound(name: string, port: number): void;
}

/** `entryPoints.<n>.http.redirections.entryPoint` of the static configuration (Traefik's keys). */
export function entryPointRedirections(config: StaticConfig): EntryPointRedirections {
  const redirections = new Map<string, Redirection>();
  const targets = new Map<string, string>();
  const byTarget: { to: string; r: Redirection }[] = [];
  for (const [name, ep] of Object.entries(config.entryPoints)) {
    const r = ep.http.redirections?.entryPoint;
    if (r === undefined) continue;
    const red: Redirection = {
      scheme: r.scheme,
      port: locationPort(Number(redirectPort(config.entryPoints, r.to)), r.scheme),
      permanent: r.permanent,
      priority: r.priority,
      to: r.to,
      acmeBypass: ep.allowACMEByPass,
    };
    redirections.set(name, red);
    if (!r.to.startsWith(':')) {
      targets.set(name, r.to);
      byTarget.push({ to: r.to, r: red });
    }
  }
  return {
    redirections,
    targets,
    bound: (name, port) => {
      for (const t of byTarget) if (t.to === name) t.r.port = locationPort(port, t.r.scheme);
    },
  };
}
