import type { StaticConfig } from '../config/static/schema.ts';
import type { Logger } from '../core/logger.ts';
import type { ProviderValidation } from './dynamic-data.ts';
import type { KvStore } from './kv/kv-provider.ts';
import type { Provider } from './provider.ts';

/** What the composition root gives every dynamic provider. */
export interface ProviderSetup {
  readonly logger: Logger;
  readonly validation: ProviderValidation;
  /** Entry point name → the port of its configured address (Gateway listeners pick by port). */
  readonly entryPointPorts?: Readonly<Record<string, number>>;
  /** The entry points without `http.tls` (the Gateway API provider's listeners use them). */
  readonly nonTlsEntryPoints?: readonly string[];
  /**
   * The Ingress NGINX provider's HTTP entry points (static/tls-entry-points.ts
   * ingressNginxNonTlsEntryPoints: without TLS, not `traefik`, the asDefault ones if any).
   */
  readonly nginxNonTlsEntryPoints?: readonly string[];
}

type ProvidersConfig = StaticConfig['providers'];

/**
 * The one list of dynamic providers (besides `file` and the admin API's `api`): the static key
 * that enables each, and how to make it. A provider's module is imported only when enabled, so a
 * proxy without it pays nothing for it. Adding a provider: one folder implementing `Provider`,
 * one entry here, its schema in config/static/providers.ts, and its harness for the contract
 * suite (provider.contract.ts).
 */
const KINDS: readonly {
  readonly key: keyof ProvidersConfig;
  /** Traefik's provider name when it is not the key in lowercase (`@kubernetes`). */
  readonly name?: string;
  /** Traefik's provider names when the key makes several (nomad: one per namespace). */
  names?(config: ProvidersConfig): string[];
  create(config: ProvidersConfig, setup: ProviderSetup): Promise<Provider | Provider[]> | undefined;
}[] = [
  {
    key: 'http',
    create: (c, s) => {
      const o = c.http;
      return o === undefined
        ? undefined
        : import('./http/index.ts').then((m) => new m.HttpProvider(o, s.validation, s.logger));
    },
  },
  {
    key: 'etcd',
    create: (c, s) => {
      const o = c.etcd;
      return o === undefined
        ? undefined
        : kv(
            'etcd',
            o.rootKey,
            s,
            import('./etcd/index.ts').then((m) => new m.EtcdStore(o)),
          );
    },
  },
  {
    key: 'redis',
    create: (c, s) => {
      const o = c.redis;
      return o === undefined
        ? undefined
        : kv(
            'redis',
            o.rootKey,
            s,
            import('./redis/index.ts').then((m) => new m.RedisStore(o)),
          );
    },
  },
  {
    key: 'consul',
    create: (c, s) => {
      const o = c.consul;
      return o === undefined
        ? undefined
        : kv(
            'consul',
            o.rootKey,
            s,
            import('./consul/index.ts').then((m) => new m.ConsulStore(o)),
          );
    },
  },
  {
    key: 'zooKeeper',
    create: (c, s) => {
      const o = c.zooKeeper;
      return o === undefined
        ? undefined
        : kv(
            'zookeeper',
            o.rootKey,
            s,
            import('./zookeeper/index.ts').then((m) => new m.ZooKeeperStore(o)),
          );
    },
  },
  {
    key: 'docker',
    create: (c, s) => {
      const o = c.docker;
      return o === undefined
        ? undefined
        : import('./docker/index.ts').then((m) => new m.DockerProvider(o, s.validation));
    },
  },
  {
    key: 'swarm',
    create: (c, s) => {
      const o = c.swarm;
      return o === undefined
        ? undefined
        : import('./swarm/index.ts').then((m) => new m.SwarmProvider(o, s.validation));
    },
  },
  {
    key: 'kubernetesCRD',
    create: (c, s) => {
      const o = c.kubernetesCRD;
      return o === undefined
        ? undefined
        : import('./kubernetes/index.ts').then((m) => new m.KubernetesCrdProvider(o, s.validation));
    },
  },
  {
    key: 'kubernetesIngress',
    name: 'kubernetes',
    create: (c, s) => {
      const o = c.kubernetesIngress;
      return o === undefined
        ? undefined
        : import('./kubernetes/index.ts').then((m) => new m.KubernetesIngressProvider(o, s.validation));
    },
  },
  {
    key: 'kubernetesIngressNGINX',
    create: (c, s) => {
      const o = c.kubernetesIngressNGINX;
      return o === undefined
        ? undefined
        : import('./kubernetes/index.ts').then((m) =>
            m.kubernetesIngressNginxProvider(o, s.validation, s.nginxNonTlsEntryPoints ?? []),
          );
    },
  },
  {
    key: 'consulCatalog',
    create: (c, s) => {
      const o = c.consulCatalog;
      return o === undefined
        ? undefined
        : import('./consul-catalog/index.ts').then((m) => new m.ConsulCatalogProvider(o, s.validation));
    },
  },
  {
    key: 'nomad',
    // Traefik's ProviderBuilder.BuildProviders: `nomad`, or `nomad-<namespace>` per namespace.
    names: (c) => {
      const ns = c.nomad?.namespaces ?? [];
      return ns.length === 0 ? ['nomad'] : ns.map((n) => `nomad-${n}`);
    },
    create: (c, s) => {
      const o = c.nomad;
      return o === undefined
        ? undefined
        : import('./nomad/index.ts').then((m) =>
            o.namespaces.length === 0
              ? new m.NomadProvider(o, s.validation)
              : o.namespaces.map((n) => new m.NomadProvider(o, s.validation, n)),
          );
    },
  },
  {
    key: 'ecs',
    create: (c, s) => {
      const o = c.ecs;
      return o === undefined
        ? undefined
        : import('./ecs/index.ts').then((m) => new m.EcsProvider(o, s.validation));
    },
  },
  {
    key: 'kubernetesGateway',
    create: (c, s) => {
      const o = c.kubernetesGateway;
      return o === undefined
        ? undefined
        : import('./kubernetes/index.ts').then(
            (m) =>
              new m.KubernetesGatewayProvider(
                o,
                s.validation,
                s.entryPointPorts ?? {},
                process.env,
                s.nonTlsEntryPoints,
                // Traefik's FillExtensionBuilderRegistry: the CRD provider's Middlewares and
                // TraefikServices, only when it is configured (and in its namespaces).
                c.kubernetesCRD === undefined ? null : { namespaces: c.kubernetesCRD.namespaces },
              ),
          );
    },
  },
  {
    key: 'knative',
    create: (c, s) => {
      const o = c.knative;
      return o === undefined
        ? undefined
        : import('./kubernetes/index.ts').then((m) => new m.KnativeProvider(o, s.validation));
    },
  },
];

/** A KV provider over `store`, with Traefik's key layout under `rootKey`. */
async function kv(
  name: string,
  rootKey: string,
  s: ProviderSetup,
  store: Promise<KvStore>,
): Promise<Provider> {
  const { KvProvider } = await import('./kv/kv-provider.ts');
  return new KvProvider(name, await store, rootKey, s.validation);
}

/** The names of the dynamic providers the static configuration enables, in the registry's order. */
export function dynamicProviderNames(config: ProvidersConfig): string[] {
  // Traefik's provider names are lowercase (`@kubernetescrd`).
  return KINDS.filter((k) => config[k.key] !== undefined).flatMap(
    (k) => k.names?.(config) ?? [k.name ?? String(k.key).toLowerCase()],
  );
}

export async function createDynamicProviders(
  config: ProvidersConfig,
  setup: ProviderSetup,
): Promise<Provider[]> {
  const made: Provider[] = [];
  for (const k of KINDS) {
    const p = k.create(config, setup);
    if (p !== undefined) made.push(...[await p].flat());
  }
  return made;
}
