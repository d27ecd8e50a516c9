import type { z } from 'zod';
import { isUnknownKeyParams } from './schema-helpers.ts';

/** What a schema expects at one place: enough to map file keys, flags and env names onto config keys. */
export type SchemaNode =
  | {
      readonly kind: 'object';
      readonly shape: Readonly<Record<string, z.core.$ZodType>>;
      readonly unsupported: readonly string[];
      /** Deprecated keys (in the shape) → what to use instead. */
      readonly deprecated: Readonly<Record<string, string>>;
      /** Deprecated spellings → the key of the shape they stand for. */
      readonly aliases: Readonly<Record<string, string>>;
      /** Traefik v2 keys Traefik v3 refuses to start with → what to do instead. */
      readonly removed: Readonly<Record<string, string>>;
      /** Of the unsupported keys, those a newer Traefik added → where and since when. */
      readonly since?: Readonly<Record<string, string>>;
      /** Exactly one key is expected (a middleware's type). */
      readonly oneOf?: true;
    }
  | { readonly kind: 'record'; readonly value: z.core.$ZodType }
  | { readonly kind: 'array'; readonly element: z.core.$ZodType }
  | { readonly kind: 'boolean' | 'number' | 'string' | 'other' };

/**
 * Schemas whose parse is custom (a transform over a loose record) but whose keys follow a known
 * shape: the middleware entry `{ <type>: {…} }`. Registered where they are defined.
 */
const shapes = new WeakMap<z.core.$ZodType, SchemaNode>();

export function registerShape(schema: z.core.$ZodType, node: SchemaNode): void {
  shapes.set(schema, node);
}

/**
 * Schemas are immutable: each is described once. Reading a provider's configuration describes
 * every node of it again, at each change (a thousand routers: tens of thousands of calls).
 */
const described = new WeakMap<z.core.$ZodType, SchemaNode>();

/** The scalar kind every one of `kinds` is (a literal's values, a union's options), else other. */
function oneScalar(kinds: readonly string[]): SchemaNode {
  const set = new Set(kinds);
  const [only] = set;
  return set.size === 1 && (only === 'number' || only === 'string' || only === 'boolean')
    ? { kind: only }
    : { kind: 'other' };
}

/** Looks through wrappers (optional, default, preprocess, …) to the schema that shapes the value. */
export function describeSchema(schema: z.core.$ZodType): SchemaNode {
  const registered = shapes.get(schema);
  if (registered !== undefined) return registered;
  let node = described.get(schema);
  if (node === undefined) {
    node = describe(schema);
    described.set(schema, node);
  }
  return node;
}

function describe(schema: z.core.$ZodType): SchemaNode {
  const def = schema._zod.def;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
      return describeSchema((def as z.core.$ZodOptionalDef).innerType);
    case 'pipe': {
      const pipe = def as z.core.$ZodPipeDef;
      // z.preprocess(fn, schema) is pipe(transform, schema): the value's shape is the second half.
      return pipe.in._zod.def.type === 'transform' ? describeSchema(pipe.out) : describeSchema(pipe.in);
    }
    case 'object': {
      const obj = def as z.core.$ZodObjectDef;
      const params = (obj.catchall?._zod.def as z.core.$ZodCustomDef | undefined)?.params;
      const p = isUnknownKeyParams(params) ? params : undefined;
      return {
        kind: 'object',
        shape: obj.shape,
        unsupported: p?.unsupported ?? [],
        deprecated: p?.deprecated ?? {},
        aliases: p?.aliases ?? {},
        removed: p?.removed ?? {},
        since: p?.since ?? {},
      };
    }
    case 'record':
      return { kind: 'record', value: (def as z.core.$ZodRecordDef).valueType };
    case 'array':
      return { kind: 'array', element: (def as z.core.$ZodArrayDef).element };
    case 'boolean':
    case 'number':
    case 'string':
      return { kind: def.type };
    case 'enum':
      return { kind: 'string' };
    case 'literal': {
      // A value among literals of one type (`proxyProtocol.version`: 1 or 2) is read as that
      // type: paerser fills the Go field (an int) from the text, "2" from a label as 2 from YAML.
      return oneScalar((def as z.core.$ZodLiteralDef<z.core.util.Literal>).values.map((v) => typeof v));
    }
    case 'union': {
      // Options that all read as one scalar type (literals 1 | 2) read as it; anything else is
      // left to the schema.
      return oneScalar(
        (def as z.core.$ZodUnionDef).options.map((o) => describeSchema(o as z.core.$ZodType).kind),
      );
    }
    default:
      return { kind: 'other' };
  }
}
