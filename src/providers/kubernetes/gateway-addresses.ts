import type { KubeBuild, Obj } from './kube-build.ts';

/** `providers.kubernetesGateway.statusAddress` (Traefik's StatusAddress). */
export interface StatusAddress {
  readonly ip: string;
  readonly hostname: string;
  readonly service: { readonly name: string; readonly namespace: string };
}

/**
 * The Gateways' `status.addresses`, as Traefik's gatewayAddresses
 * (pkg/provider/kubernetes/gateway/kubernetes.go): `ip` alone if set (an IPAddress), else
 * `hostname` (a Hostname), else the `service`'s `status.loadBalancer.ingress`, each entry its IP,
 * else its hostname.
 *
 * *Differs from Traefik:* there, a statusAddress with none of the three, or a Service that does
 * not exist, fails the whole build (no configuration until fixed); here it is a warning and the
 * Gateways get no addresses, while their routes are served.
 */
export function statusAddresses(b: KubeBuild, a: StatusAddress): Obj[] {
  if (a.ip !== '') return [{ type: 'IPAddress', value: a.ip }];
  if (a.hostname !== '') return [{ type: 'Hostname', value: a.hostname }];
  const { name, namespace } = a.service;
  const where = 'providers.kubernetesGateway.statusAddress';
  if (name === '' || namespace === '') {
    b.warn(where, 'empty Gateway status address configuration (ip, hostname or service name and namespace)');
    return [];
  }
  const svc = b.service(namespace, name);
  if (svc === undefined) {
    b.warn(where, `could not find a service with name ${name} in namespace ${namespace}`);
    return [];
  }
  const ingress = (svc as { status?: { loadBalancer?: { ingress?: readonly Obj[] | null } } }).status
    ?.loadBalancer?.ingress;
  const out: Obj[] = [];
  for (const e of ingress ?? []) {
    if (typeof e['ip'] === 'string' && e['ip'] !== '') out.push({ type: 'IPAddress', value: e['ip'] });
    else if (typeof e['hostname'] === 'string' && e['hostname'] !== '')
      out.push({ type: 'Hostname', value: e['hostname'] });
  }
  return out;
}
