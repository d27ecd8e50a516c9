/**
 * A small reader of nginx configuration text, for the `server-snippet` and `configuration-snippet`
 * annotations that Traefik's Snippet middleware interprets (pkg/middlewares/ingressnginx/snippet,
 * which parses them with gonginx). Directives are words ending in `;`, or followed by a `{ … }`
 * block; words are separated by spaces; `"…"` and `'…'` quote (with `\` escapes); `#` starts a
 * comment up to the end of the line (only where a word could start, as nginx).
 */

export interface Directive {
  readonly name: string;
  readonly args: readonly string[];
  /** The directive's block (`if`, `location`), null when it ended with `;`. */
  readonly block: readonly Directive[] | null;
  readonly line: number;
}

export class SnippetSyntaxError extends Error {}

const Tok = { Word: 0, Semi: 1, Open: 2, Close: 3, End: 4 } as const;
type TokKind = (typeof Tok)[keyof typeof Tok];

interface Token {
  readonly kind: TokKind;
  readonly text: string;
  readonly line: number;
}

const SPACE = /[ \t\r\n\f\v]/;

function unescapeQuoted(s: string): string {
  return s.replace(/\\(.)/gs, (m, c: string) => {
    switch (c) {
      case '"':
      case "'":
      case '\\':
        return c;
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      default:
        return m;
    }
  });
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === ';') {
      out.push({ kind: Tok.Semi, text: ';', line });
      i++;
      continue;
    }
    if (c === '{') {
      out.push({ kind: Tok.Open, text: '{', line });
      i++;
      continue;
    }
    if (c === '}') {
      out.push({ kind: Tok.Close, text: '}', line });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const start = line;
      let j = i + 1;
      while (j < n && src[j] !== c) {
        if (src[j] === '\\') j++;
        if (src[j] === '\n') line++;
        j++;
      }
      if (j >= n) throw new SnippetSyntaxError(`line ${start}: unterminated quoted string`);
      out.push({ kind: Tok.Word, text: unescapeQuoted(src.slice(i + 1, j)), line: start });
      i = j + 1;
      // nginx wants a space, `;` or `{` after a quoted word; `)` closes an `if` condition.
      const next = src[i];
      if (next !== undefined && !SPACE.test(next) && next !== ';' && next !== '{' && next !== ')')
        throw new SnippetSyntaxError(`line ${line}: unexpected "${next}" after a quoted string`);
      continue;
    }
    let word = '';
    while (i < n) {
      const d = src[i]!;
      if (SPACE.test(d) || d === ';' || d === '}') break;
      if (d === '{') {
        // `${name}` inside a word is a variable, not a block.
        if (src[i - 1] === '$') {
          const close = src.indexOf('}', i);
          if (close === -1) throw new SnippetSyntaxError(`line ${line}: unterminated "\${"`);
          word += src.slice(i, close + 1);
          i = close + 1;
          continue;
        }
        break;
      }
      if (d === '\\' && i + 1 < n) {
        word += d + src[i + 1]!;
        i += 2;
        continue;
      }
      word += d;
      i++;
    }
    out.push({ kind: Tok.Word, text: word, line });
  }
  out.push({ kind: Tok.End, text: '', line });
  return out;
}

/** Parses a snippet into its directives; throws SnippetSyntaxError on malformed text. */
export function parseSnippet(src: string): Directive[] {
  const toks = tokenize(src);
  let p = 0;
  const block = (top: boolean): Directive[] => {
    const out: Directive[] = [];
    for (;;) {
      const t = toks[p]!;
      if (t.kind === Tok.End) {
        if (!top) throw new SnippetSyntaxError(`line ${t.line}: unexpected end of the snippet, "}" expected`);
        return out;
      }
      if (t.kind === Tok.Close) {
        if (top) throw new SnippetSyntaxError(`line ${t.line}: unexpected "}"`);
        p++;
        return out;
      }
      if (t.kind !== Tok.Word) throw new SnippetSyntaxError(`line ${t.line}: unexpected "${t.text}"`);
      const name = t.text;
      const args: string[] = [];
      p++;
      for (;;) {
        const a = toks[p]!;
        if (a.kind === Tok.Word) {
          args.push(a.text);
          p++;
          continue;
        }
        if (a.kind === Tok.Semi) {
          p++;
          out.push({ name, args, block: null, line: t.line });
          break;
        }
        if (a.kind === Tok.Open) {
          p++;
          out.push({ name, args, block: block(false), line: t.line });
          break;
        }
        throw new SnippetSyntaxError(
          a.kind === Tok.End
            ? `line ${a.line}: unexpected end of the snippet, ";" or "{" expected after "${name}"`
            : `line ${a.line}: unexpected "}" in directive "${name}"`,
        );
      }
    }
  };
  return block(true);
}
