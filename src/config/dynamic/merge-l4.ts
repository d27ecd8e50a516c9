import type { DynamicSource, Merging } from './merge.ts';
import { mergeNamed } from './merge.ts';
import type { DynamicConfig, HttpSection } from './schema.ts';
import { TCP_SECTIONS, UDP_SECTIONS } from './sections.ts';

/**
 * The `tcp` and `udp` part of merging one provider's files (merge.ts does `http` and `tls`): a
 * name defined again in a later file keeps its first definition, the later one skipped with a
 * warning (as Traefik's pkg/provider/file/file.go loadFileConfigFromDirectory: "TCP router already
 * configured, skipping"). `origin` keys are `tcp:routers/name`.
 */
export function mergeLayer4(src: DynamicSource, index: number, config: DynamicConfig, m: Merging): void {
  for (const kind of ['tcp', 'udp'] as const) {
    const from = src.config[kind] as Record<string, Record<string, unknown>> | undefined;
    if (from === undefined) continue;
    const sections: readonly HttpSection[] = kind === 'tcp' ? TCP_SECTIONS : UDP_SECTIONS;
    let into = config[kind] as Record<string, Record<string, unknown>> | undefined;
    if (into === undefined) {
      into = Object.fromEntries(sections.map((s) => [s, {}]));
      (config as { [k: string]: unknown })[kind] = into;
    }
    for (const section of sections)
      mergeNamed(m, src, index, kind, section, from[section] ?? {}, into[section]!);
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
        // Every name, `@` in it or not (Traefik's MakeQualifiedName, pkg/server/aggregator.go).
        dst[section]![`${name}@${provider}`] = value;
      }
    }
  }
}
