import { isIP } from 'node:net';
import type { StatusUpdate } from './gateway-status.ts';
import type { KubeObject } from './informer.ts';
import type { KubeBuild, Obj } from './kube-build.ts';

/** `providers.kubernetesIngress.ingressEndpoint` (Traefik's EndpointIngress). */
export interface IngressEndpoint {
  readonly ip: string;
  readonly hostname: string;
  readonly publishedService: string;
}

interface LbIngress {
  readonly ip?: string;
  readonly hostname?: string;
}

/**
 * What a handled Ingress's `status.loadBalancer.ingress` should be, as Traefik's
 * updateIngressStatus (pkg/provider/kubernetes/ingress/kubernetes.go) decides it:
 *
 * - without `publishedService`, one entry of `ip` and `hostname` (one of them at least; both
 *   empty is an error for every Ingress);
 * - with it (`namespace/name`), the Service's own `status.loadBalancer.ingress`, converted to the
 *   Ingress's type (`ip`, `hostname`, `ports`; a Service's `ipMode` has no place there). A Service
 *   without load-balancer status leaves the Ingress as it is; a missing Service is an error.
 *
 * Undefined: nothing to write (reported when it is an error). The write itself is skipped when
 * the Ingress already has the same set of `hostname`+`ip` pairs (Traefik's
 * isLoadBalancerIngressEquals, which ignores order and ports).
 */
export function ingressStatus(
  b: KubeBuild,
  ing: KubeObject,
  endpoint: IngressEndpoint,
  where: string,
): StatusUpdate | undefined {
  let entries: Obj[];
  if (endpoint.publishedService === '') {
    if (endpoint.ip === '' && endpoint.hostname === '') {
      b.warn(where, 'status not written: ingressEndpoint needs publishedService, ip or hostname');
      return undefined;
    }
    const e: Obj = {};
    if (endpoint.ip !== '') e['ip'] = endpoint.ip;
    if (endpoint.hostname !== '') e['hostname'] = endpoint.hostname;
    entries = [e];
  } else {
    const parts = endpoint.publishedService.split('/');
    if (parts.length !== 2) {
      b.warn(
        where,
        `status not written: invalid publishedService ${JSON.stringify(endpoint.publishedService)} (expected namespace/name)`,
      );
      return undefined;
    }
    const svc = b.service(parts[0]!, parts[1]!);
    if (svc === undefined) {
      b.warn(where, `status not written: missing service ${endpoint.publishedService}`);
      return undefined;
    }
    const lb = (svc as { status?: { loadBalancer?: { ingress?: readonly Obj[] | null } } }).status
      ?.loadBalancer?.ingress;
    if (lb === undefined || lb === null) return undefined;
    entries = lb.map((e) => {
      const out: Obj = {};
      for (const k of ['ip', 'hostname', 'ports']) if (e[k] !== undefined) out[k] = e[k];
      return out;
    });
  }
  return statusUpdate(ing, entries);
}

/**
 * The status of an Ingress handled by the kubernetesIngressNGINX provider, as Traefik's
 * updateIngressStatus there (pkg/provider/kubernetes/ingress-nginx/kubernetes.go) decides it:
 * `publishStatusAddress` first (an IP is `ip`, anything else `hostname`); else the Service
 * `publishService` (`namespace/name`) by its type: ExternalName its name, ClusterIP its cluster
 * IP, NodePort its external IPs (else its cluster IP), LoadBalancer its load-balancer status and
 * then its external IPs not already there. Neither option: nothing to write.
 */
export function nginxIngressStatus(
  b: KubeBuild,
  ing: KubeObject,
  publishService: string,
  publishStatusAddress: readonly string[],
  where: string,
): StatusUpdate | undefined {
  if (publishStatusAddress.length > 0)
    return statusUpdate(
      ing,
      publishStatusAddress.map((a) => (isIP(a) !== 0 ? { ip: a } : { hostname: a })),
    );
  if (publishService === '') return undefined;
  const parts = publishService.split('/');
  if (parts.length !== 2) {
    b.warn(
      where,
      `status not written: parsing publishService, 'namespace/service' format expected: ${publishService}`,
    );
    return undefined;
  }
  const svc = b.service(parts[0]!, parts[1]!) as
    | (KubeObject & {
        spec?: { type?: string; externalName?: string; clusterIP?: string; externalIPs?: readonly string[] };
        status?: { loadBalancer?: { ingress?: readonly Obj[] | null } };
      })
    | undefined;
  if (svc === undefined) {
    b.warn(where, `status not written: missing service ${publishService}`);
    return undefined;
  }
  const spec = svc.spec ?? {};
  const externalIPs = spec.externalIPs ?? [];
  let entries: Obj[] = [];
  switch (spec.type ?? 'ClusterIP') {
    case 'ExternalName':
      entries = [{ hostname: spec.externalName ?? '' }];
      break;
    case 'ClusterIP':
      entries = [{ ip: spec.clusterIP ?? '' }];
      break;
    case 'NodePort':
      entries = externalIPs.length === 0 ? [{ ip: spec.clusterIP ?? '' }] : externalIPs.map((ip) => ({ ip }));
      break;
    case 'LoadBalancer':
      entries = (svc.status?.loadBalancer?.ingress ?? []).map((e) => {
        const out: Obj = {};
        for (const k of ['ip', 'hostname', 'ports']) if (e[k] !== undefined) out[k] = e[k];
        return out;
      });
      for (const ip of externalIPs)
        if (!entries.some((e) => e['ip'] === ip || e['hostname'] === ip)) entries.push({ ip });
      break;
  }
  return statusUpdate(ing, entries);
}

/** The write of `entries` to an Ingress's status, unless it has those addresses already. */
function statusUpdate(ing: KubeObject, entries: readonly Obj[]): StatusUpdate | undefined {
  const current = (ing as { status?: { loadBalancer?: { ingress?: readonly LbIngress[] | null } } }).status
    ?.loadBalancer?.ingress;
  if (sameAddresses(current ?? [], entries as readonly LbIngress[])) return undefined;
  const ns = ing.metadata.namespace ?? 'default';
  return {
    kind: 'Ingress',
    apiVersion: 'networking.k8s.io/v1',
    object: ing,
    path: `/apis/networking.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/ingresses/${encodeURIComponent(ing.metadata.name)}`,
    status: { loadBalancer: { ingress: entries } },
  };
}

/** Traefik's isLoadBalancerIngressEquals: the same length and the same `hostname+ip` keys. */
function sameAddresses(a: readonly LbIngress[], b: readonly LbIngress[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map((e) => `${e.hostname ?? ''}${e.ip ?? ''}`));
  return b.every((e) => keys.has(`${e.hostname ?? ''}${e.ip ?? ''}`));
}
