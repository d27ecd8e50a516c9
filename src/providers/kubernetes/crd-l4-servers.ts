import type { KubeBuild, SliceJson } from './kube-build.ts';

/** A service of an IngressRouteTCP or IngressRouteUDP route (Traefik's ServiceTCP, ServiceUDP). */
export interface ServiceL4 {
  readonly name?: string;
  readonly namespace?: string;
  readonly port?: number | string;
  readonly weight?: number;
  readonly nativeLB?: boolean;
  readonly nodePortLB?: boolean;
  // TCP only:
  readonly tls?: boolean;
  readonly proxyProtocol?: { readonly version?: number } | null;
  readonly serversTransport?: string;
  readonly terminationDelay?: number;
}

interface ServiceSpec {
  readonly type?: string;
  readonly externalName?: string;
  readonly ports?: readonly { readonly name?: string; readonly port?: number; readonly nodePort?: number }[];
}

/**
 * Traefik's loadTCPServers / loadUDPServers: `host:port` of the endpoints of a Service port.
 * The port is required and picks the service port by number or name (an ExternalName service
 * takes a number it does not list); an ExternalName service is its one name; otherwise the
 * addresses of the EndpointSlices' endpoints whose `ready` is true (Traefik's layer-4 loaders
 * take ready endpoints only, where its HTTP loader takes serving ones), each address once, on
 * the slice port named as the service port; with `nativeLB` (or nativeLBByDefault), the
 * Service's `clusterIP:port`; with `nodePortLB` on a NodePort Service, its nodes' InternalIP
 * addresses on the port's nodePort (KubeBuild.nodePortAddresses).
 */
export function serverAddresses(
  b: KubeBuild,
  s: ServiceL4,
  routeNs: string,
  where: string,
): string[] | undefined {
  const ns = s.namespace !== undefined && s.namespace !== '' ? s.namespace : routeNs;
  if (s.name === undefined || s.name === '') return b.error(where, 'a service without a name');
  if (b.crossNamespace(where, `service ${ns}/${s.name}`, ns, routeNs)) return undefined;
  const svc = b.service(ns, s.name);
  if (svc === undefined) return b.error(where, `service ${ns}/${s.name} not found`);
  const spec = (svc.spec ?? {}) as ServiceSpec;
  const external = spec.type === 'ExternalName';
  if (external && !b.allowExternalNameServices)
    return b.error(where, `service ${ns}/${s.name}: ExternalName (allowExternalNameServices is off)`);
  if (s.port === undefined || s.port === 0 || s.port === '')
    return b.error(where, `service ${ns}/${s.name}: the route gives no port`);
  let port = (spec.ports ?? []).find((p) =>
    typeof s.port === 'number' ? p.port === s.port : p.name === s.port,
  );
  if (port === undefined) {
    if (!external || typeof s.port === 'string')
      return b.error(where, `service ${ns}/${s.name} has no port ${JSON.stringify(s.port)}`);
    port = { port: s.port };
  }
  const out: string[] = [];
  if (external) {
    out.push(hostPort(spec.externalName ?? '', port.port ?? 0));
  } else if (s.nativeLB ?? b.nativeLBByDefault) {
    // Traefik's loadTCPServers/loadUDPServers: nativeLB (or nativeLBByDefault) is the cluster IP.
    const address = b.clusterAddress(svc, port.port ?? 0, where);
    if (address === undefined) return undefined;
    return [address];
  } else if (s.nodePortLB === true && spec.type === 'NodePort') {
    return b.nodePortAddresses(svc, port, where);
  } else {
    const seen = new Set<string>();
    for (const slice of b.endpointSlices(ns, s.name) as unknown as SliceJson[]) {
      const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? ''));
      if (sp?.port === undefined || sp.port === null || sp.port === 0) continue;
      for (const e of slice.endpoints ?? []) {
        if (e.conditions?.ready !== true) continue;
        for (const a of e.addresses ?? []) {
          if (seen.has(a)) continue;
          seen.add(a);
          out.push(hostPort(a, sp.port));
        }
      }
    }
    out.sort();
  }
  if (out.length === 0 && !b.allowEmptyServices)
    return b.error(where, `service ${ns}/${s.name}: no endpoints`);
  return out;
}

/** Go's net.JoinHostPort. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
