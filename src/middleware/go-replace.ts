import type { GoRegexp } from '../config/dynamic/middlewares.ts';

/**
 * Go `Regexp.ReplaceAllString` for JS, compiled once per middleware. Templates follow Go's
 * `Regexp.Expand`: `$1`, `${1}`, `$name`, `${name}`, `$$`; the longest run of letters, digits and
 * '_' after `$` is the name, so `$1x` means `${1x}` (an unknown group: empty), not `${1}x`.
 */

/** A literal, or the number of the capture group to insert (-1: a group that does not exist). */
export type TemplatePart = string | number;

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

export function compileTemplate(
  template: string,
  groupNames: readonly (string | undefined)[],
): readonly TemplatePart[] {
  const parts: TemplatePart[] = [];
  let lit = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar === -1) break;
    lit += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === '$') {
      lit += '$';
      i++;
      continue;
    }
    const brace = template[i] === '{';
    let j = brace ? i + 1 : i;
    const nameStart = j;
    while (j < template.length) {
      const cp = template.codePointAt(j)!;
      const ch = String.fromCodePoint(cp);
      if (!NAME_CHAR.test(ch)) break;
      j += ch.length;
    }
    const name = template.slice(nameStart, j);
    if (name === '' || (brace && template[j] !== '}')) {
      lit += '$'; // malformed: Go keeps the '$' as text
      continue;
    }
    i = brace ? j + 1 : j;
    if (lit !== '') parts.push(lit);
    lit = '';
    parts.push(groupIndex(name, groupNames));
  }
  lit += template.slice(i);
  if (lit !== '') parts.push(lit);
  return parts;
}

function groupIndex(name: string, groupNames: readonly (string | undefined)[]): number {
  let num = 0;
  for (let k = 0; k < name.length; k++) {
    const c = name.charCodeAt(k);
    if (c < 48 || c > 57 || num >= 1e8) {
      num = -1;
      break;
    }
    num = num * 10 + c - 48;
  }
  if (name.length > 1 && name[0] === '0') num = -1; // Go: no leading zeros
  if (num >= 0) return num < groupNames.length ? num : -1;
  return groupNames.indexOf(name);
}

function expand(parts: readonly TemplatePart[], m: RegExpExecArray): string {
  let out = '';
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k]!;
    if (typeof p === 'string') out += p;
    else if (p >= 0) out += m[p] ?? '';
  }
  return out;
}

/**
 * Replaces every match as Go does (an empty match right after a previous match is not replaced).
 * Returns undefined when nothing matches, so callers skip the work Go's MatchString guard skips.
 * `re` must carry the 'g' flag; its lastIndex is reset here.
 */
export function replaceAllGo(re: RegExp, src: string, parts: readonly TemplatePart[]): string | undefined {
  re.lastIndex = 0;
  let m = re.exec(src);
  if (m === null) return undefined;
  let out = '';
  let lastEnd = 0;
  let pos = 0;
  const n = src.length;
  while (m !== null) {
    const start = m.index;
    const end = start + m[0].length;
    out += src.slice(lastEnd, start);
    if (end > lastEnd || start === 0) out += expand(parts, m);
    lastEnd = end;
    // Always advance by at least one character, as Go does.
    const width = (src.codePointAt(pos) ?? 0) > 0xffff ? 2 : 1;
    if (pos + width > end) pos += width;
    else if (pos + 1 > end) pos++;
    else pos = end;
    if (pos > n) break;
    re.lastIndex = pos;
    m = re.exec(src);
  }
  return out + src.slice(lastEnd);
}

/** A compiled regexp for ReplaceAll (g flag) and its compiled template. */
export interface Rewriter {
  readonly re: RegExp;
  readonly parts: readonly TemplatePart[];
}

export function rewriter(rx: GoRegexp, template: string): Rewriter {
  return { re: rx.regexp, parts: compileTemplate(template, rx.groupNames) };
}
