import { formatPath } from '../../config/issues.ts';
import { canonicalJson } from './json-values.ts';

export const API_SECTIONS = ['routers', 'services', 'middlewares', 'serversTransports'] as const;
export type ApiSection = (typeof API_SECTIONS)[number];

/**
 * The API provider's configuration as clients write it: Traefik's dynamic-config JSON shape
 * (durations as strings, middlewares as `{ <type>: {…} }`). Kept as written, so that what a
 * client reads back, PATCHes and diffs is its own shape, not the parsed one.
 */
export interface ApiRawConfig {
  readonly http: { readonly [S in ApiSection]: Readonly<Record<string, unknown>> };
}

export function emptyRawConfig(): ApiRawConfig {
  return { http: { routers: {}, services: {}, middlewares: {}, serversTransports: {} } };
}

export interface DiffEntry {
  readonly op: 'add' | 'remove' | 'replace';
  /** `http.routers.web` */
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/** Object-level differences, section by section, names in sorted order. */
export function diffConfigs(before: ApiRawConfig, after: ApiRawConfig): DiffEntry[] {
  const out: DiffEntry[] = [];
  for (const section of API_SECTIONS) {
    const a = before.http[section];
    const b = after.http[section];
    const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const name of names) {
      const path = formatPath(['http', section, name]);
      const had = Object.hasOwn(a, name);
      const has = Object.hasOwn(b, name);
      if (had && !has) out.push({ op: 'remove', path, before: a[name] });
      else if (!had && has) out.push({ op: 'add', path, after: b[name] });
      else if (canonicalJson(a[name]) !== canonicalJson(b[name]))
        out.push({ op: 'replace', path, before: a[name], after: b[name] });
    }
  }
  return out;
}
