import type { z } from 'zod';
import { type ConfigIssue, type ConfigPath, issue } from './issues.ts';
import { isUnknownKeyParams } from './schema-helpers.ts';
import type { Locator, Target } from './yaml-source.ts';

export interface ConvertOptions {
  readonly locate: Locator;
  /** Names the flag or env variable a path was set by, if any: such issues carry no file position. */
  readonly origin?: (path: ConfigPath) => string | undefined;
}

/** Turns zod issues into ConfigIssues with our wording and the position of the offending node. */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], opts: ConvertOptions): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const zi of issues) {
    const path = zi.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (zi.code === 'unrecognized_keys') {
      for (const key of zi.keys) out.push(place(opts, [...path, key], 'key', `unknown key \`${key}\``));
      continue;
    }
    if (zi.code === 'custom' && isUnknownKeyParams(zi.params)) {
      const key = String(path.at(-1));
      const p = zi.params;
      const what = p.what ?? 'key';
      const removed = p.removed?.[key];
      const since = p.since?.[key];
      const message =
        removed !== undefined
          ? `\`${key}\` was removed in Traefik v3, which refuses to start with it: ${removed}`
          : since !== undefined && p.unsupported.includes(key)
            ? `\`${key}\` ${since} is not supported yet`
            : p.unsupported.includes(key)
              ? `${p.what === undefined ? '' : `${what} `}\`${key}\` is not supported yet`
              : `unknown ${what} \`${key}\`${suggest(key, p.known)}`;
      out.push(place(opts, path, 'key', message));
      continue;
    }
    const d = describe(zi);
    // A schema's own wording (`min(1, 'prefix cannot be empty')`) beats our generic one.
    const message = d.missing || !hasOwnMessage(zi) ? d.message : zi.message;
    out.push(place(opts, path, 'value', message, d.expected));
  }
  return out;
}

function place(
  opts: ConvertOptions,
  path: ConfigPath,
  target: Target,
  message: string,
  expected?: string,
): ConfigIssue {
  const origin = opts.origin?.(path);
  if (origin !== undefined) return issue('error', `${message} (set by ${origin})`, path, {}, expected);
  const { exact: _, ...where } = opts.locate(path, target);
  return issue('error', message, path, where, expected);
}

function isMissing(zi: z.core.$ZodIssue): boolean {
  return !('input' in zi) || zi.input === undefined;
}

/** zod's English defaults start like this; anything else was written by a schema's author. */
const ZOD_DEFAULT_MESSAGE = /^(Too small|Too big|Invalid|Unrecognized)\b/;

function hasOwnMessage(zi: z.core.$ZodIssue): boolean {
  return zi.code !== 'custom' && !ZOD_DEFAULT_MESSAGE.test(zi.message);
}

function describe(zi: z.core.$ZodIssue): { message: string; expected?: string; missing?: boolean } {
  const last = zi.path.at(-1);
  const missing = `required key \`${String(last)}\` is missing`;
  switch (zi.code) {
    case 'invalid_type': {
      const expected = typeName(zi.expected);
      if (isMissing(zi) && typeof last === 'string') return { message: missing, expected, missing: true };
      return { message: `wrong type: got ${received(zi.input)}`, expected };
    }
    case 'invalid_value': {
      const values = zi.values.map((v) => String(v)).join(', ');
      const expected = zi.values.length === 1 ? values : `one of ${values}`;
      if (isMissing(zi) && typeof last === 'string') return { message: missing, expected, missing: true };
      return { message: `invalid value ${received(zi.input)}`, expected };
    }
    case 'too_small':
    case 'too_big': {
      const small = zi.code === 'too_small';
      const bound = Number(small ? zi.minimum : zi.maximum);
      const op = small ? (zi.inclusive ? '>=' : '>') : zi.inclusive ? '<=' : '<';
      if (zi.origin === 'string' && small && bound === 1) return { message: 'must not be empty' };
      if (zi.origin === 'array' || zi.origin === 'set') {
        return {
          message: `must have ${small ? 'at least' : 'at most'} ${bound} item${bound === 1 ? '' : 's'}`,
        };
      }
      if (zi.origin === 'string') {
        return { message: `must be ${small ? 'at least' : 'at most'} ${bound} characters long` };
      }
      return { message: `${received(zi.input)} is out of range`, expected: `a number ${op} ${bound}` };
    }
    case 'invalid_format':
      return { message: zi.message, expected: zi.format };
    case 'not_multiple_of':
      return { message: `must be a multiple of ${String(zi.divisor)}` };
    case 'custom': {
      const expected = (zi.params as { expected?: unknown } | undefined)?.expected;
      return typeof expected === 'string' ? { message: zi.message, expected } : { message: zi.message };
    }
    default:
      return { message: zi.message };
  }
}

function typeName(t: string): string {
  switch (t) {
    case 'object':
    case 'record':
      return 'a map (key: value)';
    case 'array':
      return 'a list';
    case 'int':
      return 'a whole number';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    default:
      return t;
  }
}

function received(v: unknown): string {
  if (v === null) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  switch (typeof v) {
    case 'object':
      return 'a map';
    case 'string':
      return JSON.stringify(v);
    case 'number':
    case 'boolean':
      return String(v);
    default:
      return typeof v;
  }
}

/** ` (did you mean `x`?)` when a known key is a likely typo of `key`; '' otherwise. */
export function suggest(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDist = Number.POSITIVE_INFINITY;
  const lower = key.toLowerCase();
  const within = Math.max(1, Math.floor(key.length / 4));
  for (const k of known) {
    // The distance is at least the difference in length: a key that cannot qualify is skipped
    // (a 100,000-character key would otherwise cost 100,000 × |k| steps per known key).
    if (Math.abs(k.length - key.length) > within) continue;
    const d = lower === k.toLowerCase() ? 0 : distance(lower, k.toLowerCase());
    if (d < bestDist) {
      bestDist = d;
      best = k;
    }
  }
  return best !== undefined && bestDist <= within ? ` (did you mean \`${best}\`?)` : '';
}

/** Levenshtein distance, for "did you mean" hints on short keys. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
