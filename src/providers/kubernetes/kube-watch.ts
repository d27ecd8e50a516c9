import type { ProviderUpdate } from '../provider.ts';
import { sleep } from '../sleep.ts';
import { Informer, type KubeObject, type ResourceSpec } from './informer.ts';
import { type KubeAccess, KubeClient } from './kube-client.ts';

/**
 * The loop every Kubernetes provider runs (Traefik's WatchAll, then a rebuild per event): one
 * informer per resource; once every one has listed, `build` makes the first update from their
 * stores, then again after each change (after `throttleMs` when set; changes meanwhile are one
 * rebuild). An informer failing throws out of the loop: the supervisor restarts the provider.
 * A resource left out (a cluster-scoped kind an option turns off) is an empty list in `build`.
 */
export async function* watchKube<K extends string>(
  client: KubeClient,
  resources: { readonly [P in K]: ResourceSpec | undefined },
  namespaces: readonly string[],
  throttleMs: number,
  build: (items: Readonly<Record<K, KubeObject[]>>) => ProviderUpdate,
  outer: AbortSignal,
): AsyncGenerator<ProviderUpdate, void, undefined> {
  const ctl = new AbortController();
  const abort = (): void => ctl.abort();
  outer.addEventListener('abort', abort, { once: true });
  const signal = ctl.signal;
  try {
    const all = Object.keys(resources) as K[];
    const keys = all.filter((k) => resources[k] !== undefined);
    const informers = keys.map((k) => new Informer(client, resources[k]!, namespaces));
    let pendingLists = informers.length;
    let dirty = false;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const notify = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    for (const inf of informers) {
      inf
        .run(
          signal,
          () => {
            pendingLists--;
            notify();
          },
          () => {
            dirty = true;
            notify();
          },
        )
        .catch((e: unknown) => {
          failure ??= e;
          notify();
        });
    }
    const snapshot = (): Record<K, KubeObject[]> => {
      const out = {} as Record<K, KubeObject[]>;
      for (const k of all) out[k] = [];
      keys.forEach((k, i) => {
        out[k] = informers[i]!.items();
      });
      return out;
    };
    let first = true;
    while (!signal.aborted) {
      if (failure !== undefined) throw failure;
      if (pendingLists === 0 && (first || dirty)) {
        if (!first && throttleMs > 0 && !(await sleep(throttleMs, signal))) break;
        first = false;
        dirty = false;
        yield build(snapshot());
        continue;
      }
      await new Promise<void>((r) => {
        wake = r;
      });
    }
  } catch (e) {
    if (outer.aborted) return;
    throw e;
  } finally {
    outer.removeEventListener('abort', abort);
    ctl.abort();
  }
}

/**
 * watchKube for a provider's options: the client made from its API access (a failure to make
 * one throws, for the supervisor to restart the provider, unless already stopped), then `start`
 * with it (where a provider that writes statuses makes its writer) gives the build.
 */
export async function* watchKubeWith<K extends string>(
  cfg: KubeAccess & { readonly namespaces: readonly string[]; readonly throttleDuration: number },
  env: NodeJS.ProcessEnv,
  resources: { readonly [P in K]: ResourceSpec | undefined },
  start: (client: KubeClient) => (items: Readonly<Record<K, KubeObject[]>>) => ProviderUpdate,
  signal: AbortSignal,
): AsyncGenerator<ProviderUpdate, void, undefined> {
  let client: KubeClient;
  try {
    client = new KubeClient(cfg, env);
  } catch (e) {
    if (signal.aborted) return;
    throw e;
  }
  yield* watchKube(client, resources, cfg.namespaces, cfg.throttleDuration, start(client), signal);
}
