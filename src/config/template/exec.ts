import { TemplateError } from './lexer.ts';
import type { Command, Node, Operand, Pipeline } from './parser.ts';

/*
 * Runs a parsed template with text/template's semantics: truth is "not the zero value",
 * variables are scoped to their block, `range` over lists, maps (in key order) and integers,
 * a command's last argument is the previous command's result. Output keeps, for each piece,
 * the source offset it came from, so that positions in the rendered file map back.
 */

export type TemplateFunction = (...args: unknown[]) => unknown;

/** Output text with, per segment, where it came from in the source. */
export interface Rendered {
  readonly text: string;
  /** [outStart, srcStart, copied]: copied segments map character by character. */
  readonly segments: readonly (readonly [number, number, boolean])[];
}

/**
 * Go's maxExecDepth (text/template/exec.go; 1000 on wasm only): nested {{template}} calls. The
 * render runs on a thread with a stack deep enough for it (template/render-offload.ts).
 */
const MAX_DEPTH = 100000;
const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');
type Flow = typeof BREAK | typeof CONTINUE | undefined;

/**
 * A Go value that is not a map, slice or scalar (a time.Time, a *semver.Version): printed by its
 * String method, always true (a struct, or a non-nil pointer), and its methods callable as
 * text/template calls them: `.Major` (no argument) or `(semver "1.2.3").Compare $v`.
 */
export abstract class GoValue {
  abstract goString(): string;
  /** The method `name`, or undefined when the type has none. */
  abstract goMethod(name: string): ((...args: unknown[]) => unknown) | undefined;
  /** Go's type name, for errors (`time.Time`). */
  abstract readonly goType: string;
}

/** V8's "Maximum call stack size exceeded": the template's depth, not a function's error. */
export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && e.message.includes('call stack');
}

/** How Go's fmt prints a value with %v (what an action writes). */
export function goString(v: unknown): string {
  if (v === null || v === undefined) return '<no value>';
  if (v instanceof GoValue) return v.goString();
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goString((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  return String(v);
}

/** text/template's truth: false, 0, nil, and empty strings, lists and maps are false. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (v instanceof GoValue) return true;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

export function execute(
  nodes: readonly Node[],
  funcs: ReadonlyMap<string, TemplateFunction>,
  dot: unknown,
): Rendered {
  let text = '';
  const segments: [number, number, boolean][] = [];
  const write = (s: string, src: number, copied: boolean) => {
    if (s === '') return;
    segments.push([text.length, src, copied]);
    text += s;
  };
  let scopes: Map<string, unknown>[] = [new Map([['$', dot]])];
  // Named templates: every definition of the file, wherever it stands (Go parses them all
  // before running); a later one replaces an earlier, unless its body is empty (Go's
  // Template.associate keeps the old one then).
  const templates = new Map<string, readonly Node[]>();
  const collect = (list: readonly Node[]): void => {
    for (const n of list) {
      if (n.kind === 'define') {
        const empty = n.body.every((b) => b.kind === 'text' && b.text.trim() === '');
        if (!empty || !templates.has(n.name)) templates.set(n.name, n.body);
        collect(n.body);
      }
    }
  };
  collect(nodes);
  let depth = 0;

  const lookup = (name: string, pos: number): unknown => {
    for (let s = scopes.length - 1; s >= 0; s--) if (scopes[s]!.has(name)) return scopes[s]!.get(name);
    throw new TemplateError(`undefined variable: ${name}`, pos);
  };
  const field = (base: unknown, fields: readonly string[], pos: number): unknown => {
    let v = base;
    for (const f of fields) {
      if (v === null || v === undefined) throw new TemplateError(`nil pointer evaluating .${f}`, pos);
      if (v instanceof GoValue) {
        v = method(v, f, [], pos);
        continue;
      }
      if (typeof v !== 'object' || Array.isArray(v)) {
        throw new TemplateError(`can't evaluate field ${f} in type ${typeof v}`, pos);
      }
      // A missing key of a map prints "<no value>", as Go's default missingkey option does.
      v = Object.hasOwn(v, f) ? (v as Record<string, unknown>)[f] : undefined;
    }
    return v;
  };

  const operand = (op: Operand, local: unknown): unknown => {
    switch (op.kind) {
      case 'literal':
        return op.value;
      case 'variable':
        return field(lookup(op.name, op.pos), op.fields, op.pos);
      case 'field':
        return field(local, op.fields, op.pos);
      case 'pipe':
        return field(pipeline(op.pipe, local), op.fields, op.pos);
      case 'call':
        return call(op.name, [], op.pos);
    }
  };
  const call = (name: string, args: unknown[], pos: number): unknown => {
    const fn = funcs.get(name)!;
    try {
      return fn(...args);
    } catch (err) {
      // A stack exhausted is the template's depth, not the function's error (index.ts).
      if (err instanceof TemplateError || isStackOverflow(err)) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new TemplateError(`error calling ${name}: ${message}`, pos);
    }
  };
  /** Go's evalCall on a method: its arguments, then the previous command's result. */
  const method = (recv: GoValue, name: string, args: unknown[], pos: number): unknown => {
    const m = recv.goMethod(name);
    if (m === undefined) throw new TemplateError(`can't evaluate field ${name} in type ${recv.goType}`, pos);
    try {
      return m(...args);
    } catch (err) {
      if (err instanceof TemplateError || isStackOverflow(err)) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new TemplateError(`error calling ${name}: ${message}`, pos);
    }
  };
  const command = (cmd: Command, local: unknown, prev: unknown[]): unknown => {
    const [first, ...rest] = cmd.operands;
    if (first!.kind === 'call') {
      return call(first!.name, [...rest.map((o) => operand(o, local)), ...prev], first!.pos);
    }
    // `(semver "1.2.3").Compare $v`: a method given arguments.
    if ((rest.length > 0 || prev.length > 0) && first!.kind !== 'literal' && first!.fields.length > 0) {
      const fields = first!.fields;
      const base = operand({ ...first!, fields: fields.slice(0, -1) } as Operand, local);
      if (base instanceof GoValue) {
        return method(base, fields.at(-1)!, [...rest.map((o) => operand(o, local)), ...prev], first!.pos);
      }
    }
    if (rest.length > 0 || prev.length > 0) {
      throw new TemplateError("can't give arguments to a non-function", cmd.pos);
    }
    return operand(first!, local);
  };
  const pipeline = (p: Pipeline, local: unknown): unknown => {
    let prev: unknown[] = [];
    let value: unknown;
    for (const c of p.commands) {
      value = command(c, local, prev);
      prev = [value];
    }
    for (const name of p.decl) {
      if (!p.assign) scopes.at(-1)!.set(name, value);
      else {
        const s = scopes.findLast((m) => m.has(name));
        if (s === undefined) throw new TemplateError(`undefined variable: ${name}`, p.pos);
        s.set(name, value);
      }
    }
    return value;
  };

  const run = (list: readonly Node[], local: unknown): Flow => {
    for (const n of list) {
      switch (n.kind) {
        case 'text':
          write(n.text, n.pos, true);
          break;
        case 'action': {
          const v = pipeline(n.pipe, local);
          if (n.pipe.decl.length === 0) write(goString(v), n.pos, false);
          break;
        }
        case 'break':
          return BREAK;
        case 'continue':
          return CONTINUE;
        case 'if':
        case 'with': {
          scopes.push(new Map());
          const v = pipeline(n.pipe, local);
          const flow = truthy(v) ? run(n.body, n.kind === 'with' ? v : local) : run(n.otherwise, local);
          scopes.pop();
          if (flow !== undefined) return flow;
          break;
        }
        case 'range': {
          const flow = range(n, local);
          if (flow !== undefined) return flow;
          break;
        }
        case 'define':
          break;
        case 'template': {
          const body = templates.get(n.name);
          if (body === undefined) throw new TemplateError(`template "${n.name}" not defined`, n.pos);
          // Go's walkTemplate: the template runs with the pipeline's value as dot and `$`, and
          // no variable of the caller, at most MAX_DEPTH deep, with Go's message.
          const newDot = n.pipe === undefined ? null : pipeline(n.pipe, local);
          if (++depth > MAX_DEPTH)
            throw new TemplateError(`exceeded maximum template depth (${MAX_DEPTH})`, n.pos);
          const saved = scopes;
          scopes = [new Map([['$', newDot]])];
          try {
            run(body, newDot);
          } finally {
            scopes = saved;
            depth--;
          }
          break;
        }
      }
    }
    return undefined;
  };
  const range = (n: Extract<Node, { kind: 'if' | 'with' | 'range' }>, local: unknown): Flow => {
    const decl = n.pipe.decl;
    const source = pipeline({ ...n.pipe, decl: [] }, local);
    let pairs: [unknown, unknown][];
    if (Array.isArray(source)) pairs = source.map((e, i) => [i, e]);
    else if (typeof source === 'number' && Number.isInteger(source)) {
      pairs = Array.from({ length: Math.max(0, source) }, (_, i) => [i, i]);
    } else if (source !== null && typeof source === 'object') {
      pairs = Object.keys(source)
        .sort()
        .map((k) => [k, (source as Record<string, unknown>)[k]]);
    } else if (source === null || source === undefined) pairs = [];
    else throw new TemplateError(`range can't iterate over ${goString(source)}`, n.pos);
    if (pairs.length === 0) return run(n.otherwise, local);
    for (const [k, e] of pairs) {
      scopes.push(new Map());
      if (decl.length === 1) scopes.at(-1)!.set(decl[0]!, e);
      if (decl.length === 2) {
        scopes.at(-1)!.set(decl[0]!, k);
        scopes.at(-1)!.set(decl[1]!, e);
      }
      const flow = run(n.body, e);
      scopes.pop();
      if (flow === BREAK) break;
    }
    return undefined;
  };

  run(nodes, dot);
  return { text, segments };
}
