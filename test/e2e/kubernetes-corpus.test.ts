/**
 * The corpus of real Kubernetes manifests written for Traefik (test/corpus/kubernetes/MANIFEST.json),
 * fed to the Kubernetes CRD, Ingress and Gateway providers' conversion (crdConfig, ingressConfig,
 * gatewayConfig, then updateFromData/gatewayUpdate with the proxy's rule checker: the code the
 * proxy runs on its informers' stores).
 *
 * The rule, per repository (its files applied together, as `kubectl apply -f <dir>`):
 *
 * - The objects are sorted as the informers list them: `traefik.io/v1alpha1` kinds to the CRD
 *   provider, `networking.k8s.io/v1` Ingresses to the Ingress provider, `gateway.networking.k8s.io`
 *   kinds (GatewayClass, Gateway, HTTPRoute, GRPCRoute, TCPRoute, TLSRoute, ReferenceGrant,
 *   BackendTLSPolicy, ListenerSet) to the Gateway provider, which runs when a repository holds
 *   some, its listeners on the Helm chart's entry points (`web` :8000, `websecure` :8443, or the
 *   entry's `entryPointPorts`); core Services, Secrets and ConfigMaps to all. Traefik v3 watches no other group: `traefik.containo.us/v1alpha1` (v2's,
 *   removed in v3: the WatchAll of pkg/provider/kubernetes/crd/client.go starts traefikio/v1alpha1
 *   informers only) and `extensions/v1beta1` Ingresses are not read, so such a file builds nothing
 *   as it is (nor here: crd-provider.ts lists /apis/traefik.io/v1alpha1). A file of v2's group is
 *   checked as the v2-to-v3 migration asks, with only its group renamed to `traefik.io`.
 * - The providers run with Traefik's defaults (allowCrossNamespace off…), or the `crdOptions` the
 *   repository needs; rules are read with v3's default syntax (a route's `syntax` aside). What the
 *   build checks later (TLS options by name, plugins against the static configuration) is not.
 * - The rest of the cluster is given as it would be there: every Service has an EndpointSlice
 *   (one ready endpoint per port), Traefik's IngressClass `traefik` exists (its Helm chart and k3s
 *   install it), and what the manifests name but do not hold is added as the provider asks for it
 *   (a Service with the port named, a Secret with a certificate and a CA, or with one user for
 *   basicAuth/digestAuth, a ConfigMap with a CA; Traefik's GatewayClass for a Gateway's class, a
 *   Gateway with the listeners a route's parentRefs name, admitting every namespace). Objects
 *   without a namespace go to the repository's (`namespace` in the manifest, else `default`), as
 *   `kubectl apply -n`.
 * - A reference to a Traefik object (Middleware, TraefikService, TLSOption, ServersTransport…)
 *   that the repository does not hold is an error we keep: such files list it under `elsewhere`
 *   (the object is defined outside the repository, usually by the Helm chart's values).
 * - Then each file's outcome: `loads` (no error about its objects), `not-supported` (each error
 *   names a feature that is not supported yet), `mistake` (errors from a mistake that Traefik v3
 *   refuses too, each explained), `ignored` (Traefik v3 reads none of its objects), `refused`
 *   (kubectl refuses the file: it is not YAML that the API server takes). Every route of a file
 *   that loads (IngressRoute, IngressRouteTCP, IngressRouteUDP, Ingress, HTTPRoute, GRPCRoute,
 *   TCPRoute, TLSRoute) must give a router: one skipped without an error would otherwise pass. A
 *   Gateway API route that no listener takes is an error of its file, with the condition of its
 *   parent status that says why (Traefik logs nothing then).
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { DynamicConfig } from '../../src/config/dynamic/schema.ts';
import type { RuleChecker } from '../../src/config/dynamic/validate.ts';
import { type ConfigIssue, formatIssue, issue } from '../../src/config/issues.ts';
import {
  kubernetesCrdProviderSchema,
  kubernetesIngressProviderSchema,
} from '../../src/config/static/providers.ts';
import { updateFromData } from '../../src/providers/dynamic-data.ts';
import { type CrdObjects, crdConfig } from '../../src/providers/kubernetes/crd-config.ts';
import {
  type GatewayObjects,
  gatewayConfig,
  gatewayUpdate,
} from '../../src/providers/kubernetes/gateway-config.ts';
import { type Condition, GATEWAY_CONTROLLER } from '../../src/providers/kubernetes/gateway-status.ts';
import type { KubeObject } from '../../src/providers/kubernetes/informer.ts';
import { ingressConfig } from '../../src/providers/kubernetes/ingress-config.ts';
import { checkRule } from '../../src/runtime/rule-checks.ts';
import { CorpusBuilder } from '../helpers/corpus-build.ts';
import { ROOT } from '../helpers/proxy-process.ts';
import { selfSignedCertificate } from '../helpers/tls-certs.ts';

type Outcome = 'loads' | 'not-supported' | 'mistake' | 'ignored' | 'refused';

interface Entry {
  readonly repo: string;
  readonly path: string;
  readonly commit: string;
  readonly local: string;
  readonly outcome: Outcome;
  readonly unsupported?: readonly string[];
  readonly mistakes?: readonly { readonly match: string; readonly why: string }[];
  /** References to Traefik objects the repository does not hold (an error each: expected). */
  readonly elsewhere?: readonly string[];
  /** The namespace the repository applies its namespace-less objects to. */
  readonly namespace?: string;
  /** Provider options the repository's Traefik runs with (its static configuration). */
  readonly crdOptions?: Readonly<Record<string, unknown>>;
  /** The Ingress provider's options it runs with (its `ingressClass`). */
  readonly ingressOptions?: Readonly<Record<string, unknown>>;
  /**
   * The Gateway provider's entry points (name → port) when its Traefik does not run the Helm
   * chart's `web` :8000 and `websecure` :8443 (a listener goes to the entry point of its port).
   */
  readonly entryPointPorts?: Readonly<Record<string, number>>;
  /** The other providers its Traefik runs (`file`): their objects (`x@file`) are taken as there. */
  readonly providers?: readonly string[];
  readonly note?: string;
  /**
   * The build pass (test/helpers/corpus-build.ts), on the repository's first file for all of its
   * files (built together): the objects the proxy's build leaves out of what the providers give,
   * each with its error, and why Traefik leaves it out too. Absent = none.
   */
  readonly build?: readonly { readonly error: string; readonly why: string }[];
}

const CORPUS = join(ROOT, 'test', 'corpus', 'kubernetes');
const manifest = JSON.parse(readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8')) as { files: Entry[] };

const V3 = 'traefik.io/v1alpha1';
const V2 = 'traefik.containo.us/v1alpha1';
/** The CRD provider's kinds, as its informers list them (crd-provider.ts). */
const CRD_KINDS: Readonly<Record<string, keyof CrdObjects>> = {
  IngressRoute: 'ingressRoutes',
  Middleware: 'middlewares',
  TraefikService: 'traefikServices',
  TLSOption: 'tlsOptions',
  TLSStore: 'tlsStores',
  ServersTransport: 'serversTransports',
  IngressRouteTCP: 'ingressRouteTCPs',
  IngressRouteUDP: 'ingressRouteUDPs',
  MiddlewareTCP: 'middlewareTCPs',
  ServersTransportTCP: 'serversTransportTCPs',
};
/**
 * The Gateway provider's kinds (group gateway.networking.k8s.io), as its informers list them
 * (gateway-provider.ts). The API server serves an object applied at any of a CRD's served versions
 * at the others too (v1beta1 HTTPRoutes are read as v1), so the version is not checked here.
 */
const GW_GROUP = 'gateway.networking.k8s.io/';
const GW_KINDS: Readonly<Record<string, keyof GatewayObjects>> = {
  GatewayClass: 'gatewayClasses',
  Gateway: 'gateways',
  HTTPRoute: 'httpRoutes',
  GRPCRoute: 'grpcRoutes',
  TCPRoute: 'tcpRoutes',
  TLSRoute: 'tlsRoutes',
  ReferenceGrant: 'referenceGrants',
  BackendTLSPolicy: 'backendTLSPolicies',
  ListenerSet: 'listenerSets',
};
const GW_ROUTES = new Set(['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute']);
/** The entry points of Traefik's Helm chart (and of k3s's and RKE2's bundled Traefik). */
const HELM_ENTRY_POINTS: Readonly<Record<string, number>> = { web: 8000, websecure: 8443 };
const INTERNAL = new Set(['api', 'dashboard', 'ping', 'prometheus']);
const PEM = selfSignedCertificate(['corpus.test']);
/** `test:test` (Apache's htpasswd -m). */
const USER = 'test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/';

type Obj = Record<string, unknown> & { apiVersion?: string; kind?: string; metadata: KubeObject['metadata'] };

interface Parsed {
  readonly entry: Entry;
  readonly objects: Obj[];
  readonly yamlErrors: string[];
}

function parseFile(entry: Entry, ns: string): Parsed {
  const docs = parseAllDocuments(readFileSync(join(CORPUS, entry.local), 'utf8'));
  const list = Array.isArray(docs) ? docs : [docs];
  const yamlErrors = list.flatMap((d) => d.errors.map((e) => e.message));
  const objects: Obj[] = [];
  for (const d of list) {
    const o = d.toJS() as Obj | null;
    if (o === null || typeof o !== 'object') continue;
    const metadata = { ...(o.metadata ?? { name: '' }) };
    if (metadata.namespace === undefined) (metadata as { namespace?: string }).namespace = ns;
    objects.push({ ...o, metadata });
  }
  return { entry, objects, yamlErrors };
}

/** The key by which provider issues name an object (`ingressroute ns/name`). */
const keyOf = (o: Obj): string =>
  `${(o.kind ?? '').toLowerCase()} ${o.metadata.namespace}/${o.metadata.name}`;

interface Cluster {
  crd: Record<string, KubeObject[]>;
  /** The Gateway API objects, by GatewayObjects field; Gateways and GatewayClasses by `ns/name`. */
  gateway: Record<string, KubeObject[]>;
  gateways: Map<string, KubeObject>;
  gatewayClasses: Map<string, KubeObject>;
  /** Entry points for the listeners of the Gateways added as the rest of the cluster. */
  entryPoints: Record<string, number>;
  ingresses: KubeObject[];
  services: Map<string, Obj>;
  secrets: Map<string, Obj>;
  configMaps: Map<string, Obj>;
}

function clusterOf(objects: readonly Obj[], renameV2: boolean): Cluster {
  const c: Cluster = {
    crd: {},
    gateway: {},
    gateways: new Map(),
    gatewayClasses: new Map(),
    entryPoints: {},
    ingresses: [],
    services: new Map(),
    secrets: new Map(),
    configMaps: new Map(),
  };
  for (const raw of objects) {
    const o = renameV2 && raw.apiVersion === V2 ? { ...raw, apiVersion: V3 } : raw;
    const id = `${o.metadata.namespace}/${o.metadata.name}`;
    const field = CRD_KINDS[o.kind ?? ''];
    if (o.apiVersion === V3 && field !== undefined) {
      const list = c.crd[field] ?? [];
      list.push(o as KubeObject);
      c.crd[field] = list;
    } else if (o.apiVersion?.startsWith(GW_GROUP) === true && GW_KINDS[o.kind ?? ''] !== undefined) {
      if (o.kind === 'Gateway') c.gateways.set(id, o as KubeObject);
      else if (o.kind === 'GatewayClass') c.gatewayClasses.set(o.metadata.name, o as KubeObject);
      else {
        const f = GW_KINDS[o.kind ?? '']!;
        const list = c.gateway[f] ?? [];
        list.push(o as KubeObject);
        c.gateway[f] = list;
      }
    } else if (o.apiVersion === 'networking.k8s.io/v1' && o.kind === 'Ingress')
      c.ingresses.push(o as KubeObject);
    else if (o.apiVersion === 'v1' && o.kind === 'Service') c.services.set(id, o);
    else if (o.apiVersion === 'v1' && o.kind === 'Secret') c.secrets.set(id, o);
    else if (o.apiVersion === 'v1' && o.kind === 'ConfigMap') c.configMaps.set(id, o);
  }
  return c;
}

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
}

/** One ready endpoint per port of each Service that is not ExternalName. */
function endpointSlices(services: Iterable<Obj>): KubeObject[] {
  const out: KubeObject[] = [];
  for (const s of services) {
    const spec = (s['spec'] ?? {}) as { type?: string; ports?: ServicePort[] };
    if (spec.type === 'ExternalName') continue;
    out.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${s.metadata.name}-corpus`,
        namespace: s.metadata.namespace,
        labels: { 'kubernetes.io/service-name': s.metadata.name },
      },
      addressType: 'IPv4',
      ports: (spec.ports ?? []).map((p) => ({
        ...(p.name === undefined ? {} : { name: p.name }),
        port: typeof p.targetPort === 'number' ? p.targetPort : p.port,
        protocol: 'TCP',
      })),
      endpoints: [
        { addresses: ['10.0.0.10'], conditions: { ready: true, serving: true, terminating: false } },
      ],
    } as unknown as KubeObject);
  }
  return out;
}

interface Built {
  readonly issues: ConfigIssue[];
  /** The objects that gave at least one router (`ingressroute ns/name`, `ingress ns/name`). */
  readonly routed: Set<string>;
  /** What each provider gives (its usable part), for the build pass. */
  readonly configs: Map<string, DynamicConfig>;
}

function build(c: Cluster, entries: readonly Entry[]): Built {
  const services = [...c.services.values()];
  const secrets = [...c.secrets.values()] as unknown as KubeObject[];
  const common = {
    services: services as unknown as KubeObject[],
    endpointSlices: endpointSlices(services),
    secrets,
  };
  const crdOpts = kubernetesCrdProviderSchema.parse(
    Object.assign({}, ...entries.map((e) => e.crdOptions ?? {})),
  );
  const crd = crdConfig(
    {
      ingressRoutes: c.crd['ingressRoutes'] ?? [],
      middlewares: c.crd['middlewares'] ?? [],
      traefikServices: c.crd['traefikServices'] ?? [],
      tlsOptions: c.crd['tlsOptions'] ?? [],
      tlsStores: c.crd['tlsStores'] ?? [],
      serversTransports: c.crd['serversTransports'] ?? [],
      ingressRouteTCPs: c.crd['ingressRouteTCPs'] ?? [],
      ingressRouteUDPs: c.crd['ingressRouteUDPs'] ?? [],
      middlewareTCPs: c.crd['middlewareTCPs'] ?? [],
      serversTransportTCPs: c.crd['serversTransportTCPs'] ?? [],
      configMaps: [...c.configMaps.values()] as unknown as KubeObject[],
      nodes: [],
      ...common,
    },
    crdOpts,
  );
  const ingOpts = kubernetesIngressProviderSchema.parse(
    Object.assign({}, ...entries.map((e) => e.ingressOptions ?? {})),
  );
  const others = entries.flatMap((e) => e.providers ?? []);
  const ing = ingressConfig(
    {
      ingresses: c.ingresses,
      ingressClasses: [
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'IngressClass',
          metadata: { name: 'traefik' },
          spec: { controller: 'traefik.io/ingress-controller' },
        } as unknown as KubeObject,
      ],
      nodes: [],
      ...common,
    },
    { ...ingOpts, allowCrossNamespace: false },
  );
  // Both providers run side by side (Traefik's Helm chart enables both): each may name the other's.
  // Rules as Traefik v3 reads them by default (core.defaultRuleSyntax v3), a route's `syntax` aside.
  const v3Rules: RuleChecker = (rule, language, syntax) => checkRule(rule, language, syntax ?? 'v3');
  const validation = (...other: string[]) => ({
    checkRule: v3Rules,
    internalServices: INTERNAL,
    knownProviders: [...other, ...others],
  });
  const u1 = updateFromData(
    crd.data,
    'kubernetescrd',
    crd.sourceOf,
    validation('kubernetes', 'kubernetesgateway'),
    crd.issues,
  );
  const u2 = updateFromData(
    ing.data,
    'kubernetes',
    ing.sourceOf,
    validation('kubernetescrd', 'kubernetesgateway'),
    ing.issues,
  );
  const runs: [ReturnType<typeof updateFromData>, { sourceOf: typeof crd.sourceOf }][] = [
    [u1, crd],
    [u2, ing],
  ];
  const issues = [...u1.issues, ...u2.issues];
  const configs = new Map<string, DynamicConfig>();
  if (u1.config !== undefined) configs.set('kubernetescrd', u1.config);
  if (u2.config !== undefined) configs.set('kubernetes', u2.config);
  // The Gateway provider beside them (its Helm chart's `providers.kubernetesGateway`), when the
  // repository holds Gateway API objects: the CRD provider runs, so an ExtensionRef to a
  // Middleware and a backendRef to a TraefikService are its objects (Traefik's
  // FillExtensionBuilderRegistry).
  if (c.gateways.size > 0 || Object.keys(c.gateway).length > 0) {
    const gw = gatewayConfig(
      {
        gatewayClasses: [...c.gatewayClasses.values()],
        gateways: [...c.gateways.values()],
        httpRoutes: c.gateway['httpRoutes'] ?? [],
        grpcRoutes: c.gateway['grpcRoutes'] ?? [],
        tcpRoutes: c.gateway['tcpRoutes'] ?? [],
        tlsRoutes: c.gateway['tlsRoutes'] ?? [],
        referenceGrants: c.gateway['referenceGrants'] ?? [],
        backendTLSPolicies: c.gateway['backendTLSPolicies'] ?? [],
        listenerSets: c.gateway['listenerSets'] ?? [],
        configMaps: [...c.configMaps.values()] as unknown as KubeObject[],
        namespaces: [],
        ...common,
      },
      {
        allowEmptyServices: false,
        allowExternalNameServices: false,
        entryPointPorts: Object.assign(
          {},
          c.entryPoints,
          ...entries.map((e) => e.entryPointPorts ?? HELM_ENTRY_POINTS),
        ) as Record<string, number>,
      },
    );
    const u3 = gatewayUpdate(gw, 'kubernetesgateway', validation('kubernetescrd', 'kubernetes'));
    runs.push([u3, gw]);
    issues.push(...u3.issues);
    // A route a Gateway does not take: its parent status says why (Traefik logs nothing).
    for (const st of gw.statuses) {
      if (!GW_ROUTES.has(st.kind)) continue;
      const parents = (
        st.status as { parents?: { parentRef?: { name?: string }; conditions?: Condition[] }[] }
      ).parents;
      for (const p of parents ?? [])
        for (const cond of p.conditions ?? [])
          if (cond.status === 'False')
            issues.push(
              issue(
                'error',
                `parent ${p.parentRef?.name}: ${cond.type} ${cond.reason}: ${cond.message}`,
                [],
                {
                  file: `${st.kind.toLowerCase()} ${st.object.metadata.namespace}/${st.object.metadata.name}`,
                },
              ),
            );
    }
    if (u3.config !== undefined) configs.set('kubernetesgateway', u3.config);
  }
  const routed = new Set<string>();
  for (const [u, b] of runs) {
    for (const proto of ['http', 'tcp', 'udp'] as const) {
      for (const name of Object.keys(u.config?.[proto]?.routers ?? {})) {
        const where = b.sourceOf([proto, 'routers', name]);
        if (where !== undefined) routed.add(where.toLowerCase());
      }
    }
  }
  return { issues, routed, configs };
}

interface ParentRef {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  sectionName?: string;
}

interface WantedListener {
  protocol: string;
  port: number;
}

/**
 * The Gateway API objects the repository names and does not hold, as the rest of the cluster: the
 * GatewayClass of its Gateways (Traefik's, as its Helm chart creates `traefik`), and the Gateways
 * its routes' parentRefs name (the Helm chart's or another repository's), with a listener for
 * each sectionName asked (HTTPS on `websecure` when the name says so, its certificate added as a
 * Secret; TCP and TLS on an entry point of their own), else `web` (HTTP on :8000), admitting the
 * routes of every namespace.
 */
function completeGateways(c: Cluster): void {
  for (const g of c.gateways.values()) {
    const name = (g['spec'] as { gatewayClassName?: string } | undefined)?.gatewayClassName;
    if (name === undefined || c.gatewayClasses.has(name)) continue;
    c.gatewayClasses.set(name, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name },
      spec: { controllerName: GATEWAY_CONTROLLER },
    } as unknown as KubeObject);
  }
  const wanted = new Map<string, Map<string, WantedListener>>();
  for (const kind of GW_ROUTES) {
    for (const r of c.gateway[GW_KINDS[kind]!] ?? []) {
      const refs = (r as { spec?: { parentRefs?: ParentRef[] } }).spec?.parentRefs ?? [];
      for (const ref of refs) {
        if (
          (ref.kind ?? 'Gateway') !== 'Gateway' ||
          (ref.group ?? GW_GROUP.slice(0, -1)) !== GW_GROUP.slice(0, -1)
        )
          continue;
        const id = `${ref.namespace ?? r.metadata.namespace}/${ref.name}`;
        if (c.gateways.has(id)) continue;
        const listeners = wanted.get(id) ?? new Map<string, WantedListener>();
        const secure = /secure|https|tls|443/i.test(ref.sectionName ?? '');
        const l: WantedListener =
          kind === 'TCPRoute'
            ? { protocol: 'TCP', port: 9000 + listeners.size }
            : kind === 'TLSRoute'
              ? { protocol: 'TLS', port: 9100 + listeners.size }
              : secure
                ? { protocol: 'HTTPS', port: HELM_ENTRY_POINTS['websecure']! }
                : { protocol: 'HTTP', port: HELM_ENTRY_POINTS['web']! };
        listeners.set(ref.sectionName ?? 'web', l);
        wanted.set(id, listeners);
      }
    }
  }
  for (const [id, listeners] of wanted) {
    const [namespace, name] = id.split('/') as [string, string];
    c.gateways.set(id, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name, namespace },
      spec: {
        gatewayClassName: 'traefik',
        listeners: [...listeners].map(([lname, l]) => ({
          name: lname,
          protocol: l.protocol,
          port: l.port,
          allowedRoutes: { namespaces: { from: 'All' } },
          ...(l.protocol === 'HTTPS'
            ? { tls: { mode: 'Terminate', certificateRefs: [{ name: `${name}-corpus-tls` }] } }
            : l.protocol === 'TLS'
              ? { tls: { mode: 'Passthrough' } }
              : {}),
        })),
      },
    } as unknown as KubeObject);
    for (const l of listeners.values())
      if (l.protocol === 'TCP' || l.protocol === 'TLS') c.entryPoints[`corpus-${l.port}`] = l.port;
  }
  if (wanted.size > 0) completeGateways(c);
}

/**
 * The cluster completed with what the provider asks for and the repository does not hold, then
 * the issues of the last build.
 */
function load(c: Cluster, entries: readonly Entry[]): Built {
  completeGateways(c);
  for (let round = 0; round < 20; round++) {
    const built = build(c, entries);
    const issues = built.issues;
    let added = false;
    for (const i of issues) {
      if (i.severity !== 'error') continue;
      let m =
        /service ([^/\s]+)\/([^\s:]+) not found/.exec(i.message) ??
        /BackendRef ([^/\s]+)\/([^\s:]+): service not found/.exec(i.message);
      if (m !== null && !c.services.has(`${m[1]}/${m[2]}`)) {
        c.services.set(`${m[1]}/${m[2]}`, {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: m[2]!, namespace: m[1]! },
          spec: { type: 'ClusterIP', ports: [] },
        });
        added = true;
        continue;
      }
      m =
        /service ([^/\s]+)\/(\S+) has no port (\S+)/.exec(i.message) ??
        /BackendRef ([^/\s]+)\/(\S+): service port (\d+) not found/.exec(i.message);
      if (m !== null) {
        const svc = c.services.get(`${m[1]}/${m[2]}`);
        const ports = ((svc?.['spec'] as { ports?: ServicePort[] } | undefined)?.ports ??
          []) as ServicePort[];
        const want = JSON.parse(m[3]!) as number | string | undefined;
        const port: ServicePort =
          typeof want === 'number'
            ? { name: `port-${want}`, port: want, targetPort: want }
            : { name: want ?? 'http', port: 8000 + ports.length, targetPort: 8000 + ports.length };
        if (svc !== undefined && !ports.some((p) => p.port === port.port && p.name === port.name)) {
          ports.push(port);
          (svc['spec'] as { ports?: ServicePort[] }).ports = ports;
          added = true;
        }
        continue;
      }
      m = /(?:^|(\w+): )secret ([^/\s]+)\/(\S+) (?:is )?not found/.exec(i.message);
      if (m !== null && !c.secrets.has(`${m[2]}/${m[3]}`)) {
        const auth = m[1] === 'basicAuth' || m[1] === 'digestAuth';
        const data = auth
          ? { users: USER }
          : { 'tls.crt': PEM.certPem, 'tls.key': PEM.keyPem, 'ca.crt': PEM.certPem };
        c.secrets.set(`${m[2]}/${m[3]}`, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: m[3]!, namespace: m[2]! },
          type: auth ? 'Opaque' : 'kubernetes.io/tls',
          data: Object.fromEntries(
            Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
        });
        added = true;
        continue;
      }
      m = /configMap ([^/\s]+)\/(\S+) not found/.exec(i.message);
      if (m !== null && !c.configMaps.has(`${m[1]}/${m[2]}`)) {
        c.configMaps.set(`${m[1]}/${m[2]}`, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: m[2]!, namespace: m[1]! },
          data: { 'ca.crt': PEM.certPem },
        });
        added = true;
      }
    }
    if (!added) return built;
  }
  throw new Error('the cluster did not settle in 20 rounds');
}

/** Errors that follow from another object's: not a finding of their own. */
const CONSEQUENCE = /is disabled because of its own errors|because of the errors of/;

const byRepo = new Map<string, Entry[]>();
for (const f of manifest.files) {
  const list = byRepo.get(f.repo) ?? [];
  list.push(f);
  byRepo.set(f.repo, list);
}

/** The errors of a repository's files, each given to the file whose object it names. */
function errorsByFile(
  entries: readonly Entry[],
  renameV2: boolean,
): { errors: Map<Entry, string[]>; unrouted: Map<Entry, string[]>; configs: Map<string, DynamicConfig> } {
  const ns = entries.find((e) => e.namespace !== undefined)?.namespace ?? 'default';
  const parsed = entries.map((e) => parseFile(e, ns));
  const owner = new Map<string, Entry>();
  for (const p of parsed) for (const o of p.objects) owner.set(keyOf(o), p.entry);
  const objects = parsed.flatMap((p) => p.objects);
  const { issues, routed, configs } = load(clusterOf(objects, renameV2), entries);
  const out = new Map<Entry, string[]>(entries.map((e) => [e, []]));
  for (const i of issues) {
    if (i.severity !== 'error') continue;
    const line = formatIssue(i);
    const file = (i.file ?? '').toLowerCase();
    // `ingressroute ns/name`, or a router/service/middleware name carrying it.
    let who: Entry | undefined;
    for (const [k, e] of owner) if (file.startsWith(k) || line.toLowerCase().includes(k)) who = e;
    const target = who ?? entries[0]!;
    out.get(target)!.push(line);
  }
  // The routes that Traefik v3 reads (its group, networking.k8s.io/v1) and that gave no router.
  const unrouted = new Map<Entry, string[]>(entries.map((e) => [e, []]));
  for (const p of parsed) {
    for (const o of p.objects) {
      const group = renameV2 && o.apiVersion === V2 ? V3 : o.apiVersion;
      const route =
        (group === V3 && ['IngressRoute', 'IngressRouteTCP', 'IngressRouteUDP'].includes(o.kind ?? '')) ||
        (group === 'networking.k8s.io/v1' && o.kind === 'Ingress') ||
        (group?.startsWith(GW_GROUP) === true && GW_ROUTES.has(o.kind ?? ''));
      if (route && !routed.has(keyOf(o))) unrouted.get(p.entry)!.push(keyOf(o));
    }
  }
  return { errors: out, unrouted, configs };
}

const builder = new CorpusBuilder();
after(() => builder.close());

describe('corpus of real Kubernetes manifests for Traefik', () => {
  it('has at least 50 files from at least 50 repositories, each with its source and commit', () => {
    assert.ok(manifest.files.length >= 50, String(manifest.files.length));
    assert.ok(byRepo.size >= 50, String(byRepo.size));
    for (const f of manifest.files) {
      assert.match(f.commit, /^[0-9a-f]{40}$/, f.local);
      assert.equal(f.local, `${f.repo.replace('/', '__')}/${f.path}`);
      for (const m of f.mistakes ?? []) assert.ok(m.why.length > 20, f.local);
      for (const b of f.build ?? []) assert.ok(b.why.length > 20, f.local);
    }
  });

  for (const [repo, entries] of byRepo) {
    it(`${repo}: ${entries.map((e) => `${e.path} (${e.outcome})`).join(', ')}`, () => {
      const ns = entries.find((e) => e.namespace !== undefined)?.namespace ?? 'default';
      const parsed = entries.map((e) => parseFile(e, ns));
      for (const p of parsed) {
        if (p.entry.outcome === 'refused') {
          assert.ok(p.yamlErrors.length > 0, `${p.entry.local}: expected kubectl to refuse it`);
          for (const m of p.entry.mistakes ?? [])
            assert.ok(
              p.yamlErrors.some((e) => e.includes(m.match)),
              `${m.match}:\n${p.yamlErrors.join('\n')}`,
            );
        } else assert.deepEqual(p.yamlErrors, [], p.entry.local);
      }
      const usable = entries.filter((e) => e.outcome !== 'refused');
      const { errors, unrouted, configs } = errorsByFile(usable, true);
      // The build pass: what the proxy's build leaves out of what the providers give, as
      // Traefik's would, recorded on the repository's first file.
      const built = builder.build(configs);
      if (process.env['CORPUS_BUILD_DUMP'] !== undefined)
        appendFileSync(
          process.env['CORPUS_BUILD_DUMP'],
          `${JSON.stringify({ local: entries[0]!.local, built })}\n`,
        );
      assert.deepEqual(
        built,
        usable.flatMap((e) => e.build ?? []).map((b) => b.error),
        'build outcome',
      );
      // References to objects outside the repository: each must be reported (somewhere in it).
      const elsewhere = usable.flatMap((e) => e.elsewhere ?? []);
      const all = [...errors.values()].flat();
      for (const x of elsewhere)
        assert.ok(
          all.some((l) => l.includes(x)),
          `${repo}: ${x} should be reported as missing:\n${all.join('\n')}`,
        );
      for (const e of usable) {
        const lines = errors.get(e) ?? [];
        const report = lines.join('\n');
        const missing = lines.filter((l) => elsewhere.some((x) => l.includes(x)));
        // What follows from a missing object (a service disabled for its transport) is not the file's.
        const own = lines.filter((l) => !missing.includes(l) && !(missing.length > 0 && CONSEQUENCE.test(l)));
        if (e.outcome === 'loads' || e.outcome === 'ignored') {
          assert.deepEqual(own, [], `${e.local}:\n${report}`);
          // Each route Traefik reads is a router (one skipped without an error would pass above).
          if (e.outcome === 'loads' && (e.elsewhere ?? []).length === 0)
            assert.deepEqual(unrouted.get(e), [], `${e.local}: routes without a router`);
          continue;
        }
        assert.ok(own.length > 0, `${e.local}: expected errors:\n${report}`);
        const mistakes = e.mistakes ?? [];
        for (const l of own) {
          const allowed =
            l.includes('not supported yet') ||
            CONSEQUENCE.test(l) ||
            mistakes.some((m) => l.includes(m.match));
          assert.ok(
            allowed,
            `${e.local}: error neither "not supported yet" nor a listed mistake: ${l}\n${report}`,
          );
        }
        for (const m of mistakes)
          assert.ok(
            own.some((l) => l.includes(m.match)),
            `${e.local}: ${m.match}:\n${report}`,
          );
        for (const name of e.unsupported ?? [])
          assert.ok(
            own.some((l) => l.includes(name) && l.includes('not supported yet')),
            `${e.local}: ${name} should be reported as not supported yet:\n${report}`,
          );
      }
    });
  }
});
