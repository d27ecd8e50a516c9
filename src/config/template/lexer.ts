/*
 * Tokens of Go's text/template, for the subset Traefik's file provider users write: actions
 * between `{{` and `}}` (with `{{-`/`-}}` trimming the spaces around them), comments, pipelines,
 * variables, fields, strings, numbers. Offsets are into the source, for positions in errors.
 */

export type Token =
  | { readonly kind: 'text'; readonly text: string; readonly pos: number }
  | { readonly kind: 'open'; readonly pos: number }
  | { readonly kind: 'close'; readonly pos: number }
  | { readonly kind: 'ident' | 'variable' | 'field'; readonly text: string; readonly pos: number }
  | { readonly kind: 'string'; readonly value: string; readonly pos: number }
  | { readonly kind: 'number'; readonly value: number; readonly pos: number }
  | { readonly kind: 'bool'; readonly value: boolean; readonly pos: number }
  | { readonly kind: 'nil' | '(' | ')' | '|' | ':=' | '=' | ','; readonly pos: number };

export class TemplateError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

const SPACE = /\s/;
const IDENT = /[A-Za-z0-9_]/;

export function lex(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = src.slice(i, open === -1 ? src.length : open);
    let textPos = i;
    if (trimNext) {
      const kept = text.replace(/^\s+/, '');
      textPos += text.length - kept.length;
      text = kept;
      trimNext = false;
    }
    if (open === -1) {
      if (text !== '') out.push({ kind: 'text', text, pos: textPos });
      break;
    }
    const trimLeft =
      src.startsWith('{{- ', open) || src.startsWith('{{-\t', open) || src.startsWith('{{-\n', open);
    if (trimLeft) text = text.replace(/\s+$/, '');
    if (text !== '') out.push({ kind: 'text', text, pos: textPos });
    let j = open + (trimLeft ? 3 : 2);
    // A comment is the whole action: {{/* … */}}.
    const afterSpace = j + (src.slice(j).match(/^\s*/)?.[0].length ?? 0);
    if (src.startsWith('/*', afterSpace)) {
      const end = src.indexOf('*/', afterSpace + 2);
      if (end === -1) throw new TemplateError('unclosed comment', open);
      const close = closeAt(src, end + 2);
      if (close === undefined) throw new TemplateError('comment ends without }}', open);
      i = close.next;
      trimNext = close.trim;
      continue;
    }
    out.push({ kind: 'open', pos: open });
    for (;;) {
      while (j < src.length && SPACE.test(src[j]!) && !closeAt(src, j)) j++;
      const close = closeAt(src, j);
      if (close !== undefined) {
        out.push({ kind: 'close', pos: j });
        i = close.next;
        trimNext = close.trim;
        break;
      }
      if (j >= src.length) throw new TemplateError('unclosed action: missing }}', open);
      j = lexToken(src, j, out);
    }
  }
  return out;
}

/** `}}` or ` -}}` at j. */
function closeAt(src: string, j: number): { next: number; trim: boolean } | undefined {
  if (src.startsWith('}}', j)) return { next: j + 2, trim: false };
  if (SPACE.test(src[j] ?? '') && src.startsWith('-}}', j + 1)) return { next: j + 4, trim: true };
  return undefined;
}

function lexToken(src: string, j: number, out: Token[]): number {
  const c = src[j]!;
  const pos = j;
  if (c === '(' || c === ')' || c === '|' || c === ',' || c === '=') {
    out.push({ kind: c, pos });
    return j + 1;
  }
  if (c === ':' && src[j + 1] === '=') {
    out.push({ kind: ':=', pos });
    return j + 2;
  }
  if (c === '"') return lexQuoted(src, j, out);
  if (c === '`') {
    const end = src.indexOf('`', j + 1);
    if (end === -1) throw new TemplateError('unterminated raw string', j);
    out.push({ kind: 'string', value: src.slice(j + 1, end), pos });
    return end + 1;
  }
  if (c === '$') {
    let k = j + 1;
    while (k < src.length && IDENT.test(src[k]!)) k++;
    out.push({ kind: 'variable', text: src.slice(j, k), pos });
    return fieldChain(src, k, out);
  }
  if (c === '.') {
    let k = j + 1;
    while (k < src.length && IDENT.test(src[k]!)) k++;
    out.push({ kind: 'field', text: src.slice(j, k), pos });
    return fieldChain(src, k, out);
  }
  const num = /^[+-]?(0x[0-9a-fA-F]+|\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(src.slice(j));
  if (num !== null && (/[0-9]/.test(c) || ((c === '-' || c === '+') && /[0-9]/.test(src[j + 1] ?? '')))) {
    out.push({ kind: 'number', value: Number(num[0]), pos });
    return j + num[0].length;
  }
  if (/[A-Za-z_]/.test(c)) {
    let k = j + 1;
    while (k < src.length && IDENT.test(src[k]!)) k++;
    const word = src.slice(j, k);
    if (word === 'true' || word === 'false') out.push({ kind: 'bool', value: word === 'true', pos });
    else if (word === 'nil') out.push({ kind: 'nil', pos });
    else out.push({ kind: 'ident', text: word, pos });
    return k;
  }
  // Go's lexer emits a printable ASCII character as itemChar, which the parser's command refuses
  // ("unexpected %q in operand"); anything else is the lexer's own error.
  const code = c.codePointAt(0)!;
  if (code >= 0x20 && code < 0x7f) throw new TemplateError(`unexpected ${JSON.stringify(c)} in operand`, j);
  throw new TemplateError(
    `unrecognized character in action: U+${code.toString(16).toUpperCase().padStart(4, '0')}`,
    j,
  );
}

/** `.A.B` right after a variable or field is one more field each. */
function fieldChain(src: string, k: number, out: Token[]): number {
  let j = k;
  while (src[j] === '.' && IDENT.test(src[j + 1] ?? '')) {
    let e = j + 1;
    while (e < src.length && IDENT.test(src[e]!)) e++;
    out.push({ kind: 'field', text: src.slice(j, e), pos: j });
    j = e;
  }
  return j;
}

const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  '"': '"',
  "'": "'",
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
};

function lexQuoted(src: string, j: number, out: Token[]): number {
  let k = j + 1;
  let value = '';
  while (k < src.length && src[k] !== '"') {
    if (src[k] === '\n') throw new TemplateError('unterminated quoted string', j);
    if (src[k] === '\\') {
      const e = src[k + 1] ?? '';
      const hex = /^(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})/.exec(src.slice(k + 1));
      if (hex !== null) {
        value += String.fromCodePoint(Number.parseInt(hex[0].slice(1), 16));
        k += 1 + hex[0].length;
        continue;
      }
      const ch = ESCAPES[e];
      if (ch === undefined) throw new TemplateError(`unknown escape sequence \\${e}`, k);
      value += ch;
      k += 2;
      continue;
    }
    value += src[k];
    k++;
  }
  if (k >= src.length) throw new TemplateError('unterminated quoted string', j);
  out.push({ kind: 'string', value, pos: j });
  return k + 1;
}
