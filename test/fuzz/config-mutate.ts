/**
 * Mutations of real configuration files for the parser fuzzer: bytes changed, spans deleted,
 * lines duplicated, swapped, re-indented or cut, and tokens that YAML, TOML and Go templates
 * treat specially (anchors and alias bombs, tags, document markers, flow collections nested
 * deep, template actions, huge numbers, NULs, long strings). All from a seeded random source.
 */
export type Rand = () => number;

const int = (r: Rand, n: number): number => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;

const BYTES = [
  ':',
  '-',
  ' ',
  '\t',
  '\n',
  '\r',
  '"',
  "'",
  '[',
  ']',
  '{',
  '}',
  '#',
  '&',
  '*',
  '!',
  '|',
  '>',
  '%',
  '@',
  '`',
  '=',
  '\\',
  '\0',
  ',',
  '.',
  '0',
  '9',
  'a',
  'Z',
  'é',
  '\u2028',
  '\ufeff',
];

const TOKENS = [
  ': ',
  '- ',
  '{{',
  '}}',
  '{{ .Missing }}',
  '{{ range $i, $e := until 3 }}x{{ end }}',
  '{{ template "x" }}',
  '{{ if }}',
  '*anchor',
  '&anchor ',
  '<<: *anchor\n',
  '!!binary ',
  '!!str ',
  '!!python/object ',
  '!<tag:x> ',
  '1e999',
  '-1',
  '0x1F',
  '0o17',
  '99999999999999999999999',
  '-0',
  '.inf',
  '.nan',
  '~',
  'null',
  'true',
  'yes',
  '""',
  "''",
  '---\n',
  '...\n',
  '? ',
  '%YAML 1.1\n',
  '[[x]]\n',
  '[x.y]\n',
  'a = ',
  '"""',
  "'''",
  '= [1, "a", {b = 2}]',
  '1979-05-27T07:32:00Z',
  '10s',
  '-5s',
  '1h2m3s4ms',
  'PathPrefix(`/`)',
  'Host(`a`) && (',
  'HostRegexp(`(`)',
  'http://',
  'http://[::1',
  '127.0.0.1:99999',
  '0.0.0.0/33',
  '\\u0000',
  '\\x',
];

/** An alias bomb: each level refers to the previous one ten times (billion laughs). */
function aliasBomb(levels: number): string {
  const lines = ['bomb0: &b0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < levels; i++)
    lines.push(
      `bomb${i}: &b${i} [${Array(10)
        .fill(`*b${i - 1}`)
        .join(',')}]`,
    );
  return `${lines.join('\n')}\n`;
}

function generated(r: Rand): string {
  switch (int(r, 5)) {
    case 0:
      return '['.repeat(1 + int(r, 5000));
    case 1:
      return `${'{a: '.repeat(1 + int(r, 2000))}1`;
    case 2:
      return 'x'.repeat(1 + int(r, 200_000));
    case 3:
      return aliasBomb(2 + int(r, 9));
    default:
      return `${'  '.repeat(int(r, 300))}deep: 1\n`;
  }
}

function mutateOnce(r: Rand, text: string): string {
  const at = int(r, text.length + 1);
  switch (int(r, 10)) {
    case 0:
      return text.slice(0, at) + pick(r, BYTES) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + text.slice(at + 1 + int(r, 20));
    case 2:
      return text.slice(0, at) + pick(r, TOKENS) + text.slice(at);
    case 3: {
      const lines = text.split('\n');
      const i = int(r, lines.length);
      lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    }
    case 4: {
      const lines = text.split('\n');
      const i = int(r, lines.length);
      const j = int(r, lines.length);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return lines.join('\n');
    }
    case 5: {
      const lines = text.split('\n');
      const i = int(r, lines.length);
      lines[i] = r() < 0.5 ? ` ${lines[i]}` : lines[i]!.replace(/^\s/, '');
      return lines.join('\n');
    }
    case 6:
      return text.slice(0, at);
    case 7: {
      // A value replaced: whatever follows the next `: ` or ` = ` on the line.
      const m = /(: |= )([^\n]*)/g;
      const all = [...text.matchAll(m)];
      if (all.length === 0) return text;
      const hit = pick(r, all);
      const start = hit.index + hit[1]!.length;
      return text.slice(0, start) + pick(r, TOKENS) + text.slice(start + hit[2]!.length);
    }
    case 8:
      return text.slice(0, at) + generated(r) + text.slice(at);
    default:
      // A byte changed to any code unit.
      return text.slice(0, at) + String.fromCharCode(int(r, 0x10000)) + text.slice(at + 1);
  }
}

/** 1–4 mutations of `text`. */
export function mutateConfig(r: Rand, text: string): string {
  let out = text;
  const n = 1 + int(r, 4);
  for (let i = 0; i < n; i++) out = mutateOnce(r, out);
  return out;
}
