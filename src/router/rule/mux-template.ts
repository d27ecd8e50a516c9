/**
 * gorilla/mux route templates, as Traefik's v2 rule syntax reads them (the containous/mux fork
 * that Traefik v3's pkg/muxer/http/matcher_v2.go builds its routes with, and the copy of
 * newRouteRegexp in pkg/muxer/tcp/matcher_v2.go preparePattern): `/css{path:(/.*)?}` is the
 * literal `/css` followed by the regexp `(/.*)?`; a `{name}` without a pattern takes the type's
 * default one. Everything outside braces is literal (regexp.QuoteMeta), so
 * ``HostRegexp(`(example.com`)`` is a host name with a parenthesis in it, not a regexp error.
 */
import { compileRe2 } from '../../core/re2/index.ts';

/** The default pattern of a `{name}` variable, by template type (gorilla/mux newRouteRegexp). */
export const MUX_DEFAULT_PATTERN = { path: '[^/]+', host: '[^.]+', query: '.*' } as const;

export type MuxTemplateResult =
  | { ok: true; source: string; hasVars: boolean }
  | { ok: false; message: string };

/** Go's regexp.QuoteMeta: every character of `\.+*?()|[]{}^$` gets a backslash. */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** A variable of a template: the literal text before it, its `{…}` text, name and pattern. */
export interface MuxVariable {
  readonly raw: string;
  readonly text: string;
  readonly name: string;
  /** As written after `:`, else the type's default; `''` when written empty. */
  readonly pattern: string;
}

/**
 * A template split as gorilla/mux newRouteRegexp walks it (braceIndices: the first-level `{…}`
 * spans), or `undefined` for unbalanced braces. Read by the matcher (muxTemplate) and by the
 * API's Traefik error texts (admin/traefik-rule-errors.ts), each wording its own errors.
 */
export function muxTemplateParts(
  tpl: string,
  defaultPattern: string,
): { readonly vars: MuxVariable[]; readonly tail: string } | undefined {
  let level = 0;
  let idx = 0;
  const idxs: number[] = [];
  for (let i = 0; i < tpl.length; i++) {
    const c = tpl.charCodeAt(i);
    if (c === 0x7b /* { */) {
      if (++level === 1) idx = i;
    } else if (c === 0x7d /* } */) {
      if (--level === 0) idxs.push(idx, i + 1);
      else if (level < 0) return undefined;
    }
  }
  if (level !== 0) return undefined;
  const vars: MuxVariable[] = [];
  let end = 0;
  for (let i = 0; i < idxs.length; i += 2) {
    const raw = tpl.slice(end, idxs[i]);
    end = idxs[i + 1]!;
    const inner = tpl.slice(idxs[i]! + 1, end - 1);
    const colon = inner.indexOf(':');
    vars.push({
      raw,
      text: tpl.slice(idxs[i], end),
      name: colon === -1 ? inner : inner.slice(0, colon),
      pattern: colon === -1 ? defaultPattern : inner.slice(colon + 1),
    });
  }
  return { vars, tail: tpl.slice(end) };
}

/**
 * The regexp source of a template, without anchors: literal parts quoted, each variable's pattern
 * in a group (gorilla names it `v0`, `v1`…; a group that captures nothing is the same match).
 */
export function muxTemplate(tpl: string, defaultPattern: string): MuxTemplateResult {
  const parts = muxTemplateParts(tpl, defaultPattern);
  if (parts === undefined) return { ok: false, message: `mux: unbalanced braces in ${JSON.stringify(tpl)}` };
  let source = '';
  for (const v of parts.vars) {
    if (v.name === '' || v.pattern === '')
      return { ok: false, message: `mux: missing name or pattern in ${JSON.stringify(v.text)}` };
    // gorilla compiles each variable's pattern alone too: `a)(b` is refused, not glued into `(?:a)(b)`.
    const alone = compileRe2(`^${v.pattern}$`);
    if (!alone.ok) return { ok: false, message: `${alone.message} in ${JSON.stringify(v.pattern)}` };
    source += `${quoteMeta(v.raw)}(?:${v.pattern})`;
  }
  source += quoteMeta(parts.tail);
  return { ok: true, source, hasVars: parts.vars.length > 0 };
}
