import { type ConfigIssue, issue } from '../issues.ts';
import { type Locator, noLocation } from '../locator.ts';
import { mergeLayer4 } from './merge-l4.ts';
import type { ObjectRef } from './parse.ts';
import type { DynamicConfig } from './schema.ts';
import { emptyDynamicConfig, HTTP_SECTIONS, type HttpSection, SINGULAR } from './sections.ts';

/** One file's parsed configuration, as merged into its provider's configuration. */
export interface DynamicSource {
  readonly file: string;
  readonly config: DynamicConfig;
  readonly locate?: Locator;
  /** Objects the file defines that were invalid (already reported). */
  readonly disabled?: readonly ObjectRef[];
}

export interface MergedDynamic {
  readonly config: DynamicConfig;
  readonly issues: ConfigIssue[];
  /** Locates a path in whichever file defines the object it lies in. */
  readonly locate: Locator;
  readonly disabled: readonly ObjectRef[];
}

/**
 * Merges the files of one provider, in their order (the folder's files sorted by name). A name
 * defined again in a later file keeps its first definition: the later one is skipped with a
 * warning naming both files, as Traefik's file provider does (pkg/provider/file/file.go
 * loadFileConfigFromDirectory: "HTTP router already configured, skipping", the same for every
 * kind of object, TLS options and TLS stores); silently when both definitions are identical.
 */
export function mergeDynamic(sources: readonly DynamicSource[]): MergedDynamic {
  const config = emptyDynamicConfig();
  const issues: ConfigIssue[] = [];
  const origin = new Map<string, number>();
  const disabled: ObjectRef[] = [];
  /** Where merged tls entries came from: source index and their key (array index or name) there. */
  const tlsOrigin = new Map<string, { index: number; at: string | number }>();
  const merging: Merging = { origin, sources, issues };
  sources.forEach((src, index) => {
    for (const ref of src.disabled ?? []) {
      disabled.push(ref);
      origin.set(`${ref.kind === undefined ? '' : `${ref.kind}:`}${ref.section}/${ref.name}`, index);
    }
    mergeLayer4(src, index, config, merging);
    for (const section of HTTP_SECTIONS)
      mergeNamed(merging, src, index, 'http', section, src.config.http[section], config.http[section]);
    // TLS: certificates add up; an options set or store named again keeps its first definition.
    const tls = src.config.tls;
    tls.certificates.forEach((c, i) => {
      tlsOrigin.set(`certificates/${config.tls.certificates.length}`, { index, at: i });
      config.tls.certificates.push(c);
    });
    for (const part of ['options', 'stores'] as const) {
      const target = config.tls[part] as Record<string, unknown>;
      for (const [name, value] of Object.entries(tls[part])) {
        if (!Object.hasOwn(target, name)) {
          target[name] = value;
          tlsOrigin.set(`${part}/${name}`, { index, at: name });
          continue;
        }
        if (deepEqual(target[name], value)) continue;
        const first = sources[tlsOrigin.get(`${part}/${name}`)?.index ?? index]!;
        const what = `tls ${part === 'options' ? 'options' : 'store'} \`${name}\``;
        issues.push(skipped(what, first.file, src, ['tls', part, name]));
      }
    }
  });
  const locate: Locator = (path, target, offset) => {
    if (path[0] === 'tls' && path.length >= 3) {
      const o = tlsOrigin.get(`${String(path[1])}/${String(path[2])}`);
      const src = o === undefined ? undefined : sources[o.index];
      if (src === undefined || o === undefined) return { exact: false };
      const local = ['tls', path[1]!, o.at, ...path.slice(3)];
      return src.locate ? src.locate(local, target, offset) : { file: src.file, exact: false };
    }
    if ((path[0] !== 'http' && path[0] !== 'tcp' && path[0] !== 'udp') || path.length < 3)
      return { exact: false };
    const kind = path[0] === 'http' ? '' : `${path[0]}:`;
    const index = origin.get(`${kind}${String(path[1])}/${String(path[2])}`);
    const src = index === undefined ? undefined : sources[index];
    if (src === undefined) return { exact: false };
    return src.locate ? src.locate(path, target, offset) : { file: src.file, exact: false };
  };
  return { config, issues, locate, disabled };
}

/** What merging one provider's files carries from file to file. */
export interface Merging {
  /** Where each object was met first (source index), by key: `section/name`, `tcp:section/name`. */
  readonly origin: Map<string, number>;
  readonly sources: readonly DynamicSource[];
  readonly issues: ConfigIssue[];
}

/**
 * The `kind` objects of one section of file `index` (`src`), `from`, added to `target`: a name
 * met in an earlier file keeps its first definition and this one is skipped with a warning,
 * silently when both are identical.
 */
export function mergeNamed(
  m: Merging,
  src: DynamicSource,
  index: number,
  kind: 'http' | 'tcp' | 'udp',
  section: HttpSection,
  from: Readonly<Record<string, unknown>>,
  target: Record<string, unknown>,
): void {
  const prefix = kind === 'http' ? '' : `${kind}:`;
  const label = kind === 'http' ? '' : `${kind} `;
  for (const [name, value] of Object.entries(from)) {
    const key = `${prefix}${section}/${name}`;
    const firstIndex = m.origin.get(key);
    if (firstIndex === undefined) {
      m.origin.set(key, index);
      target[name] = value;
      continue;
    }
    if (Object.hasOwn(target, name) && deepEqual(target[name], value)) continue;
    const first = m.sources[firstIndex]!;
    m.issues.push(
      skipped(`${label}${SINGULAR[section]} \`${name}\``, first.file, src, [kind, section, name]),
    );
  }
}

/**
 * The warning for a definition skipped because an earlier file of the provider defines the same
 * name (Traefik logs "… already configured, skipping" and keeps the first).
 */
export function skipped(
  what: string,
  firstFile: string,
  src: DynamicSource,
  path: readonly (string | number)[],
): ConfigIssue {
  const { exact: _, ...where } = (src.locate ?? noLocation)(path, 'key');
  const message = `${what} is already defined in ${firstFile}: this definition is skipped (the first one is kept, as Traefik's file provider does)`;
  return issue('warning', message, [...path], { file: src.file, ...where });
}

/** Structural equality of two parsed configuration values (plain data). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(rb, k) && deepEqual(ra[k], rb[k]));
}
