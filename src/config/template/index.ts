import { execute, type Rendered } from './exec.ts';
import { templateFunctions } from './functions.ts';
import { lex, TemplateError } from './lexer.ts';
import { parse } from './parser.ts';

export { TemplateError } from './lexer.ts';

export interface TemplateResult {
  readonly text: string;
  /** The source offset that produced the character at `offset` of the output. */
  sourceOffset(offset: number): number;
}

/**
 * Runs a file-provider file as a Go text/template, as Traefik does before decoding it (its data
 * is empty: `.` is nil). A file without `{{` is returned as it is. Throws TemplateError with the
 * source offset of the problem.
 */
export function renderTemplate(src: string, env: NodeJS.ProcessEnv): TemplateResult {
  if (!src.includes('{{')) return { text: src, sourceOffset: (o) => o };
  const funcs = templateFunctions(env);
  const nodes = parse(lex(src), (name) => funcs.has(name));
  const out = execute(nodes, funcs, null);
  return { text: out.text, sourceOffset: (o) => sourceOffset(out, o) };
}

/**
 * Runs a template with data (`.Name`, `.Labels`): the label providers' `defaultRule`. Throws
 * TemplateError.
 */
export function renderTemplateWith(src: string, dot: unknown, env: NodeJS.ProcessEnv = {}): string {
  // The defaultRule's map: sprig's with `normalize`, its `split` sprig's own.
  const funcs = templateFunctions(env, false);
  return execute(
    parse(lex(src), (name) => funcs.has(name)),
    funcs,
    dot,
  ).text;
}

function sourceOffset(r: Rendered, offset: number): number {
  const segs = r.segments;
  let lo = 0;
  let hi = segs.length - 1;
  if (hi < 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segs[mid]![0] <= offset) lo = mid;
    else hi = mid - 1;
  }
  const [outStart, srcStart, copied] = segs[lo]!;
  return copied ? srcStart + Math.max(0, offset - outStart) : srcStart;
}

export function isTemplateError(e: unknown): e is TemplateError {
  return e instanceof TemplateError;
}
