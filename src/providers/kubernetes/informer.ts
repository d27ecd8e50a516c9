import { EngineError, lines } from '../engine-client.ts';
import type { KubeClient } from './kube-client.ts';

/** The part of a Kubernetes object every kind has. */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly spec?: unknown;
}

interface ListJson {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly items?: KubeObject[];
}

interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: KubeObject & { readonly code?: number; readonly message?: string };
}

/** One resource to follow: `/apis/traefik.io/v1alpha1` + `ingressroutes`. */
export interface ResourceSpec {
  /** `/api/v1` or `/apis/<group>/<version>`. */
  readonly prefix: string;
  readonly plural: string;
  readonly labelSelector?: string;
  /** Not namespaced (IngressClass, GatewayClass): always listed whole. */
  readonly clusterScoped?: boolean;
}

/**
 * What the CRD, Ingress and Gateway providers follow besides their own kinds, as Traefik's
 * clients: Services, Secrets without Helm's release secrets (`owner!=helm`: they are large and
 * never certificates) and EndpointSlices (`discovery.k8s.io/v1`).
 */
export const SERVICE_RESOURCES = {
  services: { prefix: '/api/v1', plural: 'services' },
  secrets: { prefix: '/api/v1', plural: 'secrets', labelSelector: 'owner!=helm' },
  endpointSlices: { prefix: '/apis/discovery.k8s.io/v1', plural: 'endpointslices' },
} as const satisfies Record<string, ResourceSpec>;

/** Nodes (cluster-scoped), for nodePortLB. */
export const NODES: ResourceSpec = { prefix: '/api/v1', plural: 'nodes', clusterScoped: true };

/**
 * client-go's reflector, for one resource and namespace list: list, then watch from the list's
 * resourceVersion; each event updates the local store and calls `changed`. A watch the server
 * ends (they time out) is started again from the last resourceVersion seen; a 410 Gone (the
 * version was compacted) lists again. Anything else fails: the provider restarts.
 */
export class Informer {
  readonly #client: KubeClient;
  readonly #spec: ResourceSpec;
  readonly #namespaces: readonly string[];
  readonly store = new Map<string, KubeObject>();
  /** Lists made (the first and every re-list after a 410). */
  lists = 0;

  constructor(client: KubeClient, spec: ResourceSpec, namespaces: readonly string[]) {
    this.#client = client;
    this.#spec = spec;
    this.#namespaces = namespaces;
  }

  /** Every object of the resource, in any watched namespace. */
  items(): KubeObject[] {
    return [...this.store.values()];
  }

  /** Lists every namespace (the first state), then follows them until `signal` aborts or a failure. */
  async run(signal: AbortSignal, listed: () => void, changed: () => void): Promise<void> {
    const scopes =
      this.#namespaces.length === 0 || this.#spec.clusterScoped === true ? [undefined] : this.#namespaces;
    const versions = await Promise.all(scopes.map((ns) => this.#list(ns, signal)));
    listed();
    await Promise.all(scopes.map((ns, i) => this.#follow(ns, versions[i]!, signal, changed)));
  }

  #path(ns: string | undefined, query: Record<string, string>): string {
    const base = `${this.#spec.prefix}${ns === undefined ? '' : `/namespaces/${encodeURIComponent(ns)}`}/${this.#spec.plural}`;
    const q = new URLSearchParams(query);
    if (this.#spec.labelSelector !== undefined && this.#spec.labelSelector !== '')
      q.set('labelSelector', this.#spec.labelSelector);
    const text = q.toString();
    return text === '' ? base : `${base}?${text}`;
  }

  async #list(ns: string | undefined, signal: AbortSignal): Promise<string> {
    const list = await this.#client.getJson<ListJson>(this.#path(ns, {}), signal);
    this.lists++;
    for (const [k, o] of this.store)
      if (ns === undefined || o.metadata.namespace === ns) this.store.delete(k);
    for (const o of list.items ?? []) this.store.set(key(o), o);
    return list.metadata?.resourceVersion ?? '0';
  }

  async #follow(
    ns: string | undefined,
    from: string,
    signal: AbortSignal,
    changed: () => void,
  ): Promise<void> {
    let rv = from;
    while (!signal.aborted) {
      const res = await this.#client.stream(
        this.#path(ns, { watch: 'true', resourceVersion: rv, allowWatchBookmarks: 'true' }),
        signal,
      );
      let gone = false;
      for await (const line of lines(res)) {
        const e = JSON.parse(line) as WatchEvent;
        if (e.type === 'ERROR') {
          if (e.object.code === 410) {
            gone = true;
            break;
          }
          throw new EngineError(`kubernetes watch ${this.#spec.plural}: ${e.object.message ?? 'error'}`);
        }
        rv = e.object.metadata.resourceVersion ?? rv;
        if (e.type === 'BOOKMARK') continue;
        if (e.type === 'DELETED') this.store.delete(key(e.object));
        else this.store.set(key(e.object), e.object);
        changed();
      }
      res.destroy();
      if (gone && !signal.aborted) {
        // Compacted past our version: list again, and everything may have changed.
        rv = await this.#list(ns, signal);
        changed();
      }
    }
  }
}

function key(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}
