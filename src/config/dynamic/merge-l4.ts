import { type ConfigIssue, issue } from '../issues.ts';
import { noLocation } from '../locator.ts';
import type { DynamicSource } from './merge.ts';
import { deepEqual } from './merge.ts';
import type { ObjectRef } from './parse.ts';
import type { DynamicConfig, HttpSection } from './schema.ts';
import { TCP_SECTIONS, UDP_SECTIONS } from './sections.ts';

const SINGULAR: Record<string, string> = {
  routers: 'router',
  services: 'service',
  middlewares: 'middleware',
  serversTransports: 'serversTransport',
};

/**
 * The `tcp` and `udp` part of merging one provider's files (merge.ts does `http` and `tls`): a
 * name defined in two files is an error naming both, and the object is dropped, unless both
 * definitions are identical. `origin` keys are `tcp:routers/name`.
 */
export function mergeLayer4(
  src: DynamicSource,
  index: number,
  config: DynamicConfig,
  origin: Map<string, number>,
  conflicted: Set<string>,
  disabled: ObjectRef[],
  issues: ConfigIssue[],
): void {
  for (const kind of ['tcp', 'udp'] as const) {
    const from = src.config[kind] as Record<string, Record<string, unknown>> | undefined;
    if (from === undefined) continue;
    const sections: readonly HttpSection[] = kind === 'tcp' ? TCP_SECTIONS : UDP_SECTIONS;
    let into = config[kind] as Record<string, Record<string, unknown>> | undefined;
    if (into === undefined) {
      into = Object.fromEntries(sections.map((s) => [s, {}]));
      (config as { [k: string]: unknown })[kind] = into;
    }
    for (const section of sections) {
      const target = into[section]!;
      for (const [name, value] of Object.entries(from[section] ?? {})) {
        const key = `${kind}:${section}/${name}`;
        const firstIndex = origin.get(key);
        if (firstIndex === undefined) {
          origin.set(key, index);
          target[name] = value;
          continue;
        }
        if (!conflicted.has(key) && Object.hasOwn(target, name) && deepEqual(target[name], value)) continue;
        const { exact: _, ...where } = (src.locate ?? noLocation)([kind, section, name], 'key');
        const message = `${kind} ${SINGULAR[section]} \`${name}\` is defined in two files with different configurations`;
        issues.push(issue('error', message, [kind, section, name], { file: src.file, ...where }));
        if (!conflicted.has(key)) {
          conflicted.add(key);
          delete target[name];
          disabled.push({ kind, section, name });
        }
      }
    }
  }
}

/**
 * Across providers (runtime/config-watcher mergeProviders): the `tcp` and `udp` objects of
 * `from`, their names qualified `name@provider`, added to `into`.
 */
export function addProviderLayer4(into: DynamicConfig, from: DynamicConfig, provider: string): void {
  for (const kind of ['tcp', 'udp'] as const) {
    const src = from[kind] as Record<string, Record<string, unknown>> | undefined;
    if (src === undefined) continue;
    const sections: readonly HttpSection[] = kind === 'tcp' ? TCP_SECTIONS : UDP_SECTIONS;
    let dst = into[kind] as Record<string, Record<string, unknown>> | undefined;
    if (dst === undefined) {
      dst = Object.fromEntries(sections.map((s) => [s, {}]));
      (into as { [k: string]: unknown })[kind] = dst;
    }
    for (const section of sections) {
      for (const [name, value] of Object.entries(src[section] ?? {})) {
        dst[section]![name.includes('@') ? name : `${name}@${provider}`] = value;
      }
    }
  }
}
