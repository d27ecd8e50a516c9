import { z } from 'zod';
import { duration } from '../duration.ts';
import { nullAsEmpty, strictObject } from '../schema-helpers.ts';

/*
 * The dynamic providers of the static configuration (`providers.*`), with Traefik v3's keys and
 * defaults (pkg/provider/<name>/*.go, cmd/configuration.go). Keys Traefik has and we do not
 * implement yet are listed per provider so that they are reported by name.
 */

/**
 * Traefik v2 keys Traefik v3 refuses to start with, as its pkg/cli/deprecation.go
 * (DeprecationLoader: "incompatible deprecated static option found").
 */
const REMOVED_CA_OPTIONAL =
  'TLS client authentication is a server-side option (remove it; v2-to-v3 migration: tls.caOptional)';
export const REMOVED_NAMESPACE = 'use `namespaces` (v2-to-v3 migration)';

/** Traefik's `types.ClientTLS`: a client certificate and the CA a provider checks its engine with. */
export const clientTls = strictObject(
  {
    /** A file path or the PEM text itself. */
    ca: z.string().min(1).optional(),
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    insecureSkipVerify: z.boolean().default(false),
  },
  [],
  { removed: { caOptional: REMOVED_CA_OPTIONAL } },
).superRefine((v, ctx) => {
  if ((v.cert === undefined) !== (v.key === undefined)) {
    ctx.addIssue({ code: 'custom', message: '`cert` and `key` go together', path: ['cert'] });
  }
});

const positive = duration.refine((ms) => ms > 0, 'must be greater than 0');

/** `providers.http` (pkg/provider/http/http.go). */
/** Traefik's REST provider (pkg/provider/rest): `insecure` puts its own router on the `traefik` entry point. */
export const restProviderSchema = strictObject({
  insecure: z.boolean().default(false),
});

export const httpProviderSchema = strictObject({
  endpoint: z
    .string()
    .url()
    .refine((v) => /^https?:\/\//i.test(v), 'must be an http:// or https:// URL'),
  pollInterval: positive.default(5_000),
  /** The whole request, body included. */
  pollTimeout: positive.default(5_000),
  headers: z.record(z.string(), z.string()).default({}),
  tls: nullAsEmpty(clientTls).optional(),
  /** -1 = unlimited (Traefik's default). */
  maxResponseBodySize: z.number().int().min(-1).default(-1),
});

/** The KV providers' common keys (pkg/provider/kv/kv.go). */
const kvBase = {
  rootKey: z.string().min(1).default('traefik'),
  username: z.string().optional(),
  password: z.string().optional(),
  tls: nullAsEmpty(clientTls).optional(),
};

const endpoints = (fallback: string) => z.array(z.string().min(1)).min(1).default([fallback]);

export const etcdProviderSchema = strictObject({ ...kvBase, endpoints: endpoints('127.0.0.1:2379') });
export const redisProviderSchema = strictObject(
  { ...kvBase, endpoints: endpoints('127.0.0.1:6379'), db: z.number().int().nonnegative().default(0) },
  ['sentinel'],
);
export const consulProviderSchema = strictObject(
  { ...kvBase, endpoints: endpoints('127.0.0.1:8500'), token: z.string().optional() },
  ['namespaces'],
  { removed: { namespace: REMOVED_NAMESPACE } },
);

/**
 * `providers.zooKeeper` (pkg/provider/kv/zk): username and password are ZooKeeper's digest
 * authentication (kvtools/zookeeper adds `digest user:password` to the session); Traefik's
 * ZooKeeper provider has no TLS.
 */
export const zooKeeperProviderSchema = strictObject(
  {
    rootKey: kvBase.rootKey,
    endpoints: endpoints('127.0.0.1:2181'),
    username: kvBase.username,
    password: kvBase.password,
  },
  ['tls'],
);

const DEFAULT_RULE = 'Host(`{{ normalize .Name }}`)';

/** `providers.docker` (pkg/provider/docker/pdocker.go, shared.go). */
export const dockerProviderSchema = strictObject(
  {
    endpoint: z.string().min(1).default('unix:///var/run/docker.sock'),
    exposedByDefault: z.boolean().default(true),
    network: z.string().default(''),
    defaultRule: z.string().min(1).default(DEFAULT_RULE),
    constraints: z.string().default(''),
    watch: z.boolean().default(true),
    allowEmptyServices: z.boolean().default(false),
    useBindPortIP: z.boolean().default(false),
    /** 0 = no timeout (Traefik's default); never applied to the events stream. */
    httpClientTimeout: duration.default(0),
    tls: nullAsEmpty(clientTls).optional(),
    /** HTTP Basic authentication to the endpoint, sent when both are set (Traefik's createClient). */
    username: z.string().default(''),
    password: z.string().default(''),
  },
  ['password_file'],
  {
    // Traefik v2's; v3 has providers.swarm instead (pkg/cli/deprecation.go refuses swarmMode; v3's
    // Docker provider has no swarmModeRefreshSeconds either).
    removed: {
      swarmMode: 'use the Swarm provider, providers.swarm (v2-to-v3 migration: Docker & Docker Swarm)',
      swarmModeRefreshSeconds: 'use providers.swarm.refreshSeconds',
    },
  },
);

/** What the three Kubernetes providers share (pkg/provider/kubernetes/k8s and each provider). */
const kubeBase = {
  /**
   * The API server: in a cluster (KUBERNETES_SERVICE_HOST and _PORT) it replaces the service's
   * address; else KUBECONFIG wins over it (Traefik's newK8sClient); else it is required.
   */
  endpoint: z
    .string()
    .url()
    .refine((v) => /^https?:\/\//i.test(v), 'must be an http:// or https:// URL')
    .optional(),
  /** A bearer token, with `endpoint` outside a cluster and without KUBECONFIG. */
  token: z.string().optional(),
  /** The CA of the API server (a file path), as `token`. */
  certAuthFilePath: z.string().optional(),
  /** Namespaces to watch; empty = all. */
  namespaces: z.array(z.string().min(1)).default([]),
  /** A label selector for the provider's own resources (`app=traefik`). */
  labelSelector: z.string().default(''),
  /** Waits this long after a change before building (0 = at once); providersThrottleDuration applies too. */
  throttleDuration: duration.default(0),
  allowEmptyServices: z.boolean().default(false),
  allowExternalNameServices: z.boolean().default(false),
};

/** `providers.kubernetesCRD` (pkg/provider/kubernetes/crd). */
export const kubernetesCrdProviderSchema = strictObject({
  ...kubeBase,
  ingressClass: z.string().default(''),
  allowCrossNamespace: z.boolean().default(false),
  /** A route service without `nativeLB` uses the Service's cluster IP, not its endpoints. */
  nativeLBByDefault: z.boolean().default(false),
  /** No cluster-scoped objects are watched (Nodes): nodePortLB services are refused. */
  disableClusterScopeResources: z.boolean().default(false),
  /**
   * Traefik's crossProviderNamespaces (v3.7.1, v3.6.17): absent, any IngressRoute(TCP),
   * Middleware or TraefikService may name another provider's object (`name@provider`); set,
   * only those of the namespaces listed (empty: none).
   */
  crossProviderNamespaces: z.array(z.string()).optional(),
});

/** `providers.kubernetesIngress` (pkg/provider/kubernetes/ingress). */
export const kubernetesIngressProviderSchema = strictObject({
  ...kubeBase,
  /** Ingresses whose class (IngressClass name or the old annotation) is this; empty = Traefik's rules. */
  ingressClass: z.string().default(''),
  /** `Prefix` paths match whole segments only (`/p` and `/p/…`, not `/pp`). */
  strictPrefixMatching: z.boolean().default(false),
  /** A Service without the `service.nativelb` annotation is its cluster IP, not its endpoints. */
  nativeLBByDefault: z.boolean().default(false),
  /**
   * What the handled Ingresses' `status.loadBalancer.ingress` says (Traefik's EndpointIngress):
   * `ip` and/or `hostname`, or `publishedService` (`namespace/name`), whose own load-balancer
   * status is copied.
   */
  ingressEndpoint: nullAsEmpty(
    strictObject({
      ip: z.string().default(''),
      hostname: z.string().default(''),
      publishedService: z.string().default(''),
    }),
  ).optional(),
  /** IngressClasses are not read: an Ingress naming a class (`ingressClassName`) is not handled. */
  disableIngressClassLookup: z.boolean().default(false),
  /** No cluster-scoped objects are watched (IngressClasses, Nodes). */
  disableClusterScopeResources: z.boolean().default(false),
  /**
   * Traefik's crossProviderNamespaces (v3.7.1): absent, any Ingress may name another provider's
   * object in its annotations (`name@provider`); set, only the Ingresses of these namespaces.
   */
  crossProviderNamespaces: z.array(z.string()).optional(),
});

/**
 * `providers.kubernetesIngressNGINX` (pkg/provider/kubernetes/ingress-nginx): Ingresses written for
 * ingress-nginx, their `nginx.ingress.kubernetes.io/*` annotations read as Traefik reads them.
 * Defaults are Traefik's SetDefaults (ingress-nginx's own defaults).
 */
export const kubernetesIngressNginxProviderSchema = strictObject({
  endpoint: kubeBase.endpoint,
  /** The bearer token, or the path of a file holding it (Traefik's FileOrContent). */
  token: kubeBase.token,
  certAuthFilePath: kubeBase.certAuthFilePath,
  throttleDuration: kubeBase.throttleDuration,
  /** The one namespace watched; empty = all. */
  watchNamespace: z.string().default(''),
  /** A label selector: the namespaces watched are those it selects (all objects are listed, then kept by namespace). */
  watchNamespaceSelector: z.string().default(''),
  /** Ingresses whose `kubernetes.io/ingress.class` annotation is this (ingress-nginx's `--ingress-class`). */
  ingressClass: z.string().default('nginx'),
  /** IngressClasses whose controller is this are ours (ingress-nginx's `--controller-class`). */
  controllerClass: z.string().default('k8s.io/ingress-nginx'),
  /** Ingresses with neither a class name nor the annotation are handled too. */
  watchIngressWithoutClass: z.boolean().default(false),
  /** An IngressClass named `ingressClass` is ours whatever its controller. */
  ingressClassByName: z.boolean().default(false),
  /** `namespace/name` of the Service in front of the proxy: its addresses go to the Ingresses' status. */
  publishService: z.string().default(''),
  /** Addresses (IPs or host names) for the Ingresses' status, instead of publishService's. */
  publishStatusAddress: z.array(z.string().min(1)).default([]),
  /** `namespace/name`: the catch-all Service (the routers `default-backend` and `default-backend-tls`). */
  defaultBackendService: z
    .string()
    .default('')
    .refine((v) => v === '' || v.split('/').length === 2, "expected 'namespace/name'"),
  disableSvcExternalName: z.boolean().default(false),
  /* ingress-nginx's ConfigMap options, Traefik's names and defaults. */
  proxyRequestBuffering: z.boolean().default(false),
  clientBodyBufferSize: z
    .number()
    .int()
    .default(16 * 1024),
  proxyBodySize: z
    .number()
    .int()
    .default(1024 * 1024),
  proxyBuffering: z.boolean().default(false),
  proxyBufferSize: z
    .number()
    .int()
    .default(8 * 1024),
  proxyBuffersNumber: z.number().int().default(4),
  /** Seconds (unitless, as ingress-nginx): the servers transport's dial timeout. */
  proxyConnectTimeout: z.number().int().default(60),
  /** Seconds: the servers transports' readTimeout (proxy-read-timeout's default; Traefik v3.8). */
  proxyReadTimeout: z.number().int().default(60),
  /** Seconds: the servers transports' writeTimeout (proxy-send-timeout's default; Traefik v3.8). */
  proxySendTimeout: z.number().int().default(60),
  /** When to try another server: `error timeout http_502 … non_idempotent`, or `off`. */
  proxyNextUpstream: z.string().default('error timeout'),
  proxyNextUpstreamTries: z.number().int().default(3),
  /** Seconds; 0 = no limit. */
  proxyNextUpstreamTimeout: z.number().int().default(0),
  /** Statuses answered by the default backend (`customHTTPErrors` annotation's default). */
  customHTTPErrors: z.array(z.string().min(1)).default([]),
  /** Seconds: the servers transport's idle connection timeout. */
  upstreamKeepaliveTimeout: z.number().int().default(60),
  /** Annotations may name Secrets in other namespaces (auth-secret, proxy-ssl-secret, auth-tls-secret). */
  allowCrossNamespaceResources: z.boolean().default(false),
  /** Header names the `custom-headers` ConfigMaps may set. */
  globalAllowedResponseHeaders: z.array(z.string()).default([]),
  /** The auth-url of every Ingress without one (and without `enable-global-auth: "false"`). */
  globalAuthURL: z.string().default(''),
  /** Ingresses with `*-snippet` annotations are refused unless this is on (then interpreted: middleware/snippet). */
  allowSnippetAnnotations: z.boolean().default(false),
  /** The entry point of the HTTP routers; empty = every entry point without `http.tls`. */
  httpEntryPoint: z.string().default(''),
  /** The entry point of the HTTPS routers; empty = every entry point. */
  httpsEntryPoint: z.string().default(''),
  /** An Ingress with a regex character in a `Prefix` or `Exact` path is refused whole. */
  strictValidatePathType: z.boolean().default(true),
  /**
   * Traefik v3.7's ipAllowListStrategy (PR #12932): the client address the `allowlist-source-range`
   * and `whitelist-source-range` annotations check, as the ipAllowList middleware's ipStrategy;
   * absent = the peer address. Its values are checked with the middleware's.
   */
  ipAllowListStrategy: nullAsEmpty(
    strictObject({
      depth: z.number().int().optional(),
      excludedIPs: z.array(z.string()).optional(),
      ipv6Subnet: z.number().int().optional(),
    }),
  ).optional(),
}).superRefine((v, ctx) => {
  // Traefik's validateKubernetesProviders.
  if (v.watchNamespace !== '' && v.watchNamespaceSelector !== '')
    ctx.addIssue({
      code: 'custom',
      message: 'watchNamespace and watchNamespaceSelector options are mutually exclusive',
      path: ['watchNamespaceSelector'],
    });
});

/** Traefik's knative ServiceRef: the Service that exposes the proxy (for the Ingress status). */
const knativeServiceRef = strictObject({ name: z.string().default(''), namespace: z.string().default('') });

/**
 * `providers.knative` (pkg/provider/kubernetes/knative, behind `experimental.knative`): the
 * API access, namespaces, labelSelector and throttleDuration of the other Kubernetes providers
 * (not their service options: Knative's backends are always cluster IPs), the entry points of
 * public and of cluster-local rules, and the Services written in the Ingresses' status.
 */
export const knativeProviderSchema = strictObject({
  endpoint: kubeBase.endpoint,
  token: kubeBase.token,
  certAuthFilePath: kubeBase.certAuthFilePath,
  namespaces: kubeBase.namespaces,
  labelSelector: kubeBase.labelSelector,
  throttleDuration: kubeBase.throttleDuration,
  /** Entry points of `ExternalIP` rules; empty = every default entry point. */
  publicEntrypoints: z.array(z.string().min(1)).default([]),
  publicService: nullAsEmpty(knativeServiceRef).optional(),
  /** Entry points of `ClusterLocal` rules; empty = such rules are not routed. */
  privateEntrypoints: z.array(z.string().min(1)).default([]),
  privateService: nullAsEmpty(knativeServiceRef).optional(),
});

/** `providers.kubernetesGateway` (pkg/provider/kubernetes/gateway). */
export const kubernetesGatewayProviderSchema = strictObject(
  {
    ...kubeBase,
    /** A backend Service without the `traefik.io/service.nativelb` annotation is its cluster IP. */
    nativeLBByDefault: z.boolean().default(false),
    /**
     * Every handled Gateway's `status.addresses`: `ip`, else `hostname`, else the load-balancer
     * addresses of the Service `service` (name and namespace) (Traefik's StatusAddress).
     */
    statusAddress: nullAsEmpty(
      strictObject({
        ip: z.string().default(''),
        hostname: z.string().default(''),
        service: nullAsEmpty(
          strictObject({ name: z.string().default(''), namespace: z.string().default('') }),
        ).default({ name: '', namespace: '' }),
      }),
    ).optional(),
    /**
     * Traefik's experimentalChannel: accepted; since Traefik v3.8 (Gateway API v1.6.1, TCPRoute
     * Standard) it enables no resource (TCPRoutes, TLSRoutes and BackendTLSPolicies are read at
     * `v1` without it).
     */
    experimentalChannel: z.boolean().default(false),
    /**
     * The API client's rate limit (Traefik's defaults 50 and 100): accepted; the provider makes
     * one list and one watch per kind, far below it.
     */
    qps: z.number().int().default(50),
    burst: z.number().int().default(100),
    /**
     * Traefik's crossProviderNamespaces: absent, every route may name another provider's
     * TraefikService (`name@provider`, `api@internal`); set, only routes of these namespaces.
     */
    crossProviderNamespaces: z.array(z.string()).optional(),
    /**
     * Traefik's gateways: only these Gateways (`namespace/name`, or `{namespace, name}`) are
     * handled; the others get no configuration and no status. Empty: every Gateway.
     */
    gateways: z
      .array(
        z.union([
          z.string().regex(/^[^/]+\/[^/]+$/, 'must be namespace/name'),
          strictObject({ namespace: z.string().min(1), name: z.string().min(1) }),
        ]),
      )
      .transform((list) => list.map((g) => (typeof g === 'string' ? g : `${g.namespace}/${g.name}`)))
      .default([]),
    /** Traefik's gatewayClasses: only the Gateways of these (our) GatewayClasses. Empty: all ours. */
    gatewayClasses: z.array(z.string().min(1)).default([]),
    /** Traefik's disableGatewayClassStatus: our GatewayClasses' status is left to another writer. */
    disableGatewayClassStatus: z.boolean().default(false),
  },
  // Traefik's per-Gateway address isolation (its reference page: each Gateway's routers get a DstIP
  // matcher for the IP of a Service provisioned for it): not done, this proxy has no DstIP matcher.
  ['gatewayIsolation'],
);

/** `providers.consulCatalog` (pkg/provider/consulcatalog). */
export const consulCatalogProviderSchema = strictObject(
  {
    /** The tag prefix: `traefik.http.routers.x.rule=…`. */
    prefix: z.string().min(1).default('traefik'),
    refreshInterval: positive.default(15_000),
    /** Blocking queries on the catalog (X-Consul-Index) instead of polling every refreshInterval. */
    watch: z.boolean().default(false),
    exposedByDefault: z.boolean().default(true),
    defaultRule: z.string().min(1).default(DEFAULT_RULE),
    constraints: z.string().default(''),
    /** Health states an instance may be in to be routed. */
    strictChecks: z
      .array(z.enum(['passing', 'warning', 'critical', 'maintenance']))
      .default(['passing', 'warning']),
    allowEmptyServices: z.boolean().default(false),
    /**
     * Consul Connect (Traefik's keys): services tagged `<prefix>.consulcatalog.connect=true` (or
     * all, with connectByDefault) are reached through their sidecar or Connect-native instances
     * over mTLS, with the leaf certificate of `serviceName` (the proxy's own Connect identity).
     */
    connectAware: z.boolean().default(false),
    connectByDefault: z.boolean().default(false),
    serviceName: z.string().min(1).default('traefik'),
    endpoint: nullAsEmpty(
      strictObject(
        {
          address: z.string().min(1).default('127.0.0.1:8500'),
          scheme: z.enum(['http', 'https']).default('http'),
          token: z.string().optional(),
          datacenter: z.string().optional(),
          tls: nullAsEmpty(clientTls).optional(),
        },
        ['endpointWaitTime', 'httpAuth'],
      ),
    ).prefault({}),
  },
  ['cache', 'requireConsistent', 'stale', 'namespaces'],
  { removed: { namespace: REMOVED_NAMESPACE } },
);

/**
 * `providers.nomad` (pkg/provider/nomad/nomad.go, Configuration and ProviderBuilder). The
 * endpoint's unset keys come from Nomad's environment, as Traefik's SetDefaults reads it through
 * api.DefaultConfig (NOMAD_ADDR, NOMAD_REGION, NOMAD_TOKEN, NOMAD_CACERT…): resolved by the
 * provider, so they stay optional here.
 */
export const nomadProviderSchema = strictObject(
  {
    defaultRule: z.string().min(1).default(DEFAULT_RULE),
    /** Matched against the service's tags (``Tag``, ``TagRegex``). */
    constraints: z.string().default(''),
    /** The tag prefix: `traefik.http.routers.x.rule=…`. */
    prefix: z.string().min(1).default('traefik'),
    /** Reads may be answered by any server (`?stale`), not only the leader. */
    stale: z.boolean().default(false),
    exposedByDefault: z.boolean().default(true),
    refreshInterval: positive.default(15_000),
    /** Services of task groups scaled to zero stay, without servers (503); reads the jobs. */
    allowEmptyServices: z.boolean().default(false),
    /** Nomad's event stream (topic Service) instead of polling every refreshInterval. */
    watch: z.boolean().default(false),
    /** With watch: after an update, the next waits this long (Traefik's error without watch). */
    throttleDuration: duration.default(0),
    /** One provider per namespace, named `nomad-<namespace>`; none = the token's default. */
    namespaces: z.array(z.string().min(1)).default([]),
    endpoint: nullAsEmpty(
      strictObject({
        /** With its scheme: `http://127.0.0.1:4646` (NOMAD_ADDR, else that). */
        address: z.string().min(1).optional(),
        region: z.string().optional(),
        /** Sent as `X-Nomad-Token`. */
        token: z.string().optional(),
        tls: nullAsEmpty(clientTls).optional(),
        /** The `wait` of each query (Nomad's blocking-query limit); 0 = the agent's. */
        endpointWaitTime: duration.default(0),
      }),
    ).prefault({}),
  },
  [],
  { removed: { namespace: REMOVED_NAMESPACE } },
);

/**
 * `providers.ecs` (pkg/provider/ecs/ecs.go, Provider and SetDefaults). Without `region`, the
 * region of the environment (AWS_REGION, AWS_DEFAULT_REGION), else the EC2 instance metadata's;
 * without both keys, the default AWS credential chain (ecs-credentials.ts).
 */
export const ecsProviderSchema = strictObject({
  /** Matched against the container definition's docker labels. */
  constraints: z.string().default(''),
  exposedByDefault: z.boolean().default(true),
  /** Seconds between two reads of the clusters (an int, as Traefik's). */
  refreshSeconds: z.number().int().positive().default(15),
  defaultRule: z.string().min(1).default(DEFAULT_RULE),
  clusters: z.array(z.string().min(1)).default(['default']),
  /** Every cluster of ListClusters instead of `clusters`. */
  autoDiscoverClusters: z.boolean().default(false),
  /** Only tasks whose health status is HEALTHY. */
  healthyTasksOnly: z.boolean().default(false),
  /** External instances (`mi-…`) found through SSM DescribeInstanceInformation. */
  ecsAnywhere: z.boolean().default(false),
  region: z.string().default(''),
  accessKeyID: z.string().default(''),
  secretAccessKey: z.string().default(''),
});

/** `providers.swarm` (pkg/provider/docker, swarm mode). */
export const swarmProviderSchema = strictObject(
  {
    endpoint: z.string().min(1).default('unix:///var/run/docker.sock'),
    exposedByDefault: z.boolean().default(true),
    network: z.string().default(''),
    defaultRule: z.string().min(1).default(DEFAULT_RULE),
    constraints: z.string().default(''),
    watch: z.boolean().default(true),
    allowEmptyServices: z.boolean().default(false),
    /**
     * Traefik's, as it embeds the Docker provider's Shared options in the Swarm provider
     * (pkg/provider/docker/pswarm.go SwarmProvider): a swarm task has no port bindings, so
     * Traefik's getIPPort finds none and falls back on the task's own address and port (an info
     * line per task); the servers are the same either way.
     */
    useBindPortIP: z.boolean().default(false),
    /** Swarm has no events for tasks: services and tasks are read again this often. */
    refreshSeconds: duration.default(15_000),
    httpClientTimeout: duration.default(0),
    tls: nullAsEmpty(clientTls).optional(),
    /** HTTP Basic authentication to the endpoint, sent when both are set (Traefik's createClient). */
    username: z.string().default(''),
    password: z.string().default(''),
  },
  ['password_file'],
);

export const PROVIDER_THROTTLE_DEFAULT_MS = 2_000;

/**
 * Traefik v3.7's `providers.precedence` default (pkg/config/static/static_config.go
 * providerNames, traefik/traefik#12895): the order in which routers of equal priority from
 * different providers are tried, first listed first.
 */
export const PROVIDER_PRECEDENCE_DEFAULT: readonly string[] = [
  'kubernetesgateway',
  'kubernetescrd',
  'kubernetes',
  'kubernetesingressnginx',
  'swarm',
  'docker',
  'file',
  'redis',
  'knative',
  'consul',
  'consulcatalog',
  'nomad',
  'etcd',
  'ecs',
  'http',
  'zookeeper',
  'rest',
];

/**
 * `providers.precedence` (Traefik v3.7): provider names, matched without case (Traefik lowercases
 * them), each one of Traefik's (another fails the configuration, as Traefik's
 * ValidateConfiguration does); absent or empty, the default order.
 */
export const providerPrecedence = z
  .array(z.string())
  .transform((names, ctx): string[] => {
    const lower = names.map((n) => n.toLowerCase());
    lower.forEach((n, i) => {
      if (!PROVIDER_PRECEDENCE_DEFAULT.includes(n))
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `unknown provider \`${names[i]}\` (expected one of ${PROVIDER_PRECEDENCE_DEFAULT.join(', ')})`,
        });
    });
    return lower.length === 0 ? [...PROVIDER_PRECEDENCE_DEFAULT] : lower;
  })
  .default([...PROVIDER_PRECEDENCE_DEFAULT]);

export type ClientTlsConfig = z.output<typeof clientTls>;
export type HttpProviderConfig = z.output<typeof httpProviderSchema>;
export type EtcdProviderConfig = z.output<typeof etcdProviderSchema>;
export type RedisProviderConfig = z.output<typeof redisProviderSchema>;
export type ConsulProviderConfig = z.output<typeof consulProviderSchema>;
export type DockerProviderConfig = z.output<typeof dockerProviderSchema>;
export type KubernetesCrdProviderConfig = z.output<typeof kubernetesCrdProviderSchema>;
export type KubernetesIngressProviderConfig = z.output<typeof kubernetesIngressProviderSchema>;
export type KubernetesIngressNginxProviderConfig = z.output<typeof kubernetesIngressNginxProviderSchema>;
export type KubernetesGatewayProviderConfig = z.output<typeof kubernetesGatewayProviderSchema>;
export type KnativeProviderConfig = z.output<typeof knativeProviderSchema>;
export type ConsulCatalogProviderConfig = z.output<typeof consulCatalogProviderSchema>;
export type EcsProviderConfig = z.output<typeof ecsProviderSchema>;
export type NomadProviderConfig = z.output<typeof nomadProviderSchema>;
export type SwarmProviderConfig = z.output<typeof swarmProviderSchema>;
export type ZooKeeperProviderConfig = z.output<typeof zooKeeperProviderSchema>;
