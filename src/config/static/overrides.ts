import type { z } from 'zod';
import { DYNAMIC_SECTIONS } from '../dynamic/schema.ts';
import { type ConfigIssue, type ConfigPath, issue } from '../issues.ts';
import { isPlainObject } from '../schema-helpers.ts';
import { describeSchema, type SchemaNode } from '../schema-walk.ts';
import { suggest } from '../zod-issues.ts';
import { isConfigVariable } from './env-names.ts';

/** One value set by a flag (`--log.level=DEBUG`) or an env variable (`TRAFFIC_LOG_LEVEL=DEBUG`). */
export interface Override {
  /** Canonical key path, spelled as in the schema (and as existing names in the file); numbers index lists. */
  readonly path: readonly (string | number)[];
  /** `undefined` removes a section (`--accessLog=false`). */
  readonly value: unknown;
  /** `--log.level` or `TRAFFIC_LOG_LEVEL`, for messages. */
  readonly origin: string;
}

export const ENV_PREFIX = 'TRAFFIC_';
/**
 * Traefik's own prefix (its EnvLoader, paerser env.DefaultNamePrefix), read as ours so that a
 * Traefik deployment's variables work unchanged; a `TRAFFIC_` variable wins over the
 * `TRAEFIK_` one naming the same key (it is applied after).
 */
export const TRAEFIK_ENV_PREFIX = 'TRAEFIK_';

interface Resolved {
  readonly path: (string | number)[];
  readonly node: SchemaNode;
}

type Style = 'flag' | 'env';

/**
 * Maps `seg.seg.seg` (flag) or `SEG_SEG_SEG` (env) onto schema keys, case-insensitively. A map of
 * user-chosen names (entry points) takes one segment as the name, matched against names already in
 * the file so that `TRAFFIC_ENTRYPOINTS_WEB_ADDRESS` overrides `web`.
 */
function resolve(
  segments: readonly string[],
  schema: z.core.$ZodType,
  data: unknown,
  style: Style,
): Resolved | { error: string; path: ConfigPath } {
  let node = describeSchema(schema);
  let here: unknown = data;
  const path: (string | number)[] = [];
  for (const written of segments) {
    // Traefik's flags index lists of objects: `--…tls.domains[0].main=example.com`.
    const indexed = /^(.+)\[(\d+)\]$/.exec(written);
    const seg = indexed === null ? written : indexed[1]!;
    if (node.kind === 'array' && indexed === null && /^\d+$/.test(seg)) {
      // The env style of an index: `…_DOMAINS_0_MAIN`.
      path.push(Number(seg));
      node = describeSchema(node.element);
      here = Array.isArray(here) ? here[Number(seg)] : undefined;
      continue;
    }
    if (seg === '') return { error: 'empty key segment', path };
    // Assigning through `__proto__` would write to Object.prototype.
    if (seg === '__proto__') return { error: '`__proto__` is not allowed as a key or name', path };
    const lower = seg.toLowerCase();
    if (node.kind === 'object') {
      const key = Object.keys(node.shape).find((k) => k.toLowerCase() === lower);
      if (key === undefined) {
        const unsupported = node.unsupported.find((k) => k.toLowerCase() === lower);
        if (path.length === 0 && DYNAMIC_SECTIONS.some((k) => k === lower)) {
          return {
            error: `dynamic configuration (\`${lower}\`) cannot be set by flags or environment`,
            path: [lower],
          };
        }
        if (unsupported !== undefined) {
          const since = node.since?.[unsupported];
          return {
            error: `\`${unsupported}\`${since !== undefined ? ` ${since}` : ''} is not supported yet`,
            path: [...path, unsupported],
          };
        }
        // As Traefik's DeprecationLoader, which reads flags and env too (pkg/cli/deprecation.go).
        const removed = Object.keys(node.removed).find((k) => k.toLowerCase() === lower);
        if (removed !== undefined)
          return {
            error: `\`${removed}\` was removed in Traefik v3, which refuses to start with it: ${node.removed[removed]}`,
            path: [...path, removed],
          };
        return {
          error: `unknown key \`${seg}\`${suggest(seg, Object.keys(node.shape))}`,
          path: [...path, seg],
        };
      }
      path.push(key);
      node = describeSchema(node.shape[key]!);
      here = child(here, key);
    } else if (node.kind === 'record') {
      const existing = isPlainObject(here)
        ? Object.keys(here).find((k) => k.toLowerCase() === lower)
        : undefined;
      const name = existing ?? (style === 'env' ? lower : seg);
      path.push(name);
      node = describeSchema(node.value);
      here = child(here, name);
    } else {
      return { error: `unknown key \`${seg}\``, path: [...path, seg] };
    }
    if (indexed !== null) {
      if (node.kind !== 'array') return { error: `\`${seg}\` is not a list`, path };
      const index = Number(indexed[2]);
      path.push(index);
      node = describeSchema(node.element);
      here = Array.isArray(here) ? here[index] : undefined;
    }
  }
  if (path.length === 0) return { error: 'no key given', path };
  return { path, node };
}

/** Turns the text of a flag or env value into what the YAML would have held. */
function coerce(text: string | true, node: SchemaNode): { value: unknown } | { error: string } {
  if (node.kind === 'object' || node.kind === 'record') {
    if (text === true || text.toLowerCase() === 'true') return { value: {} };
    if (text.toLowerCase() === 'false') return { value: undefined };
    return { error: 'a section can only be set to true (enable with defaults) or false (remove)' };
  }
  if (text === true) {
    return node.kind === 'boolean' ? { value: true } : { error: 'a value is required' };
  }
  return { value: scalar(text, node) };
}

function scalar(text: string, node: SchemaNode): unknown {
  switch (node.kind) {
    case 'boolean': {
      const lower = text.toLowerCase();
      return lower === 'true' ? true : lower === 'false' ? false : text;
    }
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
    case 'array': {
      // Traefik's flag style for lists: comma-separated (`--x.trustedIPs=10.0.0.0/8,::1`).
      const element = describeSchema(node.element);
      return text === '' ? [] : text.split(',').map((t) => scalar(t.trim(), element));
    }
    default:
      return text;
  }
}

/** Reads `--a.b=v`, `--a.b v` and bare boolean/section flags. Every argument must be consumed. */
export function flagOverrides(
  argv: readonly string[],
  schema: z.core.$ZodType,
  data: unknown,
): { overrides: Override[]; issues: ConfigIssue[] } {
  const overrides: Override[] = [];
  const issues: ConfigIssue[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      issues.push(issue('error', `unexpected argument "${arg}"`, []));
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const origin = `--${name}`;
    const r = resolve(name.split('.'), schema, data, 'flag');
    if ('error' in r) {
      issues.push(issue('error', `${r.error} (set by ${origin})`, r.path));
      if (eq === -1 && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) i++;
      continue;
    }
    let text: string | true;
    if (eq !== -1) text = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      const flagLike = r.node.kind === 'boolean' || r.node.kind === 'object' || r.node.kind === 'record';
      if (next !== undefined && !next.startsWith('--') && (!flagLike || /^(true|false)$/i.test(next))) {
        text = next;
        i++;
      } else text = true;
    }
    const v = coerce(text, r.node);
    if ('error' in v) issues.push(issue('error', `${v.error} (set by ${origin})`, r.path));
    else overrides.push({ path: r.path, value: v.value, origin });
  }
  return { overrides, issues };
}

/**
 * Reads `TRAEFIK_A_B=v`, then `TRAFFIC_A_B=v` variables; one that names no key is an error (as
 * Traefik's env loader fails on a variable naming no field).
 */
export function envOverrides(
  env: NodeJS.ProcessEnv,
  schema: z.core.$ZodType,
  data: unknown,
): { overrides: Override[]; issues: ConfigIssue[] } {
  const overrides: Override[] = [];
  const issues: ConfigIssue[] = [];
  const prefixed = (prefix: string): string[] =>
    Object.keys(env)
      .filter((k) => isConfigVariable(k, prefix))
      .sort();
  const names = [...prefixed(TRAEFIK_ENV_PREFIX), ...prefixed(ENV_PREFIX)];
  for (const name of names) {
    const text = env[name];
    if (text === undefined) continue;
    // Both prefixes have the same length.
    const r = resolve(name.slice(ENV_PREFIX.length).split('_'), schema, data, 'env');
    if ('error' in r) {
      issues.push(issue('error', `${r.error} (set by ${name})`, r.path));
      continue;
    }
    const v = coerce(text, r.node);
    if ('error' in v) issues.push(issue('error', `${v.error} (set by ${name})`, r.path));
    else overrides.push({ path: r.path, value: v.value, origin: name });
  }
  return { overrides, issues };
}

/** Applies overrides in order (later wins) to a copy of the file's data. */
export function applyOverrides(
  data: Record<string, unknown>,
  overrides: readonly Override[],
): Record<string, unknown> {
  const root = structuredClone(data);
  for (const o of overrides) {
    let here: Record<string | number, unknown> = root;
    o.path.slice(0, -1).forEach((key, i) => {
      let next = Object.hasOwn(here, key) ? here[key] : undefined;
      const wantList = typeof o.path[i + 1] === 'number';
      if (wantList ? !Array.isArray(next) : !isPlainObject(next)) {
        next = wantList ? [] : {};
        here[key] = next;
      }
      here = next as Record<string | number, unknown>;
    });
    const last = o.path.at(-1)!;
    if (o.value === undefined) delete here[last];
    else if (isPlainObject(o.value) && isPlainObject(here[last]))
      continue; // enabling a section keeps its keys
    else here[last] = o.value;
  }
  return root;
}

/** The override that set `path` or created the object holding it, if any (the last one wins). */
export function overrideOrigin(
  overrides: readonly Override[],
  fileData: unknown,
  path: ConfigPath,
): string | undefined {
  for (let i = overrides.length - 1; i >= 0; i--) {
    const o = overrides[i]!;
    if (isPrefix(o.path, path)) return o.origin;
    // A missing key in an object that only a flag created: the flag is the place to fix.
    const parent = path.slice(0, -1);
    if (parent.length > 0 && isPrefix(parent, o.path) && !exists(fileData, parent)) return o.origin;
  }
  return undefined;
}

function isPrefix(prefix: ConfigPath, path: ConfigPath): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => p === path[i]);
}

function exists(data: unknown, path: ConfigPath): boolean {
  let here = data;
  for (const seg of path) {
    if (!isPlainObject(here) || !Object.hasOwn(here, String(seg))) return false;
    here = here[String(seg)];
  }
  return true;
}

function child(data: unknown, key: string): unknown {
  return isPlainObject(data) ? data[key] : undefined;
}
