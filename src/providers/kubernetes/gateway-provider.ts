import type { KubernetesGatewayProviderConfig } from '../../config/static/providers.ts';
import type { ProviderValidation } from '../dynamic-data.ts';
import type { Provider, ProviderUpdate } from '../provider.ts';
import { gatewayConfig, gatewayUpdate } from './gateway-config.ts';
import type { CrdRegistry } from './gateway-filters.ts';
import { StatusWriter } from './gateway-status.ts';
import { SERVICE_RESOURCES } from './informer.ts';
import { runKubeProvider } from './kube-watch.ts';

/**
 * Traefik's Gateway API provider (pkg/provider/kubernetes/gateway): GatewayClasses, Gateways,
 * HTTPRoutes, GRPCRoutes, TLSRoutes, TCPRoutes, BackendTLSPolicies and ListenerSets (`gateway.networking.k8s.io/v1`,
 * the Gateway API v1.6.1 Standard CRDs Traefik v3.8 requires), ReferenceGrants (`v1`),
 * ConfigMaps, Services, Secrets and EndpointSlices, followed by informers. Objects are `name@kubernetesgateway`. After each build
 * the statuses of our GatewayClasses, Gateways and HTTPRoutes are written back (StatusWriter:
 * only those that changed); a failed write is reported with the next build.
 */
export class KubernetesGatewayProvider implements Provider {
  readonly name = 'kubernetesgateway';
  readonly #cfg: KubernetesGatewayProviderConfig;
  readonly #validation: ProviderValidation;
  readonly #ports: Readonly<Record<string, number>>;
  readonly #env: NodeJS.ProcessEnv;
  readonly #httpTls: readonly string[];
  readonly #crd: CrdRegistry | undefined;

  constructor(
    cfg: KubernetesGatewayProviderConfig,
    validation: ProviderValidation,
    entryPointPorts: Readonly<Record<string, number>>,
    env: NodeJS.ProcessEnv = process.env,
    nonTlsEntryPoints?: readonly string[],
    crd?: CrdRegistry,
  ) {
    this.#crd = crd;
    this.#cfg = cfg;
    this.#validation = validation;
    this.#ports = entryPointPorts;
    this.#env = env;
    // Traefik's Entrypoint.HasHTTPTLSConf: the entry points with `http.tls`.
    this.#httpTls =
      nonTlsEntryPoints === undefined
        ? []
        : Object.keys(entryPointPorts).filter((n) => !nonTlsEntryPoints.includes(n));
  }

  watch(signal: AbortSignal): AsyncIterable<ProviderUpdate> {
    return this.#run(signal);
  }

  async *#run(signal: AbortSignal): AsyncGenerator<ProviderUpdate, void, undefined> {
    const cfg = this.#cfg;
    const gw = '/apis/gateway.networking.k8s.io/v1';
    const resources = {
      gatewayClasses: {
        prefix: gw,
        plural: 'gatewayclasses',
        clusterScoped: true,
        ...(cfg.labelSelector === '' ? {} : { labelSelector: cfg.labelSelector }),
      },
      gateways: { prefix: gw, plural: 'gateways' },
      httpRoutes: { prefix: gw, plural: 'httproutes' },
      grpcRoutes: { prefix: gw, plural: 'grpcroutes' },
      // `v1` (Standard since Gateway API v1.5; the v1.6.1 CRDs Traefik v3.8 requires serve it), as
      // Traefik's newest client lists them (GatewayV1().ReferenceGrants).
      referenceGrants: { prefix: gw, plural: 'referencegrants' },
      ...SERVICE_RESOURCES,
      // Traefik's client always follows every Namespace (cluster-scoped): their labels decide
      // the listeners' `allowedRoutes.namespaces.from: Selector`.
      namespaces: { prefix: '/api/v1', plural: 'namespaces', clusterScoped: true },
      // Traefik v3.8's client (WatchAll) watches these Standard kinds at `v1` whatever
      // experimentalChannel says (the v1.6.1 Standard CRDs no longer serve `v1alpha2`).
      tcpRoutes: { prefix: gw, plural: 'tcproutes' },
      tlsRoutes: { prefix: gw, plural: 'tlsroutes' },
      backendTLSPolicies: { prefix: gw, plural: 'backendtlspolicies' },
      // Traefik v3.8's client lists ListenerSets (`v1`, Standard since Gateway API v1.5).
      listenerSets: { prefix: gw, plural: 'listenersets' },
      // ConfigMaps hold the CAs of a Gateway's client certificate validation (spec.tls.frontend,
      // Gateway API v1.5 Standard) and of BackendTLSPolicies.
      configMaps: { prefix: '/api/v1', plural: 'configmaps' },
    };
    yield* runKubeProvider(
      cfg,
      this.#env,
      resources,
      cfg.namespaces,
      cfg.throttleDuration,
      (client) => {
        const writer = new StatusWriter(client, signal);
        return (items) => {
          const built = gatewayConfig(items, {
            ...cfg,
            entryPointPorts: this.#ports,
            httpTlsEntryPoints: this.#httpTls,
            ...(this.#crd === undefined ? {} : { crd: this.#crd }),
          });
          writer.submit(built.statuses);
          return gatewayUpdate(built, this.name, this.#validation, writer.takeFailures());
        };
      },
      signal,
    );
  }
}
