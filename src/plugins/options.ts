import type { StandardSchemaV1 } from '../../types/plugin.d.ts';

export interface OptionIssue {
  readonly message: string;
  /** Below the options (`['header']`), for the issue's file:line:col. */
  readonly path: readonly (string | number)[];
  /** The issue is about the key itself (an unknown key), not its value. */
  readonly key?: true;
}

export type OptionsResult = { readonly value: unknown } | { readonly issues: readonly OptionIssue[] };

/**
 * Checks a plugin's options with its schema (any Standard Schema: zod, valibot, arktype, or one
 * written by hand). The schema is the plugin's code: an exception in it, or an asynchronous
 * validation (builds are synchronous), is reported as an issue, never thrown.
 */
export function validateOptions(schema: StandardSchemaV1, options: unknown): OptionsResult {
  let r: ReturnType<StandardSchemaV1['~standard']['validate']>;
  try {
    r = schema['~standard'].validate(options);
  } catch (e) {
    return { issues: [{ message: `the plugin's schema threw: ${errorText(e)}`, path: [] }] };
  }
  if (r instanceof Promise) {
    // Its rejection, if any, is ours to swallow: the result is not used.
    r.catch(() => {});
    return {
      issues: [{ message: "the plugin's schema validates asynchronously: it must be synchronous", path: [] }],
    };
  }
  if (r.issues === undefined) return { value: r.value };
  const issues: OptionIssue[] = [];
  for (const i of r.issues) {
    const path = (i.path ?? []).map(segment);
    // zod reports every unknown key in one issue at the object: one each here, at the key itself.
    const keys = (i as { code?: unknown; keys?: unknown }).keys;
    if ((i as { code?: unknown }).code === 'unrecognized_keys' && Array.isArray(keys)) {
      for (const k of keys)
        issues.push({ message: `unknown key \`${String(k)}\``, path: [...path, String(k)], key: true });
      continue;
    }
    issues.push({ message: String(i.message), path });
  }
  if (issues.length === 0) issues.push({ message: "the plugin's schema refused the options", path: [] });
  return { issues };
}

function segment(s: PropertyKey | StandardSchemaV1.PathSegment): string | number {
  const key = typeof s === 'object' && s !== null ? s.key : s;
  return typeof key === 'number' ? key : String(key);
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
