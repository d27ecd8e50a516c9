import { providerOf } from '../../core/qualified-name.ts';
import { type ConfigIssue, type ConfigPath, issue } from '../issues.ts';
import type { ObjectRef } from './parse.ts';
import type { DynamicConfig } from './schema.ts';
import { HTTP_SECTIONS, type HttpSection, SINGULAR } from './sections.ts';
import { serviceMiddlewareReferences, serviceReferences } from './service-references.ts';

/**
 * An object of the dynamic configuration left out because of errors, its own or those of an
 * object it needs (Traefik marks such routers, services and middlewares `disabled` and drops
 * their dependants too), kept for the admin API.
 */
export interface DisabledObject {
  /** Absent = an `http` object; `tcp` and `udp` objects use the same section names. */
  readonly kind?: 'tcp' | 'udp';
  readonly section: HttpSection;
  readonly name: string;
  /**
   * True when `value` passed the schema (it is the section's parsed type, e.g. a middleware as
   * `{ type, config }`); false when it is the object as written, which may be anything.
   */
  readonly parsed: boolean;
  readonly value: unknown;
}

/**
 * Every object a provider's configuration left out, for the admin API: `records`, those its
 * reading dropped (the schema's, with their kind), then the `http`, `tcp` and `udp` objects of
 * `before` that the checks across objects dropped from `after` (a reference to nothing, a bad
 * rule). validateDynamic gives it for every provider, the file provider's and the others':
 * Traefik's runtime configuration keeps each such object, status `disabled` with its `error`
 * list, in its own kind's section (pkg/config/runtime runtime.go NewConfig, AddError).
 */
export function leftOut(
  records: readonly ObjectRef[],
  before: DynamicConfig,
  after: DynamicConfig,
): DisabledObject[] {
  const disabled: DisabledObject[] = records.map((r) => ({
    ...(r.kind === undefined ? {} : { kind: r.kind }),
    section: r.section,
    name: r.name,
    parsed: r.parsed ?? false,
    value: r.value,
  }));
  for (const kind of [undefined, 'tcp', 'udp'] as const) {
    const from = (kind === undefined ? before.http : before[kind]) as Sections | undefined;
    const kept = (kind === undefined ? after.http : after[kind]) as Sections | undefined;
    for (const section of HTTP_SECTIONS) {
      for (const [name, value] of Object.entries(from?.[section] ?? {})) {
        if (!Object.hasOwn(kept?.[section] ?? {}, name))
          disabled.push({ ...(kind === undefined ? {} : { kind }), section, name, parsed: true, value });
      }
    }
  }
  return disabled;
}

type Sections = Partial<Record<HttpSection, Record<string, unknown>>>;

/** `section/name` (`tcp:section/name` for layer 4): the key of an object in the sets below. */
export function objectKey(section: HttpSection, name: string, kind?: 'tcp' | 'udp'): string {
  return kind === undefined ? `${section}/${name}` : `${kind}:${section}/${name}`;
}

/** The named object an issue path lies in (`http.<section>.<name>…`), if any. */
export function objectAt(path: ConfigPath): { section: HttpSection; name: string } | undefined {
  if (path.length < 3 || path[0] !== 'http') return undefined;
  const section = HTTP_SECTIONS.find((s) => s === path[1]);
  return section === undefined ? undefined : { section, name: String(path[2]) };
}

/**
 * A reference as written in the configuration of `owner`'s provider: `x` → `x@provider`, the
 * provider read from the owner's name as Traefik's AddInContext does (core/qualified-name.ts).
 */
function qualified(name: string, owner: string): string {
  if (name.includes('@') || !owner.includes('@')) return name;
  return `${name}@${providerOf(owner)}`;
}

export interface Reference {
  readonly section: HttpSection;
  readonly name: string;
  readonly path: ConfigPath;
}

/** Every object an object of a merged configuration needs, with where the reference is written. */
export function references(http: DynamicConfig['http'], section: HttpSection, name: string): Reference[] {
  const base: ConfigPath = ['http', section, name];
  const out: Reference[] = [];
  if (section === 'routers') {
    const r = http.routers[name]!;
    if (r.service !== undefined)
      out.push({ section: 'services', name: qualified(r.service, name), path: [...base, 'service'] });
    r.parentRefs?.forEach((p, i) => {
      out.push({ section: 'routers', name: qualified(p, name), path: [...base, 'parentRefs', i] });
    });
    r.middlewares.forEach((m, i) => {
      out.push({ section: 'middlewares', name: qualified(m, name), path: [...base, 'middlewares', i] });
    });
  } else if (section === 'middlewares') {
    const m = http.middlewares[name]!;
    if (m.type === 'chain') {
      m.config.middlewares.forEach((x, i) => {
        out.push({
          section: 'middlewares',
          name: qualified(x, name),
          path: [...base, 'chain', 'middlewares', i],
        });
      });
    } else if (m.type === 'errors') {
      out.push({
        section: 'services',
        name: qualified(m.config.service, name),
        path: [...base, 'errors', 'service'],
      });
    }
  } else if (section === 'services') {
    const s = http.services[name]!;
    for (const ref of serviceReferences(s)) {
      out.push({ section: 'services', name: qualified(ref.name, name), path: [...base, ...ref.path] });
    }
    for (const ref of serviceMiddlewareReferences(s)) {
      out.push({ section: 'middlewares', name: qualified(ref.name, name), path: [...base, ...ref.path] });
    }
    if (s.kind === 'loadBalancer' && s.loadBalancer.serversTransport !== undefined) {
      out.push({
        section: 'serversTransports',
        name: qualified(s.loadBalancer.serversTransport, name),
        path: [...base, 'loadBalancer', 'serversTransport'],
      });
    }
  }
  return out;
}

export interface Pruned {
  /** The configuration without the disabled objects. */
  readonly config: DynamicConfig;
  /** Every object left out: the roots and their dependants, as they were written. */
  readonly disabled: DisabledObject[];
  /** One error per dependant, on its reference to the disabled object it needs. */
  readonly issues: ConfigIssue[];
}

/**
 * Leaves out `roots` (keys `section/name` of a merged configuration, names qualified
 * `name@provider`) and, to a fixpoint, every object that needs one of them: a router whose
 * service or middleware is disabled, a chain with a disabled member, a service whose child
 * service or servers transport is disabled. Each dependant gets an error naming the cause.
 */
export function pruneDisabled(config: DynamicConfig, roots: ReadonlySet<string>): Pruned {
  const http = config.http;
  const off = new Set(roots);
  const issues: ConfigIssue[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    for (const section of HTTP_SECTIONS) {
      for (const name of Object.keys(http[section])) {
        if (off.has(objectKey(section, name))) continue;
        const cause = references(http, section, name).find((r) => off.has(objectKey(r.section, r.name)));
        if (cause === undefined) continue;
        off.add(objectKey(section, name));
        issues.push(
          issue(
            'error',
            `${SINGULAR[cause.section]} \`${cause.name}\` is disabled because of its own errors`,
            cause.path,
          ),
        );
        changed = true;
      }
    }
  }
  const disabled: DisabledObject[] = [];
  const keep = <T>(section: HttpSection, objects: Readonly<Record<string, T>>): Record<string, T> => {
    const out: Record<string, T> = {};
    for (const [name, value] of Object.entries(objects)) {
      if (off.has(objectKey(section, name))) disabled.push({ section, name, parsed: true, value });
      else out[name] = value;
    }
    return out;
  };
  const pruned: DynamicConfig = {
    ...config,
    http: {
      routers: keep('routers', http.routers),
      services: keep('services', http.services),
      middlewares: keep('middlewares', http.middlewares),
      serversTransports: keep('serversTransports', http.serversTransports),
    },
  };
  return { config: pruned, disabled, issues };
}
