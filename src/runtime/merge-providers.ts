import { deepEqual } from '../config/dynamic/merge.ts';
import { addProviderLayer4 } from '../config/dynamic/merge-l4.ts';
import type { DynamicConfig } from '../config/dynamic/schema.ts';
import { emptyDynamicConfig } from '../config/dynamic/sections.ts';
import type { ConfigIssue } from '../config/issues.ts';

/**
 * Qualifies every object name with its provider and merges all providers into one config.
 * TLS options and stores are global names (`default`): two providers giving one of them
 * different contents is an error pushed to `issues` (Traefik logs it and drops the object; we
 * refuse the update and keep serving the last good configuration).
 */
export function mergeProviders(
  byProvider: ReadonlyMap<string, DynamicConfig>,
  issues: ConfigIssue[] = [],
): DynamicConfig {
  const out = emptyDynamicConfig();
  const owners = new Map<string, string>();
  const conflict = (part: 'options' | 'stores', name: string, provider: string): void => {
    issues.push({
      severity: 'error',
      message: `TLS ${part === 'options' ? 'options' : 'store'} \`${name}\` is defined by providers ${owners.get(`${part}/${name}`)} and ${provider} with different contents: define it in one provider`,
      path: ['tls', part, name],
    });
  };
  for (const [provider, cfg] of byProvider) {
    const sections = ['routers', 'services', 'middlewares', 'serversTransports'] as const;
    for (const section of sections) {
      const src = cfg.http[section] as Record<string, unknown>;
      const dst = out.http[section] as Record<string, unknown>;
      // Every name gets its provider, `@` in it or not, as Traefik's mergeConfiguration
      // (pkg/server/aggregator.go MakeQualifiedName): `r@x` of docker is `r@x@docker`.
      for (const [name, value] of Object.entries(src)) dst[`${name}@${provider}`] = value;
    }
    addProviderLayer4(out, cfg, provider);
    // TLS: certificates from every provider; options qualified like other objects except
    // `default`, which is the one global set (Traefik's rule); stores merged by name.
    const tls = cfg.tls;
    out.tls.certificates.push(...tls.certificates);
    for (const [name, opts] of Object.entries(tls.options)) {
      const key = name === 'default' ? name : `${name}@${provider}`;
      if (!Object.hasOwn(out.tls.options, key)) {
        out.tls.options[key] = opts;
        owners.set(`options/${key}`, provider);
      } else if (!deepEqual(out.tls.options[key], opts)) conflict('options', key, provider);
    }
    for (const [name, store] of Object.entries(tls.stores)) {
      if (!Object.hasOwn(out.tls.stores, name)) {
        out.tls.stores[name] = store;
        owners.set(`stores/${name}`, provider);
      } else if (!deepEqual(out.tls.stores[name], store)) conflict('stores', name, provider);
    }
  }
  return out;
}
