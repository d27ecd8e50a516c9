import type { z } from 'zod';
import { isUnknownKeyParams } from './schema-helpers.ts';

/** What a schema expects at one place: enough to map flag and env names onto config keys. */
export type SchemaNode =
  | {
      readonly kind: 'object';
      readonly shape: Readonly<Record<string, z.core.$ZodType>>;
      readonly unsupported: readonly string[];
    }
  | { readonly kind: 'record'; readonly value: z.core.$ZodType }
  | { readonly kind: 'array'; readonly element: z.core.$ZodType }
  | { readonly kind: 'boolean' | 'number' | 'string' | 'other' };

/** Looks through wrappers (optional, default, preprocess, …) to the schema that shapes the value. */
export function describeSchema(schema: z.core.$ZodType): SchemaNode {
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
      return {
        kind: 'object',
        shape: obj.shape,
        unsupported: isUnknownKeyParams(params) ? params.unsupported : [],
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
    default:
      return { kind: 'other' };
  }
}
