/*
 * GRPCRoute matches and backends, as Traefik's pkg/provider/kubernetes/gateway/grpcroute.go
 * builds them (buildGRPCMatchRule, buildGRPCMethodRule, loadGRPCBackendRef, getGRPCServiceProtocol).
 */
import type { BackendTLSPolicies } from './gateway-backend-tls.ts';
import {
  type BackendIdentity,
  type BackendRef,
  type Backends,
  BackendsBuilder,
  backendTLS,
  tlsScheme,
} from './gateway-backends.ts';
import { hostRule } from './gateway-match.ts';
import type { KubeBuild } from './kube-build.ts';
import { normalize, quoteMeta, ruleString } from './kube-build.ts';
import type { ReferenceGrants } from './reference-grants.ts';

export interface GrpcMatch {
  readonly method?: { readonly type?: string; readonly service?: string; readonly method?: string };
  readonly headers?: readonly { readonly type?: string; readonly name: string; readonly value: string }[];
}

/**
 * A match's rule and priority: the hostnames (``Host``/``HostRegexp``), then the method as
 * ``PathRegexp(`/<service>/<method>`)`` (each part quoted for `Exact`, the default, as written
 * for `RegularExpression`, `[^/]+` when absent; no method: ``PathPrefix(`/`)``), then each header
 * ``Header``/``HeaderRegexp``. The priority is the longest hostname's length plus the length of
 * the rule without its host part (Traefik's naive precedence).
 */
export function grpcMatchRule(
  m: GrpcMatch,
  hosts: readonly string[],
): { rule: string; priority: number } | { error: string } {
  const parts: string[] = [];
  const method = m.method;
  if (method === undefined) parts.push('PathPrefix(`/`)');
  else {
    const type = method.type ?? 'Exact';
    if (type !== 'Exact' && type !== 'RegularExpression')
      return { error: `method match type ${type} is not supported` };
    const part = (v: string | undefined): string =>
      v === undefined || v === '' ? '[^/]+' : type === 'Exact' ? quoteMeta(v) : v;
    parts.push(`PathRegexp(${ruleString(`/${part(method.service)}/${part(method.method)}`)})`);
  }
  for (const h of m.headers ?? []) {
    const type = h.type ?? 'Exact';
    if (type === 'Exact') parts.push(`Header(${ruleString(h.name)}, ${ruleString(h.value)})`);
    else if (type === 'RegularExpression')
      parts.push(`HeaderRegexp(${ruleString(h.name)}, ${ruleString(h.value)})`);
  }
  const match = parts.join(' && ');
  if (hosts.length === 0) return { rule: match, priority: match.length };
  const h = hosts.map(hostRule);
  const host = h.length === 1 ? h[0]! : `(${h.join(' || ')})`;
  const longest = Math.max(...hosts.map((x) => x.length));
  return { rule: `${host} && ${match}`, priority: longest + match.length };
}

interface ServicePort {
  readonly port?: number;
  readonly protocol?: string;
  readonly appProtocol?: string;
}

/**
 * The weighted children of a GRPCRoute rule's backendRefs: core Services only (InvalidKind
 * otherwise; a TraefikService too), another namespace with a ReferenceGrant there
 * (RefNotPermitted), the port required (UnsupportedProtocol); each a load balancer (each
 * router's own, `<router>-svc-<ns>-<service>-<index>`, backendServiceName) whose scheme is the
 * service port's appProtocol: none or `kubernetes.io/h2c` → h2c, `https` → https, anything else
 * (or a port that is not TCP) is UnsupportedProtocol. A refused backendRef keeps its weight as a
 * child answering 503, named alike: Traefik's
 * loadGRPCService gives it GRPCStatus Unavailable "Service Unavailable"; our 503 reaches a gRPC
 * call as the proxy's trailers-only answer grpc-status 14 (UNAVAILABLE), grpc-message
 * "Service Unavailable" (src/proxy/grpc-status.ts), where Traefik writes a 200 with that status
 * as a JSON body.
 */
export function grpcBackends(
  b: KubeBuild,
  grants: ReferenceGrants,
  rule: { readonly backendRefs?: readonly BackendRef[] },
  ns: string,
  where: string,
  policies?: BackendTLSPolicies,
): Backends {
  const out = new BackendsBuilder(b, where);
  for (const [index, ref] of (rule.backendRefs ?? []).entries()) {
    const kind = ref.kind ?? 'Service';
    const group = ref.group ?? '';
    const to = ref.namespace ?? ns;
    const what = `GRPCBackendRef ${group === '' ? 'core' : group}/${kind}/${to}/${ref.name ?? ''}`;
    // Traefik's loadGRPCBackendRef (traefik/traefik#13367): `<router>-svc-<ns>-<name>-<index>`,
    // refused or not (backendServiceName).
    const id: BackendIdentity = { ns: to, name: ref.name ?? '', index };
    const fail = (reason: string, message: string): void => {
      out.fail(reason, message);
      out.refused(id, ref.weight ?? 1, GRPC_UNAVAILABLE);
    };
    if ((group !== '' && group !== 'core') || kind !== 'Service') {
      fail('InvalidKind', `${what}: only Kubernetes services are supported`);
      continue;
    }
    if (
      !grants.allows({
        fromKind: 'GRPCRoute',
        fromNamespace: ns,
        toGroup: '',
        toKind: 'Service',
        toName: ref.name ?? '',
        toNamespace: to,
      })
    ) {
      fail('RefNotPermitted', `${what}: another namespace without a ReferenceGrant there`);
      continue;
    }
    if (ref.port === undefined || ref.port === 0) {
      fail('UnsupportedProtocol', `${what}: port is required`);
      continue;
    }
    const svc = ref.name === undefined ? undefined : b.service(to, ref.name);
    const sp = ((svc?.spec ?? {}) as { ports?: readonly ServicePort[] }).ports?.find(
      (p) => p.port === ref.port,
    );
    if (sp !== undefined) {
      const tls = backendTLS(b, policies, to, ref.name, ref.port);
      out.used(tls.uses);
      if (tls.failure !== undefined) {
        fail(tls.failure.reason, `${what}: ${tls.failure.message}`);
        continue;
      }
      // A policy's serversTransport: https (Traefik's loadGRPCServers), whatever the appProtocol.
      const scheme = tls.transport === undefined ? grpcScheme(sp) : 'https';
      if (scheme === undefined) {
        fail(
          'UnsupportedProtocol',
          `${what}: only the TCP protocol and the appProtocols kubernetes.io/h2c and https are supported`,
        );
        continue;
      }
      const before = b.issues.length;
      // A template (BackendsBuilder.loadBalancer), apart from the HTTPRoutes' of the same port.
      const name = normalize(`${to}-${ref.name}-${ref.port}-grpc`);
      const lb = b.loadBalancer(
        {
          name: ref.name,
          namespace: to,
          port: ref.port,
          scheme,
          gatewayBackend: true,
          ...tlsScheme(tls.transport),
        },
        ns,
        where,
        name,
      );
      out.loadBalancer(lb, id, ref.weight ?? 1, before, tls.transport);
      if (lb === undefined) out.refused(id, ref.weight ?? 1, GRPC_UNAVAILABLE);
      continue;
    }
    fail('BackendNotFound', `${what}: service or its port ${ref.port} not found`);
  }
  return out.result();
}

/** What stands for Traefik's GRPCStatus Unavailable child: our gRPC answer to a 503 is UNAVAILABLE. */
export const GRPC_UNAVAILABLE = 503;

function grpcScheme(p: ServicePort): string | undefined {
  // The API server defaults a port's protocol to TCP.
  if ((p.protocol ?? 'TCP') !== 'TCP') return undefined;
  const app = p.appProtocol?.toLowerCase();
  if (app === undefined || app === 'kubernetes.io/h2c') return 'h2c';
  if (app === 'https') return 'https';
  return undefined;
}
