import type { Provider, ProviderUpdate } from '../providers/provider.ts';

/**
 * A provider whose every update waits for the plugins to be refreshed first: a plugin whose module
 * file changed is imported again before the configuration that follows is built, so plugins
 * reload with the configuration (and only then: a module saved alone waits for the next change).
 */
export function refreshingPlugins(provider: Provider, plugins: { refresh(): Promise<void> }): Provider {
  return {
    name: provider.name,
    ...(provider.wholeUpdates === true ? { wholeUpdates: true } : {}),
    async *watch(signal: AbortSignal): AsyncIterable<ProviderUpdate> {
      for await (const update of provider.watch(signal)) {
        await plugins.refresh();
        yield update;
      }
    },
  };
}
