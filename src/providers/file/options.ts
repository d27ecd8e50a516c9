import type { InlineDynamic, RuleChecker, StaticConfig } from '../../config/index.ts';
import { enabledInternalServices, listenedEntryPoints } from '../../config/static/admin-entry-points.ts';
import type { FileProviderOptions } from './file-provider.ts';

/**
 * The file provider that a static configuration asks for: `providers.file`, plus the static file
 * itself when it holds dynamic sections. Undefined when neither is there.
 */
export function fileProviderOptions(
  config: StaticConfig,
  inline: InlineDynamic | undefined,
  extra: {
    readonly checkRule?: RuleChecker;
    readonly checkBreakerExpression?: RuleChecker;
    readonly debounceMs?: number;
  } = {},
): FileProviderOptions | undefined {
  const fp = config.providers.file;
  if (fp === undefined && inline === undefined) return undefined;
  return {
    watch: fp?.watch ?? true,
    // Admin entry points too: a router may share them with the API (the API answers its own paths).
    entryPoints: listenedEntryPoints(config).map(([n]) => n),
    internalServices: enabledInternalServices(config),
    ...(fp?.filename !== undefined ? { filename: fp.filename } : {}),
    ...(fp?.directory !== undefined ? { directory: fp.directory } : {}),
    ...(inline !== undefined ? { staticFile: inline.file } : {}),
    ...(extra.checkRule !== undefined ? { checkRule: extra.checkRule } : {}),
    ...(extra.checkBreakerExpression !== undefined
      ? { checkBreakerExpression: extra.checkBreakerExpression }
      : {}),
    ...(extra.debounceMs !== undefined ? { debounceMs: extra.debounceMs } : {}),
  };
}
