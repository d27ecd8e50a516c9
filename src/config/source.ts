import { extname } from 'node:path';
import { loadModule } from '../core/lazy-module.ts';
import { type ConfigIssue, issue, type Place } from './issues.ts';
import { type Locator, parseYaml, type YamlSource } from './yaml-source.ts';

type TomlModule = typeof import('./toml-source.ts');
type TemplateModule = typeof import('./template/index.ts');

/** The TOML parser and the Go template engine are loaded by the first file that needs them. */
const toml = (): TomlModule => loadModule<TomlModule>(import.meta.url, './toml-source.ts');
const template = (): TemplateModule => loadModule<TemplateModule>(import.meta.url, './template/index.ts');

/*
 * One configuration file, read as Traefik reads it: `.toml` as TOML, anything else as YAML, and
 * (file provider files only) run as a Go template first. Positions in issues and from the
 * locator are always in the file as written, also when the template changed its lines.
 */

export interface SourceOptions {
  /** Run the text as a Go template first (Traefik does it for file-provider files only). */
  readonly template?: boolean;
  /** What `env` sees in templates; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Given what the template rendered (the text itself when it has no action), on success. */
  readonly onRendered?: (text: string) => void;
}

export function isToml(file: string): boolean {
  return extname(file).toLowerCase() === '.toml';
}

export function parseConfigText(text: string, file: string, opts: SourceOptions = {}): YamlSource {
  const parse = (t: string) => (isToml(file) ? toml().parseToml(t, file) : parseYaml(t, file));
  if (opts.template !== true) return parse(text);
  if (!text.includes('{{')) {
    opts.onRendered?.(text);
    return parse(text);
  }
  const srcLines = lineStarts(text);
  const { renderTemplate, TemplateError } = template();
  let rendered: ReturnType<typeof renderTemplate>;
  try {
    rendered = renderTemplate(text, opts.env ?? process.env);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    const where = place(file, srcLines, err.offset);
    const issues: ConfigIssue[] = [issue('error', `template: ${err.message}`, [], where)];
    return { file, data: undefined, issues, locate: () => ({ file, exact: false }) };
  }
  opts.onRendered?.(rendered.text);
  const src = parse(rendered.text);
  const outLines = lineStarts(rendered.text);
  /** A position in the rendered text → the same place in the file. */
  const back = (p: Place): Place => {
    if (p.line === undefined) return p;
    const offset = (outLines[p.line - 1] ?? 0) + (p.col ?? 1) - 1;
    return place(file, srcLines, rendered.sourceOffset(offset));
  };
  const issues = src.issues.map((i) => ({ ...i, ...back(i) }));
  const locate: Locator = (path, target, offset) => {
    const at = src.locate(path, target, offset);
    return { ...at, ...back(at) };
  };
  return { file, data: src.data, issues, locate };
}

function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) out.push(i + 1);
  return out;
}

function place(file: string, starts: readonly number[], offset: number): Place {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { file, line: lo + 1, col: offset - starts[lo]! + 1 };
}
