import { TemplateError, type Token } from './lexer.ts';

/*
 * The parse tree of Go's text/template for the subset we run: text, actions (pipelines with
 * variable declarations), if / else if / else, range (with `$i, $e :=`), with, break, continue,
 * and named templates: `define` (at the top level, as Go's parser allows), `template` and `block`
 * (a `define` and a `template` in one), which Traefik's file provider runs as Go does.
 */

export type Operand =
  | { readonly kind: 'literal'; readonly value: unknown; readonly pos: number }
  | {
      readonly kind: 'variable';
      readonly name: string;
      readonly fields: readonly string[];
      readonly pos: number;
    }
  | { readonly kind: 'field'; readonly fields: readonly string[]; readonly pos: number }
  | { readonly kind: 'call'; readonly name: string; readonly pos: number }
  | {
      readonly kind: 'pipe';
      readonly pipe: Pipeline;
      readonly fields: readonly string[];
      readonly pos: number;
    };

/** A command: its first operand is called with the others (and the previous command's result). */
export interface Command {
  readonly operands: readonly Operand[];
  readonly pos: number;
}

export interface Pipeline {
  /** `$x :=` declares, `$x =` assigns. */
  readonly decl: readonly string[];
  readonly assign: boolean;
  readonly commands: readonly Command[];
  readonly pos: number;
}

export type Node =
  | { readonly kind: 'text'; readonly text: string; readonly pos: number }
  | { readonly kind: 'action'; readonly pipe: Pipeline; readonly pos: number }
  | {
      readonly kind: 'if' | 'with' | 'range';
      readonly pipe: Pipeline;
      readonly body: readonly Node[];
      readonly otherwise: readonly Node[];
      readonly pos: number;
    }
  | { readonly kind: 'break' | 'continue'; readonly pos: number }
  /** `{{define "name"}}…{{end}}` (also made by `block`): writes nothing where it stands. */
  | { readonly kind: 'define'; readonly name: string; readonly body: readonly Node[]; readonly pos: number }
  /** `{{template "name" pipeline}}`: the named template run with the pipeline's value as dot. */
  | { readonly kind: 'template'; readonly name: string; readonly pipe?: Pipeline; readonly pos: number };

/** Go's maxStackDepth (text/template/parse/parse.go; 1000 on wasm only). */
const MAX_PAREN_DEPTH = 10000;

export function parse(tokens: readonly Token[], known: (name: string) => boolean): Node[] {
  let i = 0;
  const peek = (): Token | undefined => tokens[i];
  const expect = (kind: Token['kind'], what: string): Token => {
    const t = tokens[i];
    if (t === undefined || t.kind !== kind) throw new TemplateError(`expected ${what}`, t?.pos ?? lastPos());
    i++;
    return t;
  };
  const lastPos = (): number => tokens.at(-1)?.pos ?? 0;
  let loops = 0;
  /** Parentheses open around the operand being read (Go's Tree.stackDepth). */
  let parens = 0;

  /** `{{template "name" [pipeline]}}` / `{{block "name" pipeline}}` after the keyword. */
  const named = (word: string, pos: number): { name: string; pipe?: Pipeline } => {
    const t = peek();
    if (t?.kind !== 'string')
      throw new TemplateError(`unexpected ${t?.kind ?? 'end'} in ${word} clause`, pos);
    i++;
    const name = String(t.value);
    if (peek()?.kind === 'close') return { name };
    return { name, pipe: pipeline(pos, false) };
  };
  /** The body of a `define` or `block`, up to its `{{end}}`; break/continue count from zero there. */
  const definition = (): Node[] => {
    const outer = loops;
    loops = 0;
    const body = list(['end']);
    expect('close', '}}');
    loops = outer;
    return body.nodes;
  };

  /** Parses nodes until `{{end}}`, `{{else}}` (returned as the stopper) or the end of input. */
  const list = (
    stoppers: readonly string[],
    top = false,
  ): { nodes: Node[]; stop?: string; stopPos: number } => {
    const nodes: Node[] = [];
    while (i < tokens.length) {
      const t = tokens[i]!;
      if (t.kind === 'text') {
        nodes.push({ kind: 'text', text: t.text, pos: t.pos });
        i++;
        continue;
      }
      expect('open', '{{');
      const kw = peek();
      const word = kw?.kind === 'ident' ? kw.text : undefined;
      if (word !== undefined && stoppers.includes(word)) {
        i++;
        return { nodes, stop: word, stopPos: kw!.pos };
      }
      switch (word) {
        case 'if':
        case 'with':
        case 'range': {
          i++;
          if (word === 'range') loops++;
          const pipe = pipeline(kw!.pos, word === 'range');
          expect('close', '}}');
          nodes.push(block(word, pipe, kw!.pos));
          if (word === 'range') loops--;
          continue;
        }
        case 'break':
        case 'continue':
          if (loops === 0) throw new TemplateError(`{{${word}}} outside {{range}}`, kw!.pos);
          i++;
          expect('close', '}}');
          nodes.push({ kind: word, pos: kw!.pos });
          continue;
        case 'end':
        case 'else':
          throw new TemplateError(`unexpected {{${word}}}`, kw!.pos);
        case 'define': {
          // Go's parser takes a definition at the top level only.
          if (!top) throw new TemplateError('unexpected <define> in command', kw!.pos);
          i++;
          const { name, pipe } = named(word, kw!.pos);
          if (pipe !== undefined) throw new TemplateError('unexpected pipeline in define clause', kw!.pos);
          expect('close', '}}');
          nodes.push({ kind: 'define', name, body: definition(), pos: kw!.pos });
          continue;
        }
        case 'template': {
          i++;
          const { name, pipe } = named(word, kw!.pos);
          expect('close', '}}');
          nodes.push({ kind: 'template', name, ...(pipe === undefined ? {} : { pipe }), pos: kw!.pos });
          continue;
        }
        case 'block': {
          // A definition, and its run in place (text/template/parse blockControl).
          i++;
          const { name, pipe } = named(word, kw!.pos);
          if (pipe === undefined) throw new TemplateError('missing pipeline in block clause', kw!.pos);
          expect('close', '}}');
          nodes.push({ kind: 'define', name, body: definition(), pos: kw!.pos });
          nodes.push({ kind: 'template', name, pipe, pos: kw!.pos });
          continue;
        }
      }
      const pipe = pipeline(t.pos, false);
      expect('close', '}}');
      nodes.push({ kind: 'action', pipe, pos: t.pos });
    }
    if (stoppers.length > 0)
      throw new TemplateError('unexpected end of template: missing {{end}}', lastPos());
    return { nodes, stopPos: lastPos() };
  };

  const block = (kind: 'if' | 'with' | 'range', pipe: Pipeline, pos: number): Node => {
    const body = list(['else', 'end']);
    let otherwise: Node[] = [];
    if (body.stop === 'else') {
      const next = peek();
      if (kind !== 'range' && next?.kind === 'ident' && (next.text === 'if' || next.text === 'with')) {
        // `{{else if x}}` is an if nested in the else branch, sharing the outer {{end}}.
        i++;
        const inner = pipeline(next.pos, false);
        expect('close', '}}');
        otherwise = [block(next.text, inner, next.pos)];
      } else {
        expect('close', '}}');
        const rest = list(['end']);
        otherwise = rest.nodes;
        expect('close', '}}');
      }
    } else expect('close', '}}');
    return { kind, pipe, body: body.nodes, otherwise, pos };
  };

  const pipeline = (pos: number, allowTwo: boolean): Pipeline => {
    const decl: string[] = [];
    let assign = false;
    // `$x :=` / `$i, $e :=` / `$x =`
    const save = i;
    while (peek()?.kind === 'variable') {
      decl.push((tokens[i] as { text: string }).text);
      i++;
      if (peek()?.kind === ',' && allowTwo && decl.length === 1) {
        i++;
        continue;
      }
      break;
    }
    const op = peek();
    if (decl.length > 0 && (op?.kind === ':=' || op?.kind === '=')) {
      assign = op.kind === '=';
      i++;
    } else {
      i = save;
      decl.length = 0;
    }
    const commands: Command[] = [];
    for (;;) {
      commands.push(command());
      if (peek()?.kind !== '|') break;
      i++;
    }
    return { decl, assign, commands, pos };
  };

  const command = (): Command => {
    const operands: Operand[] = [];
    const pos = peek()?.pos ?? lastPos();
    for (;;) {
      const t = peek();
      if (t === undefined || t.kind === 'close' || t.kind === '|' || t.kind === ')') break;
      operands.push(operand());
    }
    if (operands.length === 0) throw new TemplateError('missing value for command', pos);
    return { operands, pos };
  };

  const fieldsAfter = (): string[] => {
    const fields: string[] = [];
    while (peek()?.kind === 'field') {
      fields.push((tokens[i] as { text: string }).text.slice(1));
      i++;
    }
    return fields;
  };

  const operand = (): Operand => {
    const t = tokens[i]!;
    i++;
    switch (t.kind) {
      case 'string':
      case 'number':
      case 'bool':
        return { kind: 'literal', value: t.value, pos: t.pos };
      case 'nil':
        return { kind: 'literal', value: null, pos: t.pos };
      case 'variable':
        return { kind: 'variable', name: t.text, fields: fieldsAfter(), pos: t.pos };
      case 'field': {
        const first = t.text === '.' ? [] : [t.text.slice(1)];
        return { kind: 'field', fields: [...first, ...fieldsAfter()], pos: t.pos };
      }
      case 'ident':
        if (!known(t.text)) throw new TemplateError(`function "${t.text}" not defined`, t.pos);
        return { kind: 'call', name: t.text, pos: t.pos };
      case '(': {
        // text/template/parse Tree.term: at most 10000 parenthesized pipelines open at once.
        if (parens >= MAX_PAREN_DEPTH) throw new TemplateError('max expression depth exceeded', t.pos);
        parens++;
        const pipe = pipeline(t.pos, false);
        parens--;
        expect(')', ')');
        return { kind: 'pipe', pipe, fields: fieldsAfter(), pos: t.pos };
      }
      default:
        throw new TemplateError(`unexpected ${t.kind === 'close' ? '}}' : `"${t.kind}"`} in command`, t.pos);
    }
  };

  const { nodes } = list([], true);
  return nodes;
}
