/**
 * What the proxy says at startup about static options that lower its guard, as Traefik logs
 * them (zod-free: the serving process reads it). Pure: the static configuration in, the lines
 * out; main.ts logs them once (not in each data-plane worker).
 */
import { parseAddress } from './address.ts';
import type { StaticConfig } from './schema.ts';

export interface SecurityNotice {
  readonly level: 'warn' | 'info';
  readonly msg: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** Traefik v3.7.12's wording (pkg/config/static entry point `aliasHeadersStrategy`). */
export const ALIAS_HEADERS_NOT_CONFIGURED =
  'aliasHeadersStrategy is not configured: the request headers whose name aliases another header name ' +
  '(X_Auth_User or X.Auth.User for X-Auth-User) are forwarded; set it to `delete` or `reject` on an entry point ' +
  'in front of a backend that normalizes header names (CGI, WSGI, PHP, NGINX)';

/** Traefik's kubernetesCRD Provide (pkg/provider/kubernetes/crd/kubernetes.go). */
export const CROSS_NAMESPACE_ENABLED =
  'Cross-namespace reference between IngressRoutes and resources is enabled, please ensure that this is expected (see AllowCrossNamespace option)';

/** Traefik's kubernetesCRD and kubernetesIngress Provide, at info since v3.1 (PR #10682). */
export const EXTERNAL_NAME_ENABLED =
  'ExternalName service loading is enabled, please ensure that this is expected (see AllowExternalNameServices option)';

/** Ours: Traefik says nothing of these. */
export const FORWARDED_HEADERS_INSECURE =
  'forwardedHeaders.insecure is set: X-Forwarded-* and X-Real-Ip are trusted from every client, which can spoof its address (ipAllowList, rateLimit) and scheme; prefer forwardedHeaders.trustedIPs';
export const PROXY_PROTOCOL_INSECURE =
  'proxyProtocol.insecure is set: a PROXY protocol header is trusted from every client, which can spoof its address; prefer proxyProtocol.trustedIPs';

export function securityNotices(config: StaticConfig): SecurityNotice[] {
  const out: SecurityNotice[] = [];
  for (const [name, ep] of Object.entries(config.entryPoints)) {
    const a = parseAddress(ep.address);
    if (!('error' in a) && a.udp === true) continue;
    // Traefik v3.7.12: one warning per entry point left without the option (an explicit `keep`
    // is a choice, and says nothing). The deprecated underscoreHeadersStrategy counts as set.
    if (ep.http.aliasHeadersStrategy === undefined && ep.http.underscoreHeadersStrategy === undefined) {
      out.push({ level: 'warn', msg: ALIAS_HEADERS_NOT_CONFIGURED, fields: { entryPointName: name } });
    }
    if (ep.forwardedHeaders.insecure) {
      out.push({ level: 'warn', msg: FORWARDED_HEADERS_INSECURE, fields: { entryPointName: name } });
    }
    if (ep.proxyProtocol?.insecure === true) {
      out.push({ level: 'warn', msg: PROXY_PROTOCOL_INSECURE, fields: { entryPointName: name } });
    }
  }
  const crd = config.providers.kubernetesCRD;
  if (crd !== undefined) {
    if (crd.allowCrossNamespace) {
      out.push({ level: 'warn', msg: CROSS_NAMESPACE_ENABLED, fields: { providerName: 'kubernetescrd' } });
    }
    if (crd.allowExternalNameServices) {
      out.push({ level: 'info', msg: EXTERNAL_NAME_ENABLED, fields: { providerName: 'kubernetescrd' } });
    }
  }
  const ingress = config.providers.kubernetesIngress;
  if (ingress?.allowExternalNameServices === true) {
    out.push({ level: 'info', msg: EXTERNAL_NAME_ENABLED, fields: { providerName: 'kubernetes' } });
  }
  return out;
}
