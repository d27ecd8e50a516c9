/** Manifests for the fake API server: a web app as a Service, its EndpointSlice and an IngressRoute. */
import type { KubeObj } from './fake-kube.ts';

export function serviceFor(ns: string, name: string, port = 80): KubeObj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { type: 'ClusterIP', ports: [{ name: 'http', port, protocol: 'TCP', targetPort: 'http' }] },
  };
}

export function endpointSliceFor(
  ns: string,
  service: string,
  addresses: readonly string[],
  port: number,
  ready = true,
): KubeObj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-abcde`, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: addresses.map((a) => ({
      addresses: [a],
      conditions: { ready, serving: ready, terminating: false },
    })),
  };
}

export function ingressRouteFor(
  ns: string,
  name: string,
  match: string,
  service: string,
  extra: Record<string, unknown> = {},
): KubeObj {
  return {
    apiVersion: 'traefik.io/v1alpha1',
    kind: 'IngressRoute',
    metadata: { name, namespace: ns },
    spec: {
      entryPoints: ['web'],
      routes: [{ match, kind: 'Rule', services: [{ name: service, port: 80 }], ...extra }],
    },
  };
}
