import { type ConfigIssue, sortIssues } from '../issues.ts';
import type { Locator } from '../yaml-source.ts';
import { type DynamicSource, mergeDynamic } from './merge.ts';
import { parseDynamic } from './parse.ts';
import type { DynamicConfig } from './schema.ts';
import { type ValidateOptions, validateDynamic } from './validate.ts';

/** The text of one file of a provider. */
export interface DynamicText {
  readonly file: string;
  readonly text: string;
  /** The static file: only its dynamic sections are read. */
  readonly embedded?: boolean;
}

export interface LoadedDynamic {
  /** Undefined when some file is rejected whole; otherwise the usable part of the configuration. */
  readonly config: DynamicConfig | undefined;
  readonly issues: ConfigIssue[];
  /** Maps a path of the merged configuration to its file and position (when it was merged). */
  readonly locate?: Locator;
}

/** Parse every file, merge them as one provider, check cross-references. */
export function loadDynamic(
  texts: readonly DynamicText[],
  opts: Omit<ValidateOptions, 'locate' | 'disabled'> = {},
): LoadedDynamic {
  const issues: ConfigIssue[] = [];
  const sources: DynamicSource[] = [];
  let rejected = false;
  for (const t of texts) {
    const parsed = parseDynamic(t.text, t.file, { embedded: t.embedded ?? false });
    issues.push(...parsed.issues);
    if (parsed.config === undefined) rejected = true;
    else
      sources.push({ file: t.file, config: parsed.config, locate: parsed.locate, disabled: parsed.disabled });
  }
  // Cross-reference errors would only echo what the rejected file failed to define.
  if (rejected) return { config: undefined, issues: sortIssues(issues) };
  const merged = mergeDynamic(sources);
  issues.push(...merged.issues);
  const validated = validateDynamic(merged.config, {
    ...opts,
    locate: merged.locate,
    disabled: merged.disabled,
  });
  issues.push(...validated.issues);
  return { config: validated.config, issues: sortIssues(issues), locate: merged.locate };
}
