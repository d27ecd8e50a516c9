import {
  type KubernetesObjectRef,
  type KubernetesServiceRef,
  setKubernetesMeta,
} from '../../config/dynamic/kubernetes-meta.ts';
import { type ConfigIssue, issue } from '../../config/issues.ts';
import type { SourceOf } from '../dynamic-data.ts';
import type { ProviderUpdate } from '../provider.ts';
import type { KubeObject } from './informer.ts';

export type Obj = Record<string, unknown>;

/** Go's regexp.QuoteMeta: the regexp metacharacters escaped. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/**
 * A value from a Kubernetes object as a string of a router rule: between backticks, as Traefik
 * writes them, unless the value holds a backtick, then as Go's %q (a double-quoted string the
 * rule parser unquotes). Written raw between backticks, a header or query value such as
 * ``x`) || PathPrefix(`/`` ended the string and added its own matchers (a route for one host
 * taking every host's traffic): Traefik's GHSA for Gateway API rule injection (GO-2026-4679) and
 * its Knative one (GHSA-67jx-r9pv-98rj, v3.6.11), whose fixed code quotes with %q.
 */
export function ruleString(v: string): string {
  return v.includes('`') ? JSON.stringify(v) : `\`${v}\``;
}

/** Traefik's provider.Normalize: runs of anything but letters and digits become one `-`. */
export function normalize(s: string): string {
  return s.replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '');
}

/** What a route (IngressRoute, Ingress path, HTTPRoute backend) says about one Kubernetes service. */
export interface ServiceRef {
  readonly name?: string | undefined;
  readonly namespace?: string | undefined;
  readonly port?: number | string | undefined;
  readonly scheme?: string | undefined;
  readonly passHostHeader?: boolean | undefined;
  readonly serversTransport?: string | undefined;
  readonly sticky?: unknown;
  readonly strategy?: string | undefined;
  readonly responseForwarding?: unknown;
  /** The Service's cluster IP as the one server (Traefik's nativeLB); unset: nativeLBByDefault. */
  readonly nativeLB?: boolean | undefined;
  /** A NodePort Service's nodes, `<InternalIP>:<nodePort>` each (Traefik's nodePortLB). */
  readonly nodePortLB?: boolean | undefined;
  /**
   * The Gateway provider's reading (its getBackendAddresses): endpoints whose `ready` is true
   * only, where the CRD and Ingress providers keep serving ones; an ExternalName Service refused.
   */
  readonly gatewayBackend?: boolean | undefined;
  /** The CRD's: a load balancer's active health check, for ExternalName services only. */
  readonly healthCheck?: unknown;
  /** The CRD's: a load balancer's passive health check. */
  readonly passiveHealthCheck?: unknown;
  /**
   * The CRD's getServicePort: an ExternalName Service without the port number named is reached on
   * that number (the Ingress provider does not set it).
   */
  readonly externalNameAnyPort?: boolean | undefined;
  /** Traefik v3.7's service middlewares (names as the configuration reads them), on the service. */
  readonly middlewares?: readonly string[] | undefined;
}

interface ServiceSpec {
  readonly type?: string;
  readonly externalName?: string;
  readonly clusterIP?: string;
  readonly ports?: readonly { readonly name?: string; readonly port?: number; readonly nodePort?: number }[];
}

interface NodeStatus {
  readonly addresses?: readonly { readonly type?: string; readonly address?: string }[] | null;
}

/** An EndpointSlice as the API server writes it (the fields the providers read). */
export interface SliceJson {
  readonly ports?: readonly { readonly name?: string | null; readonly port?: number | null }[] | null;
  readonly endpoints?:
    | readonly {
        readonly addresses?: readonly string[];
        readonly conditions?: {
          readonly ready?: boolean | null;
          readonly serving?: boolean | null;
          readonly terminating?: boolean | null;
        };
      }[]
    | null;
}

export interface ServiceOptions {
  readonly allowEmptyServices: boolean;
  readonly allowCrossNamespace: boolean;
  readonly allowExternalNameServices?: boolean;
  /** Traefik's nativeLBByDefault: routes without `nativeLB` use the Service's cluster IP. */
  readonly nativeLBByDefault?: boolean;
  /** Traefik's disableClusterScopeResources: no Nodes are watched, so nodePortLB cannot work. */
  readonly disableClusterScopeResources?: boolean;
  /**
   * Traefik's crossProviderNamespaces (v3.7.1, v3.6.17): absent, any resource may name another
   * provider's object (`name@provider`); set, only the resources of these namespaces (empty: none).
   */
  readonly crossProviderNamespaces?: readonly string[] | undefined;
  /**
   * The CRD provider's rule (Traefik's resolveReference, GHSA-62fc-8686-hfmq): with
   * allowCrossNamespace off, a `…@kubernetescrd` name is refused, as it could name any namespace.
   */
  readonly crdSuffixRule?: boolean;
}

/**
 * The configuration a Kubernetes provider builds from the objects it watches, with the source of
 * each object (`ingressroute default/web`) for its issues, and the Services and EndpointSlices
 * that load balancers are made of (shared by the CRD, Ingress and Gateway providers, as
 * Traefik's three share their service loading).
 */
export class KubeBuild {
  readonly routers: Obj = {};
  readonly services: Obj = {};
  readonly middlewares: Obj = {};
  readonly serversTransports: Obj = {};
  readonly certificates: Obj[] = [];
  readonly tlsOptions: Obj = {};
  readonly tlsStores: Obj = {};
  /** The `tcp` and `udp` sections (the CRD provider's layer-4 kinds, crd-l4.ts). */
  readonly tcp = {
    routers: {} as Obj,
    services: {} as Obj,
    middlewares: {} as Obj,
    serversTransports: {} as Obj,
  };
  readonly udp = { routers: {} as Obj, services: {} as Obj };
  readonly issues: ConfigIssue[] = [];
  /**
   * The Ingress or IngressRoute being read: every HTTP router made meanwhile (`source`) names it
   * in the access log (Traefik v3.7's KubernetesIngressName, v3.8's KubernetesIngressRouteName).
   * Null outside one, and always for the Gateway provider (Traefik fills no field for it).
   */
  owner: KubernetesObjectRef | null = null;
  readonly #sources = new Map<string, string>();
  readonly #routerMeta = new Map<string, KubernetesObjectRef>();
  readonly #serviceMeta = new Map<string, KubernetesServiceRef>();
  readonly #svcIndex: Map<string, KubeObject>;
  readonly #slices = new Map<string, SliceJson[]>();
  readonly #secrets: Map<string, KubeObject>;
  readonly #configMaps: Map<string, KubeObject>;
  readonly #nodes: readonly KubeObject[];
  readonly #certSeen = new Set<string>();
  readonly #opts: ServiceOptions;

  constructor(
    objs: {
      readonly services: readonly KubeObject[];
      readonly endpointSlices: readonly KubeObject[];
      readonly secrets?: readonly KubeObject[];
      readonly configMaps?: readonly KubeObject[];
      readonly nodes?: readonly KubeObject[];
    },
    opts: ServiceOptions,
  ) {
    this.#opts = opts;
    this.#nodes = objs.nodes ?? [];
    this.#svcIndex = new Map(objs.services.map((s) => [key(s), s]));
    this.#secrets = new Map((objs.secrets ?? []).map((s) => [key(s), s]));
    this.#configMaps = new Map((objs.configMaps ?? []).map((c) => [key(c), c]));
    for (const e of objs.endpointSlices) {
      const svc = e.metadata.labels?.['kubernetes.io/service-name'];
      if (svc === undefined) continue;
      const k = `${e.metadata.namespace ?? ''}/${svc}`;
      const list = this.#slices.get(k) ?? [];
      list.push(e as unknown as SliceJson);
      this.#slices.set(k, list);
    }
  }

  source(section: string, name: string, where: string): void {
    this.#sources.set(`${section}/${name.toLowerCase()}`, where);
    if (section === 'http/routers' && this.owner !== null) this.#routerMeta.set(name, this.owner);
  }

  /**
   * Takes the HTTP service `name` out of the configuration (and its source) and gives it: a load
   * balancer built as a template, registered again under other names (the Gateway provider's
   * per-router backend services, gateway-backends.ts).
   */
  detachService(name: string): Obj | undefined {
    const s = this.services[name] as Obj | undefined;
    delete this.services[name];
    this.#sources.delete(`http/services/${name.toLowerCase()}`);
    return s;
  }

  error(where: string, message: string): undefined {
    this.issues.push(issue('error', message, [], { file: where }));
    return undefined;
  }

  warn(where: string, message: string): void {
    this.issues.push(issue('warning', message, [], { file: where }));
  }

  /**
   * A list of a spec (`routes`, `services`, `rootCAs`…): absent is empty; anything but a list is
   * reported (an API server without the CRD's schema lets anything through) and is undefined.
   */
  list<T>(value: unknown, where: string, key: string): readonly T[] | undefined {
    if (value === undefined || value === null) return [];
    if (Array.isArray(value)) return value as T[];
    return this.error(where, `${key} must be a list`);
  }

  /** A reference to another namespace, refused (reported) unless allowCrossNamespace. */
  crossNamespace(where: string, what: string, ns: string, ownNs: string): boolean {
    if (ns === ownNs || this.#opts.allowCrossNamespace) return false;
    this.error(where, `${what}: another namespace (allowCrossNamespace is off)`);
    return true;
  }

  /**
   * A reference by full name (`name@provider`) from a resource of `ownNs`, refused (reported)
   * as Traefik's resolveReference and isCrossProviderNamespaceAllowed refuse it: for the CRD
   * provider, `…@kubernetescrd` while allowCrossNamespace is off; then any, from a namespace
   * crossProviderNamespaces does not list. A name without `@` is not one (false).
   */
  crossProvider(where: string, what: string, name: string, ownNs: string): boolean {
    if (!name.includes('@')) return false;
    if (
      this.#opts.crdSuffixRule === true &&
      !this.#opts.allowCrossNamespace &&
      name.endsWith('@kubernetescrd')
    ) {
      this.error(
        where,
        `${what}: with allowCrossNamespace off, @kubernetescrd references are refused (name it without @kubernetescrd, its namespace in namespace)`,
      );
      return true;
    }
    const list = this.#opts.crossProviderNamespaces;
    if (list !== undefined && !list.includes(ownNs)) {
      this.error(
        where,
        `${what}: reference is not allowed: namespace "${ownNs}" is not in crossProviderNamespaces`,
      );
      return true;
    }
    return false;
  }

  /**
   * The load balancer of one Kubernetes service port, `<ns>-<service>-<port>`; its name, or
   * undefined (reported) when unusable. Servers are the serving endpoints of its EndpointSlices
   * (port matched by the service port's name; nil `serving` = serving); a terminating endpoint
   * that still serves is fenced (weight 0: sticky sessions only); scheme `https` for port 443 or
   * a port named `https…`.
   */
  loadBalancer(s: ServiceRef, routeNs: string, where: string, nameOverride?: string): string | undefined {
    const ns = s.namespace ?? routeNs;
    if (s.name === undefined || s.name === '') return this.error(where, 'a service without a name');
    if (this.crossNamespace(where, `service ${ns}/${s.name}`, ns, routeNs)) return undefined;
    const svc = this.#svcIndex.get(`${ns}/${s.name}`);
    if (svc === undefined) return this.error(where, `service ${ns}/${s.name} not found`);
    const sspec = (svc.spec ?? {}) as ServiceSpec;
    const port =
      (sspec.ports ?? []).find((p) =>
        typeof s.port === 'number' ? p.port === s.port : s.port === undefined || p.name === s.port,
      ) ??
      (sspec.type === 'ExternalName' && s.externalNameAnyPort === true && typeof s.port === 'number'
        ? { port: s.port }
        : undefined);
    if (port?.port === undefined)
      return this.error(where, `service ${ns}/${s.name} has no port ${JSON.stringify(s.port)}`);
    // Traefik's crd loadServers: "healthCheck allowed only for ExternalName services" (the
    // others' servers are endpoints that Kubernetes' own probes already keep serving or not).
    const hasHealthCheck = s.healthCheck !== undefined && s.healthCheck !== null;
    if (hasHealthCheck && sspec.type !== 'ExternalName')
      return this.error(where, `service ${ns}/${s.name}: healthCheck allowed only for ExternalName services`);
    const name = nameOverride ?? normalize(`${ns}-${s.name}-${port.port}`);
    const scheme =
      s.scheme ?? (port.port === 443 || (port.name ?? '').startsWith('https') ? 'https' : 'http');
    // URL → fenced (a terminating endpoint that still serves).
    const urls = new Map<string, boolean>();
    if (sspec.type === 'ExternalName' && s.gatewayBackend === true)
      return this.error(
        where,
        `service ${ns}/${s.name}: type ExternalName is not supported for a Gateway API backendRef`,
      );
    if (sspec.type === 'ExternalName') {
      if (this.#opts.allowExternalNameServices !== true)
        return this.error(where, `service ${ns}/${s.name}: ExternalName (allowExternalNameServices is off)`);
      urls.set(`${scheme}://${sspec.externalName ?? ''}:${port.port}`, false);
    } else if (s.nativeLB ?? this.#opts.nativeLBByDefault === true) {
      // Traefik's loadServers: nativeLB (or nativeLBByDefault) is the Service's cluster IP.
      const address = this.clusterAddress(svc, port.port, where);
      if (address === undefined) return undefined;
      urls.set(`${scheme}://${address}`, false);
    } else if (s.nodePortLB === true && sspec.type === 'NodePort') {
      const hosts = this.nodePortAddresses(svc, port, where);
      if (hosts === undefined) return undefined;
      for (const h of hosts) urls.set(`${scheme}://${h}`, false);
    } else {
      const slices = this.#slices.get(`${ns}/${s.name}`) ?? [];
      // Traefik's gateway getBackendAddresses: a Service without EndpointSlices is an error, one
      // whose endpoints are none ready a load balancer without servers (503), whatever
      // allowEmptyServices (an option its Gateway provider does not have).
      if (s.gatewayBackend === true && slices.length === 0)
        return this.error(where, `service ${ns}/${s.name}: endpointslices not found`);
      for (const slice of slices) {
        const sp = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? ''));
        if (sp?.port === undefined) continue;
        for (const e of slice.endpoints ?? []) {
          const serving =
            s.gatewayBackend === true
              ? e.conditions?.ready === true
              : (e.conditions?.serving ?? e.conditions?.ready ?? true);
          if (!serving) continue;
          // Traefik's crd loadServers / ingress loadService: a terminating endpoint that still
          // serves is a `Fenced` server, which only sticky sessions reach (not the Gateway's).
          const fenced =
            s.gatewayBackend !== true && e.conditions?.terminating === true && e.conditions.serving === true;
          for (const a of e.addresses ?? []) {
            const url = `${scheme}://${a.includes(':') ? `[${a}]` : a}:${sp.port}`;
            if (!urls.has(url)) urls.set(url, fenced);
          }
        }
      }
    }
    if (urls.size === 0 && !this.#opts.allowEmptyServices && s.gatewayBackend !== true)
      return this.error(where, `service ${ns}/${s.name}: no endpoints`);
    // A fenced server is weight 0: never picked by the strategy, still reached by its sticky
    // cookie (Traefik's balancers skip fenced servers but the sticky lookup).
    const lb: Obj = {
      servers: [...urls.keys()].sort().map((url) => (urls.get(url) === true ? { url, weight: 0 } : { url })),
    };
    if (s.passHostHeader !== undefined) lb['passHostHeader'] = s.passHostHeader;
    if (s.serversTransport !== undefined && s.serversTransport !== '') {
      // Traefik's makeServersTransportKey: another provider's transport is checked against
      // crossProviderNamespaces (here the referencing resource's namespace, routeNs).
      if (this.crossProvider(where, `serversTransport ${s.serversTransport}`, s.serversTransport, routeNs))
        return undefined;
      lb['serversTransport'] = this.ref(s.serversTransport, ns);
    }
    if (s.sticky !== undefined) lb['sticky'] = s.sticky;
    if (s.strategy !== undefined) lb['strategy'] = s.strategy;
    if (s.responseForwarding !== undefined) lb['responseForwarding'] = s.responseForwarding;
    // As Traefik's buildServersLB: both checks are the load balancer's, as written.
    if (hasHealthCheck) lb['healthCheck'] = s.healthCheck;
    if (s.passiveHealthCheck !== undefined && s.passiveHealthCheck !== null)
      lb['passiveHealthCheck'] = s.passiveHealthCheck;
    this.services[name] =
      s.middlewares !== undefined && s.middlewares.length > 0
        ? { loadBalancer: lb, middlewares: [...s.middlewares] }
        : { loadBalancer: lb };
    this.source('http/services', name, `service ${ns}/${s.name}`);
    // The Service the load balancer's servers come from, for the access log's KubernetesService*
    // fields (Traefik v3.8 PR #12985: each leaf load balancer made from a Service carries it, the
    // Gateway provider's excepted). The port as the route names it (Traefik's portString).
    if (s.gatewayBackend !== true) {
      const p = s.port ?? port.port;
      this.#serviceMeta.set(name, { name: s.name, namespace: ns, port: String(p) });
    }
    return name;
  }

  /**
   * `clusterIP:port` of a Service, Traefik's getNativeServiceAddress (nativeLB: the Service
   * balances over its pods itself); a headless (`None`) or IP-less Service is reported.
   */
  clusterAddress(svc: KubeObject, port: number, where: string): string | undefined {
    const ip = ((svc.spec ?? {}) as ServiceSpec).clusterIP ?? '';
    const id = `${svc.metadata.namespace ?? ''}/${svc.metadata.name}`;
    if (ip === 'None') return this.error(where, `nativeLB: no clusterIP on headless service ${id}`);
    if (ip === '') return this.error(where, `nativeLB: no clusterIP found for service ${id}`);
    return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
  }

  /**
   * Traefik's nodePortLB (the crd and ingress providers' loadServers, after ExternalName and
   * nativeLB, for a Service of type NodePort only): every Node's `InternalIP` addresses on the
   * port's `nodePort`, so that a proxy outside the cluster reaches the Service through the nodes.
   * Reported (undefined) as Traefik refuses it: Nodes not watched (disableClusterScopeResources),
   * no Nodes, or no InternalIP among them; also a port without a nodePort.
   */
  nodePortAddresses(
    svc: KubeObject,
    port: { readonly port?: number; readonly nodePort?: number },
    where: string,
  ): string[] | undefined {
    const id = `${svc.metadata.namespace ?? ''}/${svc.metadata.name}`;
    if (this.#opts.disableClusterScopeResources === true)
      return this.error(
        where,
        `service ${id}: nodePortLB: nodes lookup is disabled (disableClusterScopeResources)`,
      );
    if (this.#nodes.length === 0) return this.error(where, `service ${id}: nodePortLB: no nodes found`);
    const nodePort = port.nodePort;
    if (nodePort === undefined || nodePort === 0)
      return this.error(where, `service ${id}: nodePortLB: port ${port.port ?? ''} has no nodePort`);
    const out: string[] = [];
    for (const n of this.#nodes) {
      for (const a of (n as { status?: NodeStatus }).status?.addresses ?? [])
        if (a.type === 'InternalIP' && a.address !== undefined && a.address !== '')
          out.push(a.address.includes(':') ? `[${a.address}]:${nodePort}` : `${a.address}:${nodePort}`);
    }
    if (out.length === 0)
      return this.error(where, `service ${id}: nodePortLB: no node has an InternalIP address`);
    return out.sort();
  }

  get nativeLBByDefault(): boolean {
    return this.#opts.nativeLBByDefault === true;
  }

  /** The Service `ns/name`, or undefined. */
  service(ns: string, name: string): KubeObject | undefined {
    return this.#svcIndex.get(`${ns}/${name}`);
  }

  /** The EndpointSlices of the Service `ns/name` (by their `kubernetes.io/service-name` label). */
  endpointSlices(ns: string, name: string): readonly KubeObject[] {
    return (this.#slices.get(`${ns}/${name}`) ?? []) as unknown as readonly KubeObject[];
  }

  get allowEmptyServices(): boolean {
    return this.#opts.allowEmptyServices;
  }

  get allowExternalNameServices(): boolean {
    return this.#opts.allowExternalNameServices === true;
  }

  get allowCrossNamespace(): boolean {
    return this.#opts.allowCrossNamespace;
  }

  /** `<ns>-<name>`, or a name with `@` (another provider's) as it is. */
  ref(name: string, ns: string): string {
    return name.includes('@') ? name : normalize(`${ns}-${name}`);
  }

  secret(ns: string, name: string): KubeObject | undefined {
    return this.#secrets.get(`${ns}/${name}`);
  }

  /** A key of a secret's `data`, decoded (base64), or undefined. */
  secretValue(ns: string, name: string, k: string): string | undefined {
    const data = (this.secret(ns, name) as { data?: Record<string, string> } | undefined)?.data;
    const v = data?.[k];
    return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
  }

  /** `tls.crt` and `tls.key` of a TLS secret, as PEM, or undefined (reported). */
  certificate(ns: string, name: string, where: string): { certFile: string; keyFile: string } | undefined {
    if (this.secret(ns, name) === undefined) return this.error(where, `secret ${ns}/${name} not found`);
    const certFile = this.secretValue(ns, name, 'tls.crt');
    const keyFile = this.secretValue(ns, name, 'tls.key');
    if (certFile === undefined || keyFile === undefined)
      return this.error(where, `secret ${ns}/${name} has no tls.crt and tls.key`);
    return { certFile, keyFile };
  }

  /** Adds a TLS secret's certificate to `tls.certificates` once. */
  addCertificate(ns: string, name: string, where: string, stores?: readonly string[]): void {
    const k = `${ns}/${name}/${(stores ?? []).join(',')}`;
    if (this.#certSeen.has(k)) return;
    const c = this.certificate(ns, name, where);
    if (c === undefined) return;
    this.#certSeen.add(k);
    this.certificates.push(stores === undefined ? c : { ...c, stores: [...stores] });
  }

  /**
   * A CA from a secret (`tls.ca` or `ca.crt`, Traefik's getCABlocks), or undefined (reported).
   * `onlyEntry`: a Secret with neither but a single data entry gives that entry (Traefik's
   * loadCASecret, for ServersTransport and forwardAuth/Redis CAs; not for TLSOption client CAs).
   */
  ca(ns: string, name: string, where: string, onlyEntry = false): string | undefined {
    const secret = this.secret(ns, name) as { data?: Record<string, string> } | undefined;
    if (secret === undefined) return this.error(where, `secret ${ns}/${name} not found`);
    const v = this.secretValue(ns, name, 'tls.ca') ?? this.secretValue(ns, name, 'ca.crt');
    if (v !== undefined) return v;
    const entries = Object.values(secret.data ?? {});
    if (onlyEntry && entries.length === 1) return Buffer.from(entries[0]!, 'base64').toString('utf8');
    return this.error(where, `secret ${ns}/${name} has no tls.ca or ca.crt`);
  }

  /**
   * A CA from a ConfigMap's `data` (`tls.ca`, else `ca.crt`: Traefik's loadCAConfigMap and
   * getCABlocksFromConfigMap in pkg/provider/kubernetes/crd/kubernetes.go), or undefined (reported).
   */
  configMapCa(ns: string, name: string, where: string): string | undefined {
    const cm = this.#configMaps.get(`${ns}/${name}`) as { data?: Record<string, string> } | undefined;
    if (cm === undefined) return this.error(where, `configMap ${ns}/${name} not found`);
    const v = cm.data?.['tls.ca'] ?? cm.data?.['ca.crt'];
    if (v !== undefined) return v;
    return this.error(where, `configMap ${ns}/${name} has no tls.ca or ca.crt`);
  }

  result(): { data: Obj; sourceOf: SourceOf; issues: ConfigIssue[]; meta: KubernetesMeta } {
    const sources = this.#sources;
    const sourceOf: SourceOf = (path) => {
      const p = path.map(String);
      return sources.get(p.slice(0, 3).join('/').toLowerCase());
    };
    const tls: Obj = {};
    if (this.certificates.length > 0) tls['certificates'] = this.certificates;
    if (Object.keys(this.tlsOptions).length > 0) tls['options'] = this.tlsOptions;
    if (Object.keys(this.tlsStores).length > 0) tls['stores'] = this.tlsStores;
    return {
      data: {
        http: {
          routers: this.routers,
          services: this.services,
          middlewares: this.middlewares,
          ...(Object.keys(this.serversTransports).length > 0
            ? { serversTransports: this.serversTransports }
            : {}),
        },
        ...(Object.keys(tls).length > 0 ? { tls } : {}),
        ...(nonEmpty(this.tcp) ? { tcp: this.tcp } : {}),
        ...(nonEmpty(this.udp) ? { udp: this.udp } : {}),
      },
      sourceOf,
      issues: this.issues,
      meta: { routers: this.#routerMeta, services: this.#serviceMeta },
    };
  }
}

/** The Kubernetes objects behind a build's routers and load balancers, by their names. */
export interface KubernetesMeta {
  readonly routers: ReadonlyMap<string, KubernetesObjectRef>;
  readonly services: ReadonlyMap<string, KubernetesServiceRef>;
}

/**
 * Puts each router's and load balancer's Kubernetes object on the validated configuration's
 * objects (config/dynamic/kubernetes-meta.ts): after validation, as Traefik's providers set the
 * unexposed ObservabilityMetadata on the objects they make. Objects validation left out have none.
 */
export function attachKubernetesMeta(update: ProviderUpdate, meta: KubernetesMeta): ProviderUpdate {
  const http = update.config?.http;
  if (http === undefined) return update;
  for (const [name, m] of meta.routers) {
    const r = http.routers[name];
    if (r !== undefined) setKubernetesMeta(r, m);
  }
  for (const [name, m] of meta.services) {
    const s = http.services[name];
    if (s !== undefined && s.kind === 'loadBalancer') setKubernetesMeta(s, m);
  }
  return update;
}

function nonEmpty(section: Record<string, Obj>): boolean {
  return Object.values(section).some((m) => Object.keys(m).length > 0);
}

export function key(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}
