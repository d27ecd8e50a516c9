import { type ConfigIssue, sortIssues } from '../issues.ts';
import type { Locator } from '../yaml-source.ts';
import { type DisabledObject, objectAt } from './disabled.ts';
import { type DynamicSource, mergeDynamic } from './merge.ts';
import { parseDynamic } from './parse.ts';
import type { DynamicConfig } from './schema.ts';
import { type ValidateOptions, validateDynamic } from './validate.ts';

/** The text of one file of a provider. */
export interface DynamicText {
  readonly file: string;
  readonly text: string;
  /** The static file, read by the file provider: only its dynamic sections are read. */
  readonly embedded?: boolean;
}

export interface LoadedDynamic {
  /**
   * Undefined when the files cannot be applied at all (a file that cannot be parsed, two files
   * giving one TLS options set or store different contents); otherwise the usable part.
   */
  readonly config: DynamicConfig | undefined;
  readonly issues: ConfigIssue[];
  /** Maps a path of the merged configuration to its file and position (when it was merged). */
  readonly locate?: Locator;
  /** Objects left out of `config` because of errors (names as written, not qualified). */
  readonly disabled: readonly DisabledObject[];
}

/**
 * Parse every file, merge them as one provider, check cross-references. A faulty object is left
 * out with everything that needs it. A file that cannot be parsed at all (its template, its
 * syntax, a section that is not a map) rejects the update whole, as Traefik's file provider does
 * (pkg/provider/file/file.go loadFileConfigFromDirectory returns the first file's error, and the
 * watcher sends nothing: the provider's previous configuration stays); the other files are still
 * parsed and checked, for their issues.
 */
export function loadDynamic(
  texts: readonly DynamicText[],
  opts: Omit<ValidateOptions, 'locate' | 'disabled'> = {},
  /** Given each file-provider file's rendered Go template (debugLogGeneratedTemplate). */
  onRendered?: (file: string, text: string) => void,
): LoadedDynamic {
  const issues: ConfigIssue[] = [];
  const sources: DynamicSource[] = [];
  let unparsed = false;
  for (const t of texts) {
    const parsed = parseDynamic(t.text, t.file, {
      embedded: t.embedded ?? false,
      ...(onRendered === undefined ? {} : { onRendered: (text: string) => onRendered(t.file, text) }),
    });
    issues.push(...parsed.issues);
    if (parsed.config === undefined) unparsed = true;
    else
      sources.push({ file: t.file, config: parsed.config, locate: parsed.locate, disabled: parsed.disabled });
  }
  const merged = mergeDynamic(sources);
  issues.push(...merged.issues);
  const validated = validateDynamic(merged.config, {
    ...opts,
    locate: merged.locate,
    disabled: merged.disabled,
  });
  issues.push(...validated.issues);
  // What cannot be left out object by object keeps the provider's last good configuration whole.
  const whole =
    unparsed || merged.issues.some((i) => i.severity === 'error' && objectAt(i.path) === undefined);
  return {
    config: whole ? undefined : validated.config,
    issues: sortIssues(issues),
    locate: merged.locate,
    disabled: validated.disabled,
  };
}
