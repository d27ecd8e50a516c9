import { type ConfigIssue, issue } from '../issues.ts';
import { type Locator, noLocation } from '../locator.ts';
import { mergeLayer4 } from './merge-l4.ts';
import type { ObjectRef } from './parse.ts';
import type { DynamicConfig } from './schema.ts';
import { emptyDynamicConfig, HTTP_SECTIONS, type HttpSection } from './sections.ts';

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

const SINGULAR: Record<HttpSection, string> = {
  routers: 'router',
  services: 'service',
  middlewares: 'middleware',
  serversTransports: 'serversTransport',
};

/**
 * Merges the files of one provider. A name defined in two files is an error naming both, and the
 * object is dropped, unless both definitions are identical (as Traefik does).
 */
export function mergeDynamic(sources: readonly DynamicSource[]): MergedDynamic {
  const config = emptyDynamicConfig();
  const issues: ConfigIssue[] = [];
  const origin = new Map<string, number>();
  const conflicted = new Set<string>();
  const disabled: ObjectRef[] = [];
  /** Where merged tls entries came from: source index and their key (array index or name) there. */
  const tlsOrigin = new Map<string, { index: number; at: string | number }>();
  sources.forEach((src, index) => {
    for (const ref of src.disabled ?? []) {
      disabled.push(ref);
      origin.set(`${ref.kind === undefined ? '' : `${ref.kind}:`}${ref.section}/${ref.name}`, index);
    }
    mergeLayer4(src, index, config, origin, conflicted, disabled, issues);
    for (const section of HTTP_SECTIONS) {
      const target = config.http[section] as Record<string, unknown>;
      for (const [name, value] of Object.entries(src.config.http[section])) {
        const key = `${section}/${name}`;
        const firstIndex = origin.get(key);
        if (firstIndex === undefined) {
          origin.set(key, index);
          target[name] = value;
          continue;
        }
        const first = sources[firstIndex]!;
        if (!conflicted.has(key) && Object.hasOwn(target, name) && deepEqual(target[name], value)) continue;
        const { exact: _, ...where } = (src.locate ?? noLocation)(['http', section, name], 'key');
        const message = `${SINGULAR[section]} \`${name}\` is defined in both ${first.file} and ${src.file} with different configurations`;
        issues.push(issue('error', message, ['http', section, name], { file: src.file, ...where }));
        if (!conflicted.has(key)) {
          conflicted.add(key);
          disabled.push({ section, name, value: target[name], parsed: true });
          delete target[name];
        }
      }
    }
    // TLS: certificates add up; an options set or store named in two files must be identical.
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
        const { exact: _, ...where } = (src.locate ?? noLocation)(['tls', part, name], 'key');
        issues.push(
          issue(
            'error',
            `tls ${part} \`${name}\` is defined in two files with different configurations`,
            ['tls', part, name],
            {
              file: src.file,
              ...where,
            },
          ),
        );
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
