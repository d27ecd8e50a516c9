/*
 * BackendTLSPolicy (`gateway.networking.k8s.io/v1`, Standard since Gateway API v1.4) as Traefik's
 * gateway provider applies it to the backends of HTTPRoutes and GRPCRoutes (httproute.go /
 * grpcroute.go loadHTTPServers / loadGRPCServers and loadServersTransport): the serversTransport
 * a backend Service port's policy gives, registered under the name of each service using it
 * (registerPolicyTransport), and the policies' statuses (`status.ancestors`).
 */
import {
  type Condition,
  condition,
  GATEWAY_CONTROLLER,
  objectPath,
  type StatusUpdate,
} from './gateway-status.ts';
import type { KubeObject } from './informer.ts';
import type { KubeBuild, Obj } from './kube-build.ts';

const GROUP = 'gateway.networking.k8s.io';

interface PolicySpec {
  readonly targetRefs?: readonly {
    readonly group?: string;
    readonly kind?: string;
    readonly name?: string;
    readonly sectionName?: string;
  }[];
  readonly validation?: {
    readonly hostname?: string;
    readonly caCertificateRefs?: readonly {
      readonly group?: string;
      readonly kind?: string;
      readonly name?: string;
    }[];
    readonly wellKnownCACertificates?: string;
    readonly subjectAltNames?: readonly {
      readonly type?: string;
      readonly hostname?: string;
      readonly uri?: string;
    }[];
  };
}

/** A policy matched by a backend, and the conditions it gets (for its ancestors). */
export interface PolicyUse {
  readonly policy: KubeObject;
  readonly conditions: readonly Condition[];
}

/** A policy's serversTransport (HTTP) or TCP serversTransport, and where it comes from. */
export interface PolicyTransport {
  readonly config: Obj;
  readonly from: string;
}

/** What a backend's policies give: the transport to register, or a failure. */
export interface BackendTLS {
  /** The policy's serversTransport, undefined without a policy (registerPolicyTransport names it). */
  readonly transport: PolicyTransport | undefined;
  /** The route's ResolvedRefs failure (Traefik's RefNotPermitted) when the policy is unusable. */
  readonly failure: { reason: string; message: string } | undefined;
  readonly uses: readonly PolicyUse[];
}

const NONE: BackendTLS = { transport: undefined, failure: undefined, uses: [] };

/**
 * The BackendTLSPolicies of the build. A backend Service port (`forBackend`) takes the first
 * policy (oldest `creationTimestamp`, then name) whose targetRef names the Service and, when it
 * has a `sectionName`, the port's name: a serversTransport (named as each service using it,
 * registerPolicyTransport) with
 * `serverName` the policy's `validation.hostname` and `rootCAs` the `ca.crt` of each
 * `caCertificateRefs` ConfigMap or Secret (of the policy's namespace; `wellKnownCACertificates`:
 * the system roots), and its servers are `https://`. A later policy for the same port is
 * `Conflicted`. A ref of another kind or without `ca.crt` fails the policy (`Accepted=False`,
 * `NoValidCACertificate`) and the backend (the route's `ResolvedRefs=False`, `RefNotPermitted`).
 * `subjectAltNames` (Traefik since traefik/traefik#13249) become the transport's `peerCertSANs`:
 * the certificate must carry one of them (a `Hostname` among its DNS SANs, a `URI` among its URI
 * SANs) and `hostname` is then the SNI only.
 * Each use is reported on the policy's `status.ancestors` by `record`, per Gateway listener.
 */
export class BackendTLSPolicies {
  readonly #b: KubeBuild;
  readonly #byNamespace = new Map<string, KubeObject[]>();
  readonly #configMaps = new Map<string, KubeObject>();
  readonly #cache = new Map<string, BackendTLS>();
  readonly #tcpCache = new Map<string, BackendTLS>();
  /** policy key → its object and ancestors (by ancestorRef key). */
  readonly #ancestors = new Map<string, { policy: KubeObject; entries: Map<string, Obj> }>();

  constructor(b: KubeBuild, policies: readonly KubeObject[], configMaps: readonly KubeObject[]) {
    this.#b = b;
    for (const p of policies) {
      const ns = p.metadata.namespace ?? 'default';
      const list = this.#byNamespace.get(ns) ?? [];
      list.push(p);
      this.#byNamespace.set(ns, list);
    }
    for (const list of this.#byNamespace.values()) list.sort(byAge);
    for (const c of configMaps)
      this.#configMaps.set(`${c.metadata.namespace ?? 'default'}/${c.metadata.name}`, c);
  }

  /** The policies of the Service `ns/name`'s port `port` (named `portName`), as Traefik reads them. */
  forBackend(ns: string, name: string, port: number, portName: string | undefined): BackendTLS {
    const key = `${ns}/${name}/${port}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const got = this.#compute(ns, name, portName ?? '');
    this.#cache.set(key, got);
    return got;
  }

  /**
   * The same for a TLSRoute backend (Traefik since traefik/traefik#13332, tlsroute.go): the
   * policy becomes a TCP serversTransport (named as the service) whose `tls` has the
   * `serverName` and `rootCAs` (none: the system roots), and the servers connect with `tls`.
   * Traefik's TCP TLS client configuration has no `peerCertSANs`: a policy's `subjectAltNames`
   * are not applied there, the certificate is verified against `serverName`.
   */
  forTcpBackend(ns: string, name: string, port: number, portName: string | undefined): BackendTLS {
    const key = `${ns}/${name}/${port}`;
    const cached = this.#tcpCache.get(key);
    if (cached !== undefined) return cached;
    const got = this.#compute(ns, name, portName ?? '', true);
    this.#tcpCache.set(key, got);
    return got;
  }

  #compute(ns: string, name: string, portName: string, tcp = false): BackendTLS {
    const policies = this.#byNamespace.get(ns);
    if (policies === undefined) return NONE;
    const uses: PolicyUse[] = [];
    let transport: PolicyTransport | undefined;
    for (const policy of policies) {
      for (const ref of (policy.spec as PolicySpec | undefined)?.targetRefs ?? []) {
        // As Traefik: a targetRef naming another Service, or another port (sectionName), is skipped.
        if (ref.name !== name) continue;
        if (ref.sectionName !== undefined && ref.sectionName !== portName) continue;
        if (transport !== undefined) {
          uses.push({
            policy,
            conditions: [
              condition(policy, 'ResolvedRefs', false, 'ResolvedRefs'),
              condition(policy, 'Accepted', false, 'Conflicted'),
            ],
          });
          continue;
        }
        const st = this.#transport(ns, policy);
        if ('error' in st) {
          uses.push({
            policy,
            conditions: [
              condition(policy, 'ResolvedRefs', false, st.reason, st.error),
              condition(policy, 'Accepted', false, 'NoValidCACertificate'),
            ],
          });
          // Traefik stops at the first policy that fails: the backend is refused.
          const message = `Cannot apply BackendTLSPolicy for Service ${ns}/${name}: ${st.error}`;
          return { transport: undefined, failure: { reason: 'RefNotPermitted', message }, uses };
        }
        uses.push({
          policy,
          conditions: [
            condition(policy, 'ResolvedRefs', true, 'ResolvedRefs'),
            condition(policy, 'Accepted', true, 'Accepted'),
          ],
        });
        const from = `backendtlspolicy ${ns}/${policy.metadata.name}`;
        if (tcp) {
          const { serverName, rootCAs } = st.transport as { serverName?: string; rootCAs?: string[] };
          transport = {
            config: {
              tls: {
                ...(serverName !== undefined ? { serverName } : {}),
                ...(rootCAs !== undefined ? { rootCAs } : {}),
              },
            },
            from,
          };
        } else transport = { config: st.transport, from };
      }
    }
    return { transport, failure: undefined, uses };
  }

  /** Traefik's loadServersTransport. */
  #transport(ns: string, policy: KubeObject): { transport: Obj } | { error: string; reason: string } {
    const v = (policy.spec as PolicySpec | undefined)?.validation ?? {};
    const st: Obj = {};
    if (v.hostname !== undefined && v.hostname !== '') st['serverName'] = v.hostname;
    // Traefik's loadServersTransport since traefik/traefik#13249: the SANs, not the hostname,
    // authenticate the server (the Gateway API's rule).
    const sans: string[] = [];
    for (const san of v.subjectAltNames ?? []) {
      const value = san.type === 'Hostname' ? san.hostname : san.type === 'URI' ? san.uri : undefined;
      if (value === undefined || value === '')
        return { reason: 'InvalidKind', error: `unsupported subjectAltName type ${san.type ?? ''}` };
      sans.push(value);
    }
    if (sans.length > 0) st['peerCertSANs'] = sans;
    if (v.wellKnownCACertificates !== undefined && v.wellKnownCACertificates !== '') return { transport: st };
    const roots: string[] = [];
    for (const ref of v.caCertificateRefs ?? []) {
      const group = ref.group ?? '';
      if ((group !== '' && group !== 'core') || (ref.kind !== 'ConfigMap' && ref.kind !== 'Secret'))
        return { reason: 'InvalidKind', error: 'Only ConfigMaps and Secrets are supported' };
      const refName = ref.name ?? '';
      let ca: string | undefined;
      if (ref.kind === 'ConfigMap') {
        const cm = this.#configMaps.get(`${ns}/${refName}`) as { data?: Record<string, string> } | undefined;
        if (cm === undefined)
          return {
            reason: 'InvalidCACertificateRef',
            error: `getting configmap ${ns}/${refName}: configmap not found`,
          };
        ca = cm.data?.['ca.crt'];
      } else {
        if (this.#b.secret(ns, refName) === undefined)
          return {
            reason: 'InvalidCACertificateRef',
            error: `getting secret ${ns}/${refName}: secret not found`,
          };
        ca = this.#b.secretValue(ns, refName, 'ca.crt');
      }
      if (ca === undefined || ca === '')
        return {
          reason: 'InvalidCACertificateRef',
          error: `${ref.kind} ${ns}/${refName} does not have a ca.crt`,
        };
      roots.push(ca);
    }
    if (roots.length > 0) st['rootCAs'] = roots;
    return { transport: st };
  }

  /**
   * Reports the uses on each policy's `status.ancestors`, as Traefik's ancestorRef: the Gateway
   * (in the backend's namespace, as Traefik writes it) and the listener's name.
   */
  record(uses: readonly PolicyUse[], gateway: string, listener: string): void {
    for (const use of uses) {
      const p = use.policy;
      const pk = `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
      const entry = this.#ancestors.get(pk) ?? { policy: p, entries: new Map<string, Obj>() };
      this.#ancestors.set(pk, entry);
      // The policy is in the backend Service's namespace, which Traefik writes as the Gateway's.
      const ancestorRef = {
        group: GROUP,
        kind: 'Gateway',
        namespace: p.metadata.namespace ?? 'default',
        name: gateway,
        sectionName: listener,
      };
      // Traefik v3.8's RecordBackendTLSPolicyStatus (status.go): an ancestor recorded again
      // replaces the earlier one, at the end of the list.
      const key = ancestorKey(ancestorRef);
      entry.entries.delete(key);
      entry.entries.set(key, {
        ancestorRef,
        controllerName: GATEWAY_CONTROLLER,
        conditions: use.conditions,
      });
    }
  }

  /**
   * The policies' statuses, as Traefik's UpdateBackendTLSPolicyStatus (client.go): ours, then the
   * ancestors other controllers wrote, then ours of an earlier build this one did not record
   * (Traefik keeps them: "statuses for Traefik gateway controller but not for the same Gateway").
   */
  statuses(): StatusUpdate[] {
    const out: StatusUpdate[] = [];
    for (const { policy, entries } of this.#ancestors.values()) {
      const current = (policy as { status?: { ancestors?: readonly Obj[] } }).status?.ancestors ?? [];
      const recorded = new Set(entries.keys());
      const stale = current.filter(
        (a) => a['controllerName'] === GATEWAY_CONTROLLER && !recorded.has(ancestorKey(a['ancestorRef'])),
      );
      out.push({
        kind: 'BackendTLSPolicy',
        object: policy,
        path: objectPath(policy, 'backendtlspolicies'),
        status: {
          ancestors: [
            ...entries.values(),
            ...current.filter((a) => a['controllerName'] !== GATEWAY_CONTROLLER),
            ...stale,
          ],
        },
      });
    }
    return out;
  }
}

/** An ancestorRef as `record` keys it (its fields in Traefik's ParentReference order). */
function ancestorKey(ref: unknown): string {
  const r = (ref ?? {}) as Obj;
  return JSON.stringify({
    group: r['group'],
    kind: r['kind'],
    namespace: r['namespace'],
    name: r['name'],
    sectionName: r['sectionName'],
  });
}

/**
 * Registers a policy's transport under the name of the service using it, as Traefik since
 * traefik/traefik#13367 (v3.7.6; grpcroute.go loadGRPCBackendRef, tlsroute.go loadTLSService:
 * `lb.ServersTransport = serviceName`, `ServersTransports[serviceName] = st`): one per
 * backendRef service, `<router>-svc-<ns>-<name>-<index>`, not one per Service port. Gives the
 * name for the load balancer's `serversTransport`.
 */
export function registerPolicyTransport(
  b: KubeBuild,
  service: string,
  transport: PolicyTransport,
  tcp = false,
): string {
  if (tcp) {
    b.tcp.serversTransports[service] = transport.config;
    b.source('tcp/serverstransports', service, transport.from);
  } else {
    b.serversTransports[service] = transport.config;
    b.source('http/serverstransports', service, transport.from);
  }
  return service;
}

function byAge(a: KubeObject, b: KubeObject): number {
  const ta = String((a.metadata as { creationTimestamp?: string }).creationTimestamp ?? '');
  const tb = String((b.metadata as { creationTimestamp?: string }).creationTimestamp ?? '');
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}
