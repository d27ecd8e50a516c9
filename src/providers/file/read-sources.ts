import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { DynamicText } from '../../config/dynamic/load.ts';
import type { RuleChecker } from '../../config/dynamic/validate.ts';
import type { ConfigIssue } from '../../config/issues.ts';
import type { ProviderUpdate } from '../provider.ts';

/** Which files make up the file provider's configuration. */
export interface FileSources {
  readonly filename?: string;
  readonly directory?: string;
  /**
   * The static file. It is read only when `filename` names it or it lies in `directory`, and
   * then only its dynamic sections (`http:` …): Traefik reads the static file's dynamic sections
   * only through its file provider, as it reads any dynamic file.
   */
  readonly staticFile?: string;
}

export interface FileValidation {
  readonly checkRule?: RuleChecker;
  /** The syntax of routers without `ruleSyntax` (ValidateOptions.defaultRuleSyntax). */
  readonly defaultRuleSyntax?: string;
  readonly checkBreakerExpression?: RuleChecker;
  /** Entry points a router may name (the static configuration's). */
  readonly entryPoints?: readonly string[];
  /** Internal services a router may name (`api` for `api@internal`). */
  readonly internalServices?: ReadonlySet<string>;
  /** Certificate resolvers a router may name (the static configuration's). */
  readonly certResolvers?: readonly string[];
  /** The other providers of the process, whose objects may be named `x@<provider>`. */
  readonly knownProviders?: readonly string[];
  /** `debugLogGeneratedTemplate`: the update carries what each file's template rendered. */
  readonly debugLogGeneratedTemplate?: boolean;
}

/** Traefik reads `.yml`, `.yaml` and `.toml` files from the directory. */
const YAML_FILE = /\.(ya?ml|toml)$/i;

export interface ReadResult {
  readonly texts: DynamicText[];
  /** Files or folders that could not be read: the configuration is then rejected whole. */
  readonly issues: ConfigIssue[];
}

/** What one read of the files found. */
export interface ScannedSources extends ReadResult {
  /**
   * A file the folder listed was gone by the time it was read: the folder changed during the
   * read (a deploy replacing it, `rm -r`), so this is not one consistent view of it. The watch
   * loop does not apply it and reads again a debounce later (file-provider.ts).
   */
  readonly torn: boolean;
}

/*
 * Reading the provider's files, without parsing them: the serving process reads, the
 * configuration process parses and validates (validate-sources.ts, config-process/).
 */

/**
 * Reads every file of the provider. Synchronous on purpose: these are small files read on start
 * and on change, never on the request path, and one read of all of them is one consistent view.
 */
export function readSources(src: FileSources): ScannedSources {
  const texts: DynamicText[] = [];
  const issues: ConfigIssue[] = [];
  let torn = false;
  const read = (file: string, embedded: boolean, listed = false): void => {
    try {
      texts.push({ file, text: readFileSync(file, 'utf8'), embedded });
    } catch (err) {
      // Listed a moment ago and gone now: removed during this read, not a file that is missing.
      if (listed && codeOf(err) === 'ENOENT') torn = true;
      else
        issues.push({ severity: 'error', message: `cannot read the file (${reason(err)})`, path: [], file });
    }
  };
  const own = src.staticFile === undefined ? undefined : resolve(src.staticFile);
  const isStatic = (file: string): boolean => own !== undefined && resolve(file) === own;
  if (src.filename !== undefined) read(src.filename, isStatic(src.filename));
  // The folder and its subfolders, each in name order, a subfolder read at its place among the
  // files: Traefik's loadFileConfigFromDirectory (pkg/provider/file/file.go) recurses into every
  // entry os.ReadDir lists as a directory (not a symlink to one), whatever its name, and reads
  // every other entry whose extension is one of its own (isFileSupported): hidden ones too.
  const readDirectory = (dir: string): void => {
    let names: string[] = [];
    try {
      names = readdirSync(dir).sort();
    } catch (err) {
      issues.push({
        severity: 'error',
        message: `cannot read the directory (${reason(err)})`,
        path: [],
        file: dir,
      });
    }
    for (const n of names) {
      const file = join(dir, n);
      if (isDirectory(file)) {
        readDirectory(file);
        continue;
      }
      if (!YAML_FILE.test(n)) continue;
      const kind = fileKind(file);
      if (kind === 'file') read(file, isStatic(file), true);
      else if (kind === 'gone') torn = true;
    }
  };
  if (src.directory !== undefined) readDirectory(src.directory);
  return { texts, issues, torn };
}

/** An update, and with `debugLogGeneratedTemplate` what the templates rendered. */
export interface LoadedUpdate extends ProviderUpdate {
  /** With `debugLogGeneratedTemplate`: each file's text as its Go template rendered it. */
  readonly rendered?: readonly { readonly file: string; readonly text: string }[];
}

/** The folders to watch, and which names in each matter (undefined = every YAML file). */
export function watchTargets(src: FileSources): Map<string, Set<string> | undefined> {
  const targets = new Map<string, Set<string> | undefined>();
  const addFile = (file: string): void => {
    const dir = dirname(file);
    if (targets.has(dir) && targets.get(dir) === undefined) return;
    const names = targets.get(dir) ?? new Set<string>();
    names.add(basename(file));
    targets.set(dir, names);
  };
  if (src.filename !== undefined) addFile(src.filename);
  if (src.directory !== undefined) targets.set(src.directory, undefined);
  return targets;
}

/** A real folder (not a symlink to one, as Go's os.ReadDir entries' IsDir). */
function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A listed name is a file, something else (a folder, a symlink to nothing: skipped, as always),
 * or gone since the listing (the name itself, not only what a symlink points to).
 */
function fileKind(path: string): 'file' | 'other' | 'gone' {
  try {
    return statSync(path).isFile() ? 'file' : 'other';
  } catch {
    try {
      lstatSync(path);
      return 'other';
    } catch (err) {
      return codeOf(err) === 'ENOENT' ? 'gone' : 'other';
    }
  }
}

function codeOf(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

function reason(err: unknown): string {
  const code = codeOf(err);
  if (typeof code === 'string') return code === 'ENOENT' ? 'ENOENT: it does not exist' : code;
  return err instanceof Error ? err.message : String(err);
}
