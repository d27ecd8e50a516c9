import { type ConfigIssue, issue, sortIssues } from '../issues.ts';
import type { Locator } from '../yaml-source.ts';
import { type DisabledObject, objectAt } from './disabled.ts';
import { type DynamicSource, mergeDynamic } from './merge.ts';
import { parseDynamic } from './parse.ts';
import { type DynamicConfig, HTTP_SECTIONS } from './schema.ts';
import { type ValidateOptions, validateDynamic } from './validate.ts';

/** The text of one file of a provider. */
export interface DynamicText {
  readonly file: string;
  readonly text: string;
  /** The static file, read by the file provider: only its dynamic sections are read. */
  readonly embedded?: boolean;
  /**
   * The file's last text that could be read (not rejected whole): served instead of `text` when
   * `text` cannot be parsed at all, until the file is fixed.
   */
  readonly lastGood?: string;
}

export interface LoadedDynamic {
  /**
   * Undefined when the files cannot be applied at all (two files give one TLS options set or
   * store different contents); otherwise the usable part of the configuration.
   */
  readonly config: DynamicConfig | undefined;
  readonly issues: ConfigIssue[];
  /** Maps a path of the merged configuration to its file and position (when it was merged). */
  readonly locate?: Locator;
  /** Objects left out of `config` because of errors (names as written, not qualified). */
  readonly disabled: readonly DisabledObject[];
  /** Files whose current text was read (they may still hold faulty objects). */
  readonly readable: readonly string[];
  /** Files rejected whole whose last good text serves instead. */
  readonly stale: readonly string[];
}

/**
 * Parse every file, merge them as one provider, check cross-references. A faulty object is left
 * out with everything that needs it; a file that cannot be parsed at all serves its last good
 * version when there is one (Traefik drops that file's objects; so do we on a first load).
 */
export function loadDynamic(
  texts: readonly DynamicText[],
  opts: Omit<ValidateOptions, 'locate' | 'disabled'> = {},
  /** Given each file-provider file's rendered Go template (debugLogGeneratedTemplate). */
  onRendered?: (file: string, text: string) => void,
): LoadedDynamic {
  const issues: ConfigIssue[] = [];
  const sources: DynamicSource[] = [];
  const readable: string[] = [];
  const stale: string[] = [];
  for (const t of texts) {
    const embedded = t.embedded ?? false;
    let parsed = parseDynamic(t.text, t.file, {
      embedded,
      ...(onRendered === undefined ? {} : { onRendered: (text: string) => onRendered(t.file, text) }),
    });
    issues.push(...parsed.issues);
    if (parsed.config !== undefined) readable.push(t.file);
    else if (t.lastGood !== undefined) {
      const previous = parseDynamic(t.lastGood, t.file, { embedded });
      if (previous.config !== undefined) {
        parsed = previous;
        stale.push(t.file);
        const message =
          'the file cannot be read as it is now: its last good version keeps serving until it is fixed';
        issues.push(issue('warning', message, [], { file: t.file }));
      }
    }
    if (parsed.config !== undefined) {
      sources.push({ file: t.file, config: parsed.config, locate: parsed.locate, disabled: parsed.disabled });
    }
  }
  const merged = mergeDynamic(sources);
  issues.push(...merged.issues);
  const validated = validateDynamic(merged.config, {
    ...opts,
    locate: merged.locate,
    disabled: merged.disabled,
  });
  issues.push(...validated.issues);
  const disabled: DisabledObject[] = merged.disabled.map((r) => ({
    ...(r.kind === undefined ? {} : { kind: r.kind }),
    section: r.section,
    name: r.name,
    parsed: r.parsed ?? false,
    value: r.value,
  }));
  for (const section of HTTP_SECTIONS) {
    const kept = validated.config.http[section];
    for (const [name, value] of Object.entries(merged.config.http[section])) {
      if (!Object.hasOwn(kept, name)) disabled.push({ section, name, parsed: true, value });
    }
  }
  // Layer 4 objects validation left out (a reference to nothing, a bad rule), for the admin API.
  for (const kind of ['tcp', 'udp'] as const) {
    const before = merged.config[kind] as Record<string, Record<string, unknown>> | undefined;
    const after = validated.config[kind] as Record<string, Record<string, unknown>> | undefined;
    for (const section of HTTP_SECTIONS) {
      for (const [name, value] of Object.entries(before?.[section] ?? {})) {
        if (!Object.hasOwn(after?.[section] ?? {}, name))
          disabled.push({ kind, section, name, parsed: true, value });
      }
    }
  }
  // What cannot be left out object by object keeps the provider's last good configuration whole.
  const whole = merged.issues.some((i) => i.severity === 'error' && objectAt(i.path) === undefined);
  return {
    config: whole ? undefined : validated.config,
    issues: sortIssues(issues),
    locate: merged.locate,
    disabled,
    readable,
    stale,
  };
}
