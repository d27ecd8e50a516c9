import { loadDynamic } from '../../config/dynamic/load.ts';
import { sortIssues } from '../../config/issues.ts';
import type { ProviderUpdate } from '../provider.ts';
import {
  type FileSources,
  type FileValidation,
  type LoadedUpdate,
  type ReadResult,
  readSources,
} from './read-sources.ts';

/*
 * Parsing and validating what read-sources.ts read: loads `zod` and `yaml`. The serving process
 * runs this in the configuration process (config-process/); `traffic validate` and tests here.
 */

/** Reads, parses, merges and validates: the provider's update for the files as they are now. */
export function loadSources(src: FileSources, validation: FileValidation): ProviderUpdate {
  const read = readSources(src);
  return updateFrom(read, validation);
}

export function updateFrom(read: ReadResult, validation: FileValidation): LoadedUpdate {
  const opts = {
    provider: 'file',
    ...(validation.checkRule ? { checkRule: validation.checkRule } : {}),
    ...(validation.defaultRuleSyntax ? { defaultRuleSyntax: validation.defaultRuleSyntax } : {}),
    ...(validation.checkBreakerExpression
      ? { checkBreakerExpression: validation.checkBreakerExpression }
      : {}),
    ...(validation.entryPoints ? { entryPoints: validation.entryPoints } : {}),
    ...(validation.internalServices ? { internalServices: validation.internalServices } : {}),
    ...(validation.certResolvers ? { certResolvers: validation.certResolvers } : {}),
    ...(validation.knownProviders ? { knownProviders: validation.knownProviders } : {}),
  };
  const rendered: { file: string; text: string }[] = [];
  const loaded = loadDynamic(
    read.texts,
    opts,
    validation.debugLogGeneratedTemplate === true ? (file, text) => rendered.push({ file, text }) : undefined,
  );
  const files = rendered.length > 0 ? { rendered } : {};
  // A file or folder that cannot be read or parsed: the provider's last good configuration stays.
  if (read.issues.length > 0 || loaded.config === undefined) {
    return { config: undefined, issues: sortIssues([...read.issues, ...loaded.issues]), ...files };
  }
  return {
    config: loaded.config,
    issues: loaded.issues,
    disabled: loaded.disabled,
    ...(loaded.locate === undefined ? {} : { locate: loaded.locate }),
    ...files,
  };
}
