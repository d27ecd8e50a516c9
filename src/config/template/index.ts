import { execute, isStackOverflow, type Rendered } from './exec.ts';
import { templateFunctions } from './functions.ts';
import { lex, TemplateError } from './lexer.ts';
import { parse } from './parser.ts';
import { renderOffThread } from './render-offload.ts';
import { emptyHostTable, type HostTable } from './sprig-extra.ts';

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
  const out = renderHereOrOff(src, env, true, null);
  return { text: out.text, sourceOffset: (o) => sourceOffset(out, o) };
}

/** Parses and runs a template once, with the names getHostByName may read. */
export function renderRendered(
  src: string,
  env: NodeJS.ProcessEnv,
  fileProvider: boolean,
  hosts: HostTable,
  dot: unknown,
): Rendered {
  const funcs = templateFunctions(env, fileProvider, hosts);
  return execute(
    parse(lex(src), (name) => funcs.has(name)),
    funcs,
    dot,
  );
}

/**
 * Renders here; a template that asks getHostByName for a name, or nests deeper than this
 * thread's stack, renders on a worker thread instead (render-offload.ts), with the same result
 * otherwise. Only a template without data can go (the file provider's).
 */
function renderHereOrOff(src: string, env: NodeJS.ProcessEnv, fileProvider: boolean, dot: unknown): Rendered {
  const hosts = emptyHostTable();
  try {
    const out = renderRendered(src, env, fileProvider, hosts, dot);
    if (hosts.missing.size === 0) return out;
  } catch (e) {
    if (!isStackOverflow(e) && hosts.missing.size === 0) throw e;
  }
  const off = dot === null ? renderOffThread(src, env, fileProvider) : undefined;
  if (off === undefined) {
    throw new TemplateError(
      hosts.missing.size > 0
        ? 'getHostByName cannot look names up here'
        : 'the template nests too deeply: the stack is exhausted',
      0,
    );
  }
  if ('error' in off) throw new TemplateError(off.error, off.offset);
  return off;
}

/**
 * Runs a template with data (`.Name`, `.Labels`): the label providers' `defaultRule`. Throws
 * TemplateError.
 */
export function renderTemplateWith(src: string, dot: unknown, env: NodeJS.ProcessEnv = {}): string {
  // The defaultRule's map: sprig's with `normalize`, its `split` sprig's own.
  return renderHereOrOff(src, env, false, dot).text;
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
