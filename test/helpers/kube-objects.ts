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

/** A Service and its EndpointSlice (127.0.0.1 on the port) for each `name: port`. */
export function loopbackServices(ns: string, ports: Readonly<Record<string, number>>): KubeObj[] {
  return Object.entries(ports).flatMap(([name, port]) => [
    serviceFor(ns, name),
    endpointSliceFor(ns, name, ['127.0.0.1'], port),
  ]);
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

/** A Secret of type kubernetes.io/tls (or another type with `data`), values base64-encoded. */
export function secretFor(ns: string, name: string, data: Readonly<Record<string, string>>): KubeObj {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: ns },
    type: 'tls.crt' in data ? 'kubernetes.io/tls' : 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

/** A Traefik CRD object of any kind with `spec`. */
export function crdObject(kind: string, ns: string, name: string, spec: unknown): KubeObj {
  return { apiVersion: 'traefik.io/v1alpha1', kind, metadata: { name, namespace: ns }, spec };
}

/** The IngressClass of Traefik's controller. */
export function traefikIngressClass(name = 'traefik'): KubeObj {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name },
    spec: { controller: 'traefik.io/ingress-controller' },
  };
}

/** An Ingress with one rule: `host` (may be empty) and paths to `service`:`port`. */
export function ingressFor(
  ns: string,
  name: string,
  host: string,
  paths: readonly { path: string; pathType: string; service: string; port?: number | string }[],
  extra: { className?: string; annotations?: Record<string, string>; tls?: unknown[] } = {},
): KubeObj {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: ns, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: {
      ...(extra.className !== undefined ? { ingressClassName: extra.className } : {}),
      ...(extra.tls !== undefined ? { tls: extra.tls } : {}),
      rules: [
        {
          ...(host !== '' ? { host } : {}),
          http: {
            paths: paths.map((p) => ({
              path: p.path,
              pathType: p.pathType,
              backend: {
                service: {
                  name: p.service,
                  port: typeof p.port === 'string' ? { name: p.port } : { number: p.port ?? 80 },
                },
              },
            })),
          },
        },
      ],
    },
  };
}

const GW = 'gateway.networking.k8s.io/v1';

export function gatewayClassFor(name = 'traefik', controllerName = 'traefik.io/gateway-controller'): KubeObj {
  return { apiVersion: GW, kind: 'GatewayClass', metadata: { name }, spec: { controllerName } };
}

export function gatewayFor(ns: string, name: string, listeners: unknown[], className = 'traefik'): KubeObj {
  return {
    apiVersion: GW,
    kind: 'Gateway',
    metadata: { name, namespace: ns },
    spec: { gatewayClassName: className, listeners },
  };
}

export function httpRouteFor(ns: string, name: string, spec: Record<string, unknown>): KubeObj {
  return { apiVersion: GW, kind: 'HTTPRoute', metadata: { name, namespace: ns }, spec };
}

export function grpcRouteFor(ns: string, name: string, spec: Record<string, unknown>): KubeObj {
  return { apiVersion: GW, kind: 'GRPCRoute', metadata: { name, namespace: ns }, spec };
}

/** A Node with the given `status.addresses` (`type` InternalIP, ExternalIP, Hostname…). */
export function nodeFor(name: string, addresses: readonly { type: string; address: string }[]): KubeObj {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { addresses } };
}

/** A Service of type NodePort: port `port` (named `http`) on the nodes' `nodePort`. */
export function nodePortServiceFor(ns: string, name: string, port: number, nodePort: number): KubeObj {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: {
      type: 'NodePort',
      clusterIP: '10.96.0.9',
      ports: [{ name: 'http', port, nodePort, protocol: 'TCP' }],
    },
  };
}

/** A TCPRoute (`v1`: Standard since Gateway API v1.6). */
export function tcpRouteFor(ns: string, name: string, spec: Record<string, unknown>): KubeObj {
  return { apiVersion: GW, kind: 'TCPRoute', metadata: { name, namespace: ns }, spec };
}

/** A TLSRoute (`v1`: Standard since Gateway API v1.5). */
export function tlsRouteFor(ns: string, name: string, spec: Record<string, unknown>): KubeObj {
  return { apiVersion: GW, kind: 'TLSRoute', metadata: { name, namespace: ns }, spec };
}

/** A ListenerSet (`v1`: Standard since Gateway API v1.5) attached to the Gateway `parentRef`. */
export function listenerSetFor(
  ns: string,
  name: string,
  parentRef: Record<string, unknown>,
  listeners: unknown[],
): KubeObj {
  return {
    apiVersion: GW,
    kind: 'ListenerSet',
    metadata: { name, namespace: ns },
    spec: { parentRef, listeners },
  };
}

/** A Knative Serving Ingress (networking.internal.knative.dev), of Traefik's class unless `cls`. */
export function knativeIngressFor(
  ns: string,
  name: string,
  spec: Record<string, unknown>,
  cls = 'traefik.ingress.networking.knative.dev',
): KubeObj {
  return {
    apiVersion: 'networking.internal.knative.dev/v1alpha1',
    kind: 'Ingress',
    metadata: { name, namespace: ns, annotations: { 'networking.knative.dev/ingress.class': cls } },
    spec,
  };
}
